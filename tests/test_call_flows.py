"""Whole calls, end to end: signed webhooks through the Flask test client, TwiML followed
the way Twilio follows it (`phonesim`), and what the line saved checked afterwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
import responses
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.models import CallLog
from phonesim import HANGUP, SILENCE, CallRecord, FlaskClientTransport, ScriptedCaller, Speech, Voicemail, place_call
from tickets.models import Notification, Ticket
from tests.support import ANA, AUTH_TOKEN, PRIYA, PUBLIC_BASE, TOM, Team, call_params, signed_post

CALLER = "+12125550147"
FALLBACK = "+14155550999"


@pytest.fixture(autouse=True)
def no_outbound_http():
    """Webhooks never talk to Twilio's REST API (or anything else): any HTTP request fails the call."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
    assert len(mock.calls) == 0


@pytest.fixture
def call(client) -> Callable[..., CallRecord]:
    """Place a call: `call("1", "1", "1", engineers=["accept"])`."""

    def place(*answers, engineers=(), from_number: str = CALLER, flask_client=None, **options) -> CallRecord:
        return place_call(
            voice_url=f"{PUBLIC_BASE}/ivr/voice",
            status_callback_url=f"{PUBLIC_BASE}/ivr/status",
            auth_token=AUTH_TOKEN,
            transport=FlaskClientTransport(flask_client or client),
            caller=ScriptedCaller(list(answers)),
            engineers=list(engineers),
            from_number=from_number,
            **options,
        )

    return place


def fresh(session: Session) -> None:
    """End the test session's transaction, so the next query sees what the line committed."""
    session.commit()
    session.expire_all()


def the_ticket(session: Session) -> Ticket:
    fresh(session)
    tickets = session.scalars(select(Ticket)).all()
    assert len(tickets) == 1, f"expected one ticket, found {len(tickets)}"
    return tickets[0]


def the_call(session: Session, record: CallRecord) -> CallLog:
    fresh(session)
    row = session.scalar(select(CallLog).where(CallLog.call_sid == record.call_sid))
    assert row is not None
    return row


def heard(record: CallRecord) -> str:
    return " | ".join(record.heard)


def count(session: Session, model) -> int:
    fresh(session)
    return session.scalar(select(func.count()).select_from(model))


# ----------------------------------------------------------------------------- happy paths


@pytest.mark.parametrize(
    ("key", "severity", "due_after"),
    [
        ("1", "critical", timedelta(hours=2)),
        ("2", "high", timedelta(hours=6)),
        ("3", "normal", timedelta(hours=12)),
        # 03:00 UTC is Wednesday 22:00 in New York; Thursday is Thanksgiving, so the second
        # business day after is Monday: due Monday 22:00 EST.
        ("4", "low", datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc) - datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc)),
    ],
)
def test_a_caller_reports_an_issue_and_reaches_the_engineer_on_duty(
    call, session: Session, team: Team, clock, key: str, severity: str, due_after: timedelta
) -> None:
    record = call("1", key, "1", engineers=["accept"])

    ticket = the_ticket(session)
    assert ticket.number == 10001
    assert ticket.severity == severity and ticket.source == "phone"
    assert ticket.response_due_at == clock.now + due_after
    assert ticket.callback_number == CALLER and ticket.caller_number == CALLER
    assert ticket.first_response_at == clock.now and ticket.responded_by == "Priya Raman"
    assert ticket.status == "acknowledged"
    assert heard(record).count("1 0 0 0 1") >= 2, "the ticket number is read twice, digit by digit"
    assert [d.number for d in record.dials] == [PRIYA]
    assert f"{severity} ticket 1 0 0 0 1" in record.dials[0].whisper
    assert record.dials[0].bridged
    row = the_call(session, record)
    assert row.outcome == "connected" and row.answered_by == f"Priya Raman ({PRIYA})"
    assert row.ticket_id == ticket.id and row.status == "completed" and row.ended_at is not None
    kinds = [e.kind for e in row.events]
    for kind in ("call_started", "keys", "ticket_opened", "routing", "whisper", "dial_result", "status"):
        assert kind in kinds


def test_the_caller_hears_the_deadline_in_the_support_time_zone(call, team: Team) -> None:
    record = call("1", "1", "1", engineers=["accept"])
    # 03:00 UTC + 2 h = 05:00 UTC = midnight in New York.
    assert "within 2 hours, by 12:00 AM on Thursday, November 26, EST." in heard(record)


def test_speech_answers_work_instead_of_keys(call, session: Session, team: Team) -> None:
    call(Speech("new issue"), Speech("it is critical"), Speech("yes"), engineers=["accept"])
    assert the_ticket(session).severity == "critical"


