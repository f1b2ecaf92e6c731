"""Engineers' texts to the support number (contract §3), delivered as Twilio delivers them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phonesim import FlaskClientTransport, send_sms
from tickets.models import Notification, Ticket
from tickets.records import open_ticket
from tickets.service import reopen_ticket
from core.calendar import business_calendar
from tickets.sla import Severity
from tests.support import AUTH_TOKEN, PRIYA, PUBLIC_BASE, SUPPORT_NUMBER, TOM, Team

CUSTOMER = "+12125550147"


@pytest.fixture
def text(client):
    """Send a text to the line; returns (status, reply texts)."""

    def send(body: str, sender: str = PRIYA) -> tuple[int, list[str]]:
        return send_sms(sms_url=f"{PUBLIC_BASE}/sms", auth_token=AUTH_TOKEN, transport=FlaskClientTransport(client),
                        from_number=sender, to_number=SUPPORT_NUMBER, body=body)

    return send


@pytest.fixture
def ticket(session: Session, clock, team: Team) -> Ticket:
    t = open_ticket(session, severity=Severity.HIGH, source="phone", now=clock.now,
                    calendar=business_calendar("America/New_York", "US"), caller_number=CUSTOMER,
                    callback_number=CUSTOMER)
    session.commit()
    return t


def reload(session: Session, ticket: Ticket) -> Ticket:
    session.commit()
    session.expire_all()
    return session.get(Ticket, ticket.id)


@pytest.mark.parametrize("body", ["ACK 10001", "ack 10001", "  Ack   10001  ", "#ACK 10001", "ack #10001"])
def test_ack_is_the_first_response_whatever_the_spelling(text, session: Session, ticket: Ticket, body: str) -> None:
    status, replies = text(body)
    assert status == 200 and replies == ["Ticket 10001 acknowledged. Thanks, Priya."]
    ticket = reload(session, ticket)
    assert ticket.status == "acknowledged" and ticket.responded_by == "Priya Raman"


def test_a_second_ack_says_who_answered_first(text, session: Session, ticket: Ticket) -> None:
    text("ACK 10001")
    _, replies = text("ACK 10001", sender=TOM)
    assert replies == ["Ticket 10001 was already acknowledged by Priya Raman at Wed 25 Nov 10:00 PM EST."]
    assert reload(session, ticket).responded_by == "Priya Raman"


def test_resolve_resolves_and_counts_as_the_first_response(text, session: Session, ticket: Ticket, clock) -> None:
    _, replies = text("resolve 10001", sender=TOM)
    assert replies == ["Ticket 10001 resolved."]
    ticket = reload(session, ticket)
    assert ticket.status == "resolved" and ticket.resolved_at == clock.now
    assert ticket.first_response_at == clock.now and ticket.responded_by == "Tom Berg"
    assert text("RESOLVE 10001")[1] == ["Ticket 10001 is already resolved."]


def test_ack_and_resolve_by_sms_leave_the_timeline_the_ticket_page_leaves(text, session: Session,
                                                                          ticket: Ticket) -> None:
    text("ACK 10001")
    text("RESOLVE 10001")
    kinds = [(e.kind, e.detail) for e in reload(session, ticket).events if e.kind != "created"]
    assert kinds[-3:] == [
        ("first_response", "Priya Raman acknowledged it by SMS"),
        ("acknowledged", "open → acknowledged by Priya Raman"),
        ("resolved", "acknowledged → resolved by Priya Raman"),
    ]


def test_ack_on_a_reopened_ticket_acknowledges_it_again_and_keeps_the_first_response(
        text, session: Session, ticket: Ticket, clock) -> None:
    text("RESOLVE 10001", sender=TOM)
    reopen_ticket(session, "10001", now=clock.now, actor="admin:ana")
    _, replies = text("ACK 10001")
    assert replies == ["Ticket 10001 acknowledged. Thanks, Priya."]
    ticket = reload(session, ticket)
    assert ticket.status == "acknowledged" and ticket.responded_by == "Tom Berg"


def test_oncall_says_who_is_on_duty_until_when_and_who_is_next(text, team: Team) -> None:
    _, replies = text("oncall")
    assert replies == [f"On duty: Priya Raman ({PRIYA}) until Mon 30 Nov 9:00 AM EST. Next: Tom Berg."]


def test_call_queues_an_engineer_callback_to_the_sender(text, session: Session, ticket: Ticket) -> None:
    _, replies = text("CALL 10001", sender=TOM)
    assert replies == [f"Callback queued: the line rings you in a moment, then connects you to {CUSTOMER} for ticket 10001."]
    session.commit()
    callback = session.scalar(select(Notification).where(Notification.kind == "callback"))
    assert (callback.to_number, callback.channel, callback.status) == (TOM, "call", "pending")


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("ACK 99999", "There is no ticket 99999."),
        ("ACK 1" + "0" * 11, "There is no ticket 100000000000."),
        ("ack ten", "Sorry, I didn't understand that."),
        ("hello", "Sorry, I didn't understand that."),
        ("", "Sorry, I didn't understand that."),
        ("ACK 10001; DROP TABLE tickets", "Sorry, I didn't understand that."),
    ],
)
def test_bad_commands_get_a_clear_reply_and_change_nothing(text, session: Session, ticket: Ticket, body: str,
                                                           reply: str) -> None:
    _, replies = text(body)
    assert len(replies) == 1 and replies[0].startswith(reply)
    assert reload(session, ticket).status == "open"


@pytest.mark.parametrize("stranger", ["+12125559999", "anonymous", "not a number"])
def test_a_stranger_gets_a_polite_refusal_and_nothing_changes(text, session: Session, ticket: Ticket,
                                                             stranger: str) -> None:
    _, replies = text("RESOLVE 10001", sender=stranger)
    assert replies == ["Sorry, this number is not on the support team, so it cannot send commands. "
                       "To report a problem, please call this number."]
    assert reload(session, ticket).status == "open"
    assert session.scalar(select(func.count()).select_from(Notification)) == 0


def test_an_inactive_contact_is_a_stranger(text, session: Session, ticket: Ticket, team: Team) -> None:
    team.tom.active = False
    session.commit()
    assert text("ACK 10001", sender=TOM)[1][0].startswith("Sorry, this number is not on the support team")


def test_an_unsigned_text_is_refused(client, session: Session, ticket: Ticket) -> None:
    response = client.post("/sms", data={"From": PRIYA, "Body": "RESOLVE 10001"}, base_url=PUBLIC_BASE)
    assert response.status_code == 403
    assert reload(session, ticket).status == "open"


def test_a_call_text_delivered_twice_rings_the_engineer_once(client, session: Session, ticket: Ticket) -> None:
    from twilio.request_validator import RequestValidator

    params = {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": TOM, "To": SUPPORT_NUMBER,
              "Body": "CALL 10001"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_BASE}/sms", params)
    replies = [client.post("/sms", data=params, base_url=PUBLIC_BASE, headers={"X-Twilio-Signature": signature}).text
               for _ in range(2)]
    assert "Callback queued" in replies[0] and "<Message>" not in replies[1], "the copy is not answered again"
    session.commit()
    assert session.scalar(select(func.count()).select_from(Notification)) == 1


def _signed_text(client, body: str, sid: str, sender: str = TOM):
    from twilio.request_validator import RequestValidator

    params = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": SUPPORT_NUMBER, "Body": body}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_BASE}/sms", params)
    return client.post("/sms", data=params, base_url=PUBLIC_BASE, headers={"X-Twilio-Signature": signature})


def test_a_replayed_text_is_carried_out_once_even_after_the_ticket_changed(client, session: Session, ticket: Ticket,
                                                                            clock) -> None:
    resolved = _signed_text(client, "RESOLVE 10001", "SM" + "2" * 32)
    assert "Ticket 10001 resolved." in resolved.text
    reopen_ticket(session, "10001", now=clock.now, actor="admin:ana")
    replayed = _signed_text(client, "RESOLVE 10001", "SM" + "2" * 32)
    assert replayed.status_code == 200 and "<Message>" not in replayed.text
    assert reload(session, ticket).status == "open", "the reopened ticket stays open"
    again = _signed_text(client, "RESOLVE 10001", "SM" + "3" * 32)
    assert "Ticket 10001 resolved." in again.text, "a new text with the same words is a new command"


def test_call_on_a_resolved_ticket_is_refused(text, session: Session, ticket: Ticket) -> None:
    text("RESOLVE 10001")
    _, replies = text("CALL 10001", sender=TOM)
    assert replies[0].startswith("Not calling: ticket 10001 is resolved")
    assert session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "callback")) == 0


def test_call_on_a_ticket_without_a_callback_number_says_so(text, session: Session, clock, team: Team) -> None:
    open_ticket(session, severity=Severity.LOW, source="api", now=clock.now,
                calendar=business_calendar("America/New_York", "US"))
    session.commit()
    _, replies = text("CALL 10001")
    assert replies == ["Not calling: ticket 10001 has no callback number, so there is nobody to call back."]
