"""Engineer callbacks: the worker rings the engineer, who presses 1 to reach the customer."""

from __future__ import annotations

from urllib.parse import parse_qs

import responses
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.models import CallLog
from phonesim import FlaskClientTransport, ScriptedCaller, place_call
from tickets import notify
from tickets.models import Notification, Ticket
from tickets.outbox import TwilioSender, send_due
from tickets.records import open_ticket
from core.calendar import business_calendar
from tickets.sla import Severity
from staff.tokens import issue_api_token
from tests.support import AUTH_TOKEN, PRIYA, PUBLIC_BASE, SUPPORT_NUMBER, Team

CUSTOMER = "+12125550147"
ACCOUNT = "AC" + "1" * 32
CALLS = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls.json"


def a_ticket(session: Session, clock, callback: str | None = CUSTOMER) -> Ticket:
    ticket = open_ticket(session, severity=Severity.CRITICAL, source="phone", now=clock.now,
                         calendar=business_calendar("America/New_York", "US"), caller_number=CUSTOMER,
                         callback_number=callback)
    session.commit()
    return ticket


@responses.activate
def test_the_worker_places_the_callback_call_with_the_exact_request(session: Session, team: Team, clock) -> None:
    ticket = a_ticket(session, clock)
    notification = notify.callback(session, ticket, PRIYA, "Priya Raman", clock.now)
    session.commit()
    responses.add(responses.POST, CALLS, json={"sid": "CA" + "d" * 32}, status=201)
    sender = TwilioSender(ACCOUNT, "token", SUPPORT_NUMBER)
    assert send_due(session, sender, clock.now, call_url=f"{PUBLIC_BASE}/ivr/engineer-callback",
                    call_status_url=f"{PUBLIC_BASE}/ivr/engineer-callback/status") == 1
    sent = {k: v[0] for k, v in parse_qs(responses.calls[0].request.body).items()}
    assert sent == {
        "To": PRIYA, "From": SUPPORT_NUMBER, "Method": "POST",
        "Url": f"{PUBLIC_BASE}/ivr/engineer-callback?notification={notification.id}",
        "StatusCallback": f"{PUBLIC_BASE}/ivr/engineer-callback/status?notification={notification.id}",
        "StatusCallbackMethod": "POST",
    }
    session.refresh(notification)
    assert notification.status == "sent" and notification.provider_sid == "CA" + "d" * 32
    assert notification.channel == "call" and notification.kind == "callback"


def ring_engineer(client, notification: Notification, keys: list[str], customer: str) -> object:
    return place_call(
        voice_url=f"{PUBLIC_BASE}/ivr/engineer-callback?notification={notification.id}",
        status_callback_url=f"{PUBLIC_BASE}/ivr/engineer-callback/status?notification={notification.id}",
        auth_token=AUTH_TOKEN,
        transport=FlaskClientTransport(client), caller=ScriptedCaller(keys), engineers=[customer],
        from_number=SUPPORT_NUMBER, to_number=PRIYA,
    )


def test_a_connected_callback_is_the_first_response_and_both_legs_are_logged(client, session: Session, team: Team,
                                                                          clock) -> None:
    ticket = a_ticket(session, clock)
    notification = notify.callback(session, ticket, PRIYA, "Priya Raman", clock.now)
    session.commit()
    clock.advance(minutes=3)
    record = ring_engineer(client, notification, ["1"], "accept")

    assert "Support callback for critical ticket 1 0 0 0 1. Press 1 to call the customer now." in record.heard
    assert [d.number for d in record.dials] == [CUSTOMER]
    assert f'callerId="{SUPPORT_NUMBER}"' in [r.body for r in record.requests if "answer" in r.url][0]
    session.expire_all()
    ticket = session.get(Ticket, ticket.id)
    assert ticket.first_response_at == clock.now and ticket.responded_by == "Priya Raman"
    call = session.scalar(select(CallLog).where(CallLog.call_sid == record.call_sid))
    assert call.outcome == "connected" and call.ticket_id == ticket.id and call.ended_at is not None
    assert [e.kind for e in call.events] == ["callback_started", "dial", "dial_result", "status"]
    assert "DialCallSid=" in call.events[2].detail
    token = issue_api_token(session, "tests", clock.now)
    shown = client.get(f"/api/calls/{record.call_sid}", headers={"Authorization": f"Bearer {token}"}).json
    assert shown["answered_by"] == {"id": None, "name": "the customer", "phone": CUSTOMER}


def test_an_unanswered_callback_is_noted_and_is_not_a_response(client, session: Session, team: Team, clock) -> None:
    ticket = a_ticket(session, clock)
    notification = notify.callback(session, ticket, PRIYA, "Priya Raman", clock.now)
    session.commit()
    record = ring_engineer(client, notification, ["1"], "no-answer")
    assert "The customer did not answer." in " ".join(record.heard)
    session.expire_all()
    ticket = session.get(Ticket, ticket.id)
    assert ticket.first_response_at is None
    assert "callback_unanswered" in [e.kind for e in ticket.events]
    assert session.scalar(select(CallLog.outcome).where(CallLog.call_sid == record.call_sid)) == "missed"


def test_an_engineer_who_does_not_press_1_cancels_the_callback(client, session: Session, team: Team, clock) -> None:
    ticket = a_ticket(session, clock)
    notification = notify.callback(session, ticket, PRIYA, "Priya Raman", clock.now)
    session.commit()
    record = ring_engineer(client, notification, ["9"], "accept")
    assert record.dials == [] and "The callback is cancelled" in " ".join(record.heard)


def test_a_callback_for_an_unknown_request_says_so_and_hangs_up(client, session: Session) -> None:
    record = place_call(voice_url=f"{PUBLIC_BASE}/ivr/engineer-callback?notification=999999",
                        status_callback_url=None, auth_token=AUTH_TOKEN, transport=FlaskClientTransport(client),
                        caller=ScriptedCaller([]), from_number=SUPPORT_NUMBER, to_number=PRIYA)
    assert record.heard == ["This callback is no longer available. Goodbye."] and record.ended_by == "hangup-verb"
    assert session.scalar(select(CallLog)) is None, "nothing is logged for a request that does not exist"


def test_a_callback_the_engineer_never_answers_is_logged_on_the_ticket(client, session: Session, team: Team,
                                                                      clock) -> None:
    from twilio.request_validator import RequestValidator

    ticket = a_ticket(session, clock)
    notification = notify.callback(session, ticket, PRIYA, "Priya Raman", clock.now)
    session.commit()
    url = f"{PUBLIC_BASE}/ivr/engineer-callback/status?notification={notification.id}"
    params = {"CallSid": "CA" + "e" * 32, "CallStatus": "no-answer", "From": SUPPORT_NUMBER, "To": PRIYA,
              "Direction": "outbound-api"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    path = url.removeprefix(PUBLIC_BASE)
    assert client.post(path, data=params, base_url=PUBLIC_BASE, headers={"X-Twilio-Signature": signature}).status_code == 200
    session.expire_all()
    call = session.scalar(select(CallLog))
    assert (call.step, call.outcome, call.ticket_id, call.status) == ("engineer_callback", "missed", ticket.id, "no-answer")
    assert "callback_unanswered" in [e.kind for e in session.get(Ticket, ticket.id).events]