# ----------------------------------------------------------------------------- callback numbers


@pytest.mark.parametrize(
    ("typed", "stored", "read_back"),
    [
        ("4155550123#", "+14155550123", "4 1 5 5 5 5 0 1 2 3"),
        ("14155550123#", "+14155550123", "4 1 5 5 5 5 0 1 2 3"),
        ("011442079460000#", "+442079460000", "plus 4 4 2 0 7 9 4 6 0 0 0 0"),
    ],
)
def test_an_entered_callback_number_is_read_back_and_stored_in_e164(
    call, session: Session, team: Team, typed: str, stored: str, read_back: str
) -> None:
    record = call("1", "2", "2", typed, "1", engineers=["accept"])
    assert f"You entered {read_back}." in heard(record)
    assert the_ticket(session).callback_number == stored


def test_a_caller_can_enter_the_number_again_after_the_read_back(call, session: Session, team: Team) -> None:
    call("1", "2", "2", "4155550123#", "2", "4155550124#", "1", engineers=["accept"])
    assert the_ticket(session).callback_number == "+14155550124"


@pytest.mark.parametrize(
    "withheld", ["anonymous", "restricted", "+266696687", "", "12345", "Unknown", "client:web-widget-visitor-000123"]
)
def test_a_withheld_caller_id_skips_the_offer_and_asks_for_a_number(
    call, session: Session, team: Team, withheld: str
) -> None:
    record = call("1", "3", "4155550123#", "1", engineers=["accept"], from_number=withheld)
    assert "Should we call you back at" not in heard(record)
    assert "Please enter the phone number" in heard(record)
    ticket = the_ticket(session)
    assert ticket.callback_number == "+14155550123"
    assert ticket.caller_number is None, "only a usable caller ID is kept, in E.164"
    assert "from a withheld number" in record.dials[0].whisper
    assert the_call(session, record).from_number == (withheld or None)


def test_withheld_caller_id_and_no_valid_number_still_opens_a_ticket_without_callback(
    call, session: Session, team: Team
) -> None:
    call("1", "3", "12#", SILENCE, "*#", engineers=["accept"], from_number="anonymous")
    ticket = the_ticket(session)
    assert ticket.callback_number is None and ticket.severity == "normal"


# ----------------------------------------------------------------------------- silence and wrong keys


def test_silence_three_times_at_the_main_menu_goes_on_to_a_new_issue(call, session: Session, team: Team) -> None:
    record = call(SILENCE, "7", SILENCE, "2", "1", engineers=["accept"])
    assert heard(record).count("Sorry, I didn't get that.") == 2
    assert "Let's report a new issue." in heard(record)
    assert the_ticket(session).severity == "high"


def test_three_wrong_keys_at_severity_make_the_ticket_normal(call, session: Session, team: Team) -> None:
    record = call("1", "9", SILENCE, "#", "1", engineers=["accept"])
    assert "I'll record this as a normal severity issue." in heard(record)
    assert the_ticket(session).severity == "normal"


def test_three_wrong_keys_at_the_callback_offer_use_the_caller_id(call, session: Session, team: Team) -> None:
    call("1", "1", "5", SILENCE, "0", engineers=["accept"])
    assert the_ticket(session).callback_number == CALLER


def test_three_invalid_numbers_use_the_caller_id(call, session: Session, team: Team) -> None:
    record = call("1", "1", "2", "555#", SILENCE, "99999999999999999999#", engineers=["accept"])
    assert heard(record).count("Sorry, that is not a phone number I can call back.") == 2
    assert the_ticket(session).callback_number == CALLER


def test_three_unclear_answers_at_the_read_back_keep_the_entered_number(call, session: Session, team: Team) -> None:
    call("1", "1", "2", "4155550123#", SILENCE, "8", SILENCE, engineers=["accept"])
    assert the_ticket(session).callback_number == "+14155550123"


# ----------------------------------------------------------------------------- routing


def test_a_refused_whisper_passes_the_call_to_the_backup(call, session: Session, team: Team) -> None:
    record = call("1", "1", "1", engineers=["refuse", "accept"])
    assert [(d.number, d.bridged) for d in record.dials] == [(PRIYA, False), (TOM, True)]
    ticket = the_ticket(session)
    assert ticket.responded_by == "Tom Berg"
    assert the_call(session, record).answered_by == f"Tom Berg ({TOM})"
    assert "Trying the next one" in heard(record)


def test_a_whisper_left_unanswered_counts_as_not_answered(call, session: Session, team: Team) -> None:
    record = call("1", "1", "1", engineers=["silent", "accept"])
    assert [d.number for d in record.dials] == [PRIYA, TOM]
    assert the_ticket(session).responded_by == "Tom Berg"


def test_nobody_answers_then_fallback_then_voicemail_with_recording_and_transcript(
    make_app, session: Session, team: Team, call
) -> None:
    client = make_app(FALLBACK_NUMBER=FALLBACK).test_client()
    record = call(
        "1", "2", "1", Voicemail("Our checkout page returns 502 for every customer", seconds=14),
        engineers=["no-answer", "busy", "no-answer"],
        flask_client=client,
    )
    assert [d.number for d in record.dials] == [PRIYA, TOM, FALLBACK]
    ticket = the_ticket(session)
    assert ticket.recording_url == record.recordings[0].url
    assert ticket.transcript == "Our checkout page returns 502 for every customer"
    assert ticket.first_response_at is None and ticket.status == "open"
    kinds = [e.kind for e in ticket.events]
    assert {"created", "missed_call", "voicemail", "transcript"} <= set(kinds)
    row = the_call(session, record)
    assert row.outcome == "voicemail"
    assert [e.detail.split(": ")[1] for e in row.events if e.kind == "dial_result"] == [
        "DialCallStatus=no-answer, not accepted", "DialCallStatus=busy, not accepted",
        "DialCallStatus=no-answer, not accepted",
    ]
    assert "Your message is on ticket 1 0 0 0 1." in heard(record)


def test_the_fallback_line_answering_connects_the_call(make_app, session: Session, team: Team, call) -> None:
    client = make_app(FALLBACK_NUMBER=FALLBACK).test_client()
    record = call("1", "1", "1", engineers=["no-answer", "no-answer", "accept"], flask_client=client)
    row = the_call(session, record)
    assert row.outcome == "fallback" and row.answered_by == f"the fallback line ({FALLBACK})"
    assert the_ticket(session).first_response_at is None
    from ivr.api import answered_by

    assert answered_by(row) == {"id": None, "name": "the fallback line", "phone": FALLBACK}


def test_the_fallback_lines_own_voicemail_does_not_swallow_the_call(make_app, session: Session, team: Team, call) -> None:
    """A phone answered by its voicemail reports `completed`; only the whisper's key counts."""
    client = make_app(FALLBACK_NUMBER=FALLBACK).test_client()
    record = call("1", "1", "1", Voicemail("the site is down"), engineers=["silent", "no-answer", "silent"],
                  flask_client=client)
    assert "Press 1 to accept the call." in record.dials[2].whisper
    assert [d.dial_call_status for d in record.dials] == ["completed", "no-answer", "completed"]
    assert the_call(session, record).outcome == "voicemail"
    assert the_ticket(session).transcript == "the site is down"


def test_an_empty_rotation_goes_straight_to_voicemail(call, session: Session) -> None:
    record = call("1", "1", "1", Voicemail("Please call me"))
    assert record.dials == []
    assert the_ticket(session).recording_url is not None
    assert the_call(session, record).outcome == "voicemail"


def test_voicemail_with_no_message_still_leaves_the_ticket_open(call, session: Session) -> None:
    record = call("1", "1", "1", SILENCE)
    assert "We did not hear a message" in heard(record)
    assert record.ended_by == "hangup-verb"
    assert the_ticket(session).status == "open"


def test_backups_follow_rotation_order_and_the_backup_count(make_app, session: Session, team: Team, call) -> None:
    team.rotation.backups = 2
    session.commit()
    record = call("1", "1", "1", Voicemail("hello"), engineers=["no-answer", "no-answer", "no-answer"])
    assert [d.number for d in record.dials] == [PRIYA, TOM, ANA]


# ----------------------------------------------------------------------------- ticket status


def test_status_lookup_reads_an_existing_ticket(call, session: Session, team: Team) -> None:
    call("1", "1", "1", engineers=["accept"])
    record = call("2", "10001#", from_number="+12125550000")
    text = heard(record)
    assert "Ticket 1 0 0 0 1 is a critical ticket, and it is acknowledged." in text
    assert "An engineer first responded at" in text
    assert record.ended_by == "hangup-verb"
    assert the_call(session, record).outcome == "status_lookup"
    assert count(session, Ticket) == 1


def test_status_lookup_of_a_missing_ticket_asks_again_then_offers_a_new_one(call, session: Session, team: Team) -> None:
    record = call("2", "55555#", Speech("' OR 1=1 --"), "9" * 20 + "#", "4", "1", engineers=["accept"])
    text = heard(record)
    assert "Sorry, I couldn't find ticket 5 5 5 5 5." in text
    assert "I couldn't find that ticket, so let's open a new one for you." in text
    assert the_ticket(session).severity == "low"


# ----------------------------------------------------------------------------- hanging up


def test_hanging_up_at_the_main_menu_leaves_an_abandoned_call_and_no_ticket(call, session: Session, team: Team) -> None:
    record = call(HANGUP)
    row = the_call(session, record)
    assert row.outcome == "abandoned" and row.ended_at is not None
    assert count(session, Ticket) == 0


def test_hanging_up_at_severity_leaves_no_ticket(call, session: Session, team: Team) -> None:
    record = call("1", HANGUP)
    assert the_call(session, record).outcome == "abandoned"
    assert count(session, Ticket) == 0


@pytest.mark.parametrize(
    ("answers", "callback"),
    [
        (("1", "2", HANGUP), CALLER),
        (("1", "2", "2", HANGUP), CALLER),
        (("1", "2", "2", "4155550123#", HANGUP), "+14155550123"),
    ],
    ids=["at-callback-offer", "at-number-entry", "at-read-back"],
)
def test_a_caller_who_chose_a_severity_and_hung_up_still_leaves_a_ticket(
    call, session: Session, team: Team, answers, callback: str
) -> None:
    record = call(*answers)
    ticket = the_ticket(session)
    assert ticket.severity == "high" and ticket.callback_number == callback
    assert "caller_hung_up" in [e.kind for e in ticket.events]
    row = the_call(session, record)
    assert row.outcome == "abandoned" and row.ticket_id == ticket.id


def test_hanging_up_during_the_voicemail_keeps_the_recording(call, session: Session) -> None:
    record = call("1", "1", "1", Voicemail("the server is on fire", seconds=5, hang_up=True))
    ticket = the_ticket(session)
    assert ticket.recording_url is not None and ticket.transcript == "the server is on fire"
    assert the_call(session, record).outcome == "voicemail"


def test_hanging_up_at_the_status_lookup_records_an_abandoned_call(call, session: Session) -> None:
    record = call("2", HANGUP)
    assert the_call(session, record).outcome == "abandoned"


# ----------------------------------------------------------------------------- notifications


def outbox(session: Session) -> list[tuple[str, str, str]]:
    fresh(session)
    return [(n.kind, n.to_number, n.body) for n in session.scalars(select(Notification).order_by(Notification.id))]


def test_a_new_ticket_queues_one_text_to_the_engineer_on_duty(call, session: Session, team: Team) -> None:
    call("1", "1", "1", engineers=["accept"])
    assert outbox(session) == [(
        "new_ticket", PRIYA,
        f"New critical ticket 10001 from {CALLER}. Respond by Thu 26 Nov 12:00 AM EST. Reply ACK 10001 or CALL 10001.",
    )]
    assert {n.status for n in session.scalars(select(Notification))} == {"pending"}, "the worker sends it, not the webhook"


def test_a_missed_call_and_its_voicemail_are_texted_to_the_engineer_on_duty(call, session: Session, team: Team) -> None:
    call("1", "2", "1", Voicemail("Checkout returns 502 for all customers since the 02:00 deploy"),
         engineers=["no-answer", "no-answer"])
    kinds = [(kind, to) for kind, to, _ in outbox(session)]
    assert kinds == [("new_ticket", PRIYA), ("missed_call", PRIYA), ("voicemail", PRIYA)]
    voicemail = outbox(session)[2][2]
    assert voicemail == ('Voicemail on high ticket 10001. Reply CALL 10001 to ring back. They said: '
                         '"Checkout returns 502 for all customers since the 02:00 deploy"')


def test_a_caller_who_hangs_up_after_choosing_a_severity_still_gets_the_engineer_texted(
    call, session: Session, team: Team
) -> None:
    call("1", "1", HANGUP)
    assert [kind for kind, _, _ in outbox(session)] == ["new_ticket"]


def test_a_caller_who_hangs_up_while_engineers_ring_is_a_missed_call(client, session: Session, team: Team) -> None:
    for path, digits in [("/ivr/voice", None), ("/ivr/gather?step=main_menu&n=0", "1"),
                         ("/ivr/gather?step=severity&n=1", "1"), ("/ivr/gather?step=callback_choice&n=2", "1")]:
        signed_post(client, path, call_params(**({"Digits": digits} if digits else {})))
    signed_post(client, "/ivr/status", call_params(CallStatus="completed", CallDuration="12"))
    assert [kind for kind, _, _ in outbox(session)] == ["new_ticket", "missed_call"]
