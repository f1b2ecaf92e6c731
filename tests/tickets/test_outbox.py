"""The outbox and the worker: exact requests to Twilio's REST API, retries, bundling, SLA clock."""

from __future__ import annotations

import json
import multiprocessing
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
import requests
import responses
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import engine_for
from oncall.schedule import Duty, Member
from tickets import messages
from tickets.escalation import checkpoints_reached, run_sla_clock
from tickets.models import Notification, Ticket
from tickets.outbox import (
    LEASE,
    MAX_ATTEMPTS,
    TEXT_INTERVAL,
    TwilioSender,
    enqueue,
    next_due_at,
    retry_delay,
    send_due,
)
from tickets.worker import pause_before_next_round
from tickets.records import open_ticket
from core.calendar import business_calendar
from tickets.sla import Severity

ACCOUNT = "AC" + "1" * 32
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
CALLS = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
SUPPORT = "+18005550199"
PRIYA = Member(1, "Priya Raman", "+14155550101")
TOM = Member(2, "Tom Berg", "+14155550102")
ANA = Member(3, "Ana Souza", "+14155550103")
CALENDAR = business_calendar("America/New_York", "US")
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc)


def sender() -> TwilioSender:
    return TwilioSender(ACCOUNT, "token", SUPPORT, timeout=2)


def twilio_accepts(sid: str = "SM" + "a" * 32, url: str = MESSAGES) -> None:
    responses.add(responses.POST, url, json={"sid": sid, "status": "queued"}, status=201)


def form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def ticket(session: Session, severity: Severity = Severity.CRITICAL, at: datetime = NOW) -> Ticket:
    t = open_ticket(session, severity=severity, source="phone", now=at, calendar=CALENDAR,
                    caller_number="+12125550147", callback_number="+12125550147")
    session.flush()
    return t


def queue(session: Session, t: Ticket | None, to: str = PRIYA.phone, kind: str = "new_ticket", body: str = "hello",
          at: datetime = NOW) -> Notification:
    queued = enqueue(session, ticket=t, to_number=to, recipient="Priya Raman", kind=kind, body=body, now=at)
    session.commit()
    notification = session.get(Notification, queued) if queued is not None else None
    session.commit()  # end the read, so that later reads see what the worker did
    return notification


@responses.activate
def test_a_due_text_is_sent_with_the_exact_request_and_marked_sent(session: Session) -> None:
    t = ticket(session)
    n = queue(session, t, body=messages.new_ticket(t.number, "critical", "+12125550147", "+12125550147",
                                                    t.response_due_at, "America/New_York"))
    twilio_accepts("SM" + "b" * 32)
    assert send_due(session, sender(), NOW) == 1
    assert form(responses.calls[0]) == {
        "To": PRIYA.phone, "From": SUPPORT,
        "Body": "New critical ticket 10001 from +12125550147. Respond by Thu 26 Nov 12:00 AM EST. "
                "Reply ACK 10001 or CALL 10001.",
    }
    session.refresh(n)
    assert (n.status, n.attempts, n.provider_sid, n.sent_at) == ("sent", 1, "SM" + "b" * 32, NOW)


@pytest.mark.parametrize("failure", [{"status": 500}, {"status": 429}, {"body": requests.exceptions.ConnectTimeout()}])
@responses.activate
def test_a_failed_send_is_retried_with_backoff_then_marked_failed(session: Session, failure) -> None:
    t = ticket(session)
    n = queue(session, t)
    if "body" in failure:
        responses.add(responses.POST, MESSAGES, body=failure["body"])
    else:
        responses.add(responses.POST, MESSAGES, json={"code": 20500, "message": "oops", "status": failure["status"]},
                      status=failure["status"])
    now = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert send_due(session, sender(), now) == 1
        session.refresh(n)
        assert n.attempts == attempt and n.sent_at is None and n.last_error
        if attempt < MAX_ATTEMPTS:
            assert n.status == "pending" and n.next_attempt_at == now + retry_delay(attempt)
            assert send_due(session, sender(), now) == 0, "not again before its time"
            now = n.next_attempt_at
    assert n.status == "failed"
    assert len(responses.calls) == MAX_ATTEMPTS
    session.refresh(t)
    assert t.status == "open" and t.first_response_at is None, "the ticket is untouched"


@responses.activate
def test_twilio_refusing_a_number_fails_at_once(session: Session) -> None:
    n = queue(session, ticket(session))
    responses.add(responses.POST, MESSAGES, json={"code": 21211, "message": "Invalid 'To'", "status": 400}, status=400)
    send_due(session, sender(), NOW)
    session.refresh(n)
    assert n.status == "failed" and "400" in n.last_error and n.attempts == 1


def test_the_same_kind_for_the_same_ticket_and_person_is_queued_once(session: Session) -> None:
    t = ticket(session)
    assert queue(session, t) is not None
    assert queue(session, t) is None
    assert queue(session, t, to=TOM.phone) is not None
    assert session.scalar(select(func.count()).select_from(Notification)) == 2


@responses.activate
def test_texts_to_one_engineer_go_at_most_once_a_minute_and_what_falls_due_goes_together(session: Session) -> None:
    queue(session, ticket(session, Severity.NORMAL), body="first alert")
    twilio_accepts("SM" + "1" * 32)
    assert send_due(session, sender(), NOW) == 1, "the first text goes at once"
    for second, severity in [(10, Severity.LOW), (20, Severity.HIGH), (30, Severity.NORMAL)]:
        queue(session, ticket(session, severity), body=f"{severity.value} alert", at=NOW + timedelta(seconds=second))
        assert send_due(session, sender(), NOW + timedelta(seconds=second)) == 0, "held for the rest of the minute"
    held = session.scalars(select(Notification).where(Notification.status == "pending")).all()
    assert {n.next_attempt_at for n in held} == {NOW + TEXT_INTERVAL}, "until a minute after the first text"

    twilio_accepts("SM" + "2" * 32)
    assert send_due(session, sender(), NOW + TEXT_INTERVAL) == 1, "one text carries all three"
    body = form(responses.calls[-1])["Body"]
    assert body.splitlines() == ["3 support alerts, most severe first:", "- high alert", "- normal alert",
                                 "- low alert"]
    sent = session.scalars(select(Notification).where(Notification.body != "first alert")).all()
    assert {(n.status, n.provider_sid, n.sent_at) for n in sent} == {("sent", "SM" + "2" * 32, NOW + TEXT_INTERVAL)}


@responses.activate
def test_the_worker_wakes_when_a_held_text_falls_due_not_a_round_later(session: Session) -> None:
    queue(session, ticket(session, Severity.NORMAL), body="first alert")
    twilio_accepts()
    send_due(session, sender(), NOW)
    queue(session, ticket(session, Severity.NORMAL), body="held alert", at=NOW + timedelta(seconds=55))
    send_due(session, sender(), NOW + timedelta(seconds=55))
    assert next_due_at(session) == NOW + TEXT_INTERVAL
    assert pause_before_next_round(next_due_at(session), NOW + timedelta(seconds=55), 10.0) == 5.0
    assert pause_before_next_round(None, NOW, 10.0) == 10.0, "nothing waiting: the usual round"
    assert pause_before_next_round(NOW - timedelta(seconds=3), NOW, 10.0) == 0.0, "overdue: at once"
    assert pause_before_next_round(NOW + timedelta(minutes=5), NOW, 10.0) == 10.0, "the SLA clock still runs"


@pytest.mark.parametrize(("severity", "kind"), [(Severity.CRITICAL, "new_ticket"), (Severity.LOW, "sla_breach")])
@responses.activate
def test_a_critical_ticket_and_a_breach_are_never_held_and_carry_what_waits(session: Session, severity: Severity,
                                                                            kind: str) -> None:
    queue(session, ticket(session, Severity.NORMAL), body="first alert")
    twilio_accepts("SM" + "1" * 32)
    send_due(session, sender(), NOW)
    queue(session, ticket(session, Severity.NORMAL), body="waiting alert", at=NOW + timedelta(seconds=5))
    send_due(session, sender(), NOW + timedelta(seconds=5))
    queue(session, ticket(session, severity), kind=kind, body="urgent alert", at=NOW + timedelta(seconds=9))
    twilio_accepts("SM" + "9" * 32)
    assert send_due(session, sender(), NOW + timedelta(seconds=9)) == 1, "sent at once, inside the minute"
    assert form(responses.calls[-1])["Body"].splitlines()[1:] == ["- urgent alert", "- waiting alert"]
    assert session.scalars(select(Notification.status)).all() == ["sent"] * 3


@responses.activate
def test_a_digest_too_long_names_the_most_severe_and_says_how_many_more_wait(session: Session) -> None:
    queue(session, ticket(session, Severity.NORMAL), body="first alert")
    twilio_accepts("SM" + "1" * 32)
    send_due(session, sender(), NOW)
    severities = [Severity.LOW, Severity.NORMAL, Severity.HIGH, Severity.CRITICAL]
    tickets = [ticket(session, severities[i % 4]) for i in range(60)]
    for t in tickets:
        queue(session, t, kind="sla_50", body="x" * 150, at=NOW + timedelta(seconds=1))
    twilio_accepts("SM" + "d" * 32)
    assert send_due(session, sender(), NOW + TEXT_INTERVAL) == 1
    lines = form(responses.calls[-1])["Body"].splitlines()
    assert len("\n".join(lines)) <= messages.MAX_SMS_LENGTH
    assert lines[0] == "60 support alerts, most severe first:"
    named = [line for line in lines if line.startswith("- ")]
    critical = sorted(t.number for t in tickets if t.severity == "critical")
    assert named[:15] == [f"- CRITICAL {n}: half its response time gone" for n in critical]
    assert named[15].startswith("- HIGH "), "then the next most severe"
    assert lines[-2] == f"…and {60 - len(named)} more on the tickets page."
    carried = session.scalars(select(Notification).where(Notification.kind == "sla_50")).all()
    assert {(n.status, n.provider_sid) for n in carried} == {("sent", "SM" + "d" * 32)}, "all sixty are carried"


class _Killed(BaseException):
    """The worker process dies: nothing after the claim runs."""


class _RecordingSender:
    """Twilio as the pacing test sees it: every text that reached it, when, and to whom."""

    def __init__(self, clock: list[datetime], texts: list[tuple[datetime, str, str]], kill_at_send: int | None = None):
        self.clock, self.texts, self.kill_at_send, self.sends = clock, texts, kill_at_send, 0

    def send_sms(self, to: str, body: str) -> str:
        self.sends += 1
        if self.sends == self.kill_at_send:
            raise _Killed()
        self.texts.append((self.clock[0], to, body))
        return f"SM{len(self.texts):032d}"

    def start_call(self, to: str, url: str, status_callback: str) -> str:
        raise AssertionError("no calls in this test")


def test_a_burst_of_forty_tickets_and_a_critical_one_with_two_workers_and_a_kill(session: Session) -> None:
    """Forty normal tickets in forty seconds and a critical one among them, for one engineer; two
    workers take turns each second, and the first dies between a claim and its send."""
    other_worker = Session(bind=session.get_bind())
    clock = [NOW]
    texts: list[tuple[datetime, str, str]] = []
    workers = [(session, _RecordingSender(clock, texts, kill_at_send=3)), (other_worker, _RecordingSender(clock, texts))]
    killed = False
    critical = None
    for second in range(240):
        clock[0] = now = NOW + timedelta(seconds=second)
        if second < 40:
            queue(session, ticket(session, Severity.NORMAL, at=now), body=f"normal {second}", at=now)
        if second == 20:
            critical = queue(session, ticket(session, Severity.CRITICAL, at=now), body="critical", at=now)
        worker, twilio = workers[1] if killed else workers[second % 2]
        try:
            send_due(worker, twilio, now)
        except _Killed:
            worker.rollback()
            killed = True
    other_worker.close()

    rows = session.scalars(select(Notification)).all()
    assert len(rows) == 41 and {n.status for n in rows} == {"sent"}, "every message went"
    by_sid: dict[str, list[Notification]] = {}
    for n in rows:
        by_sid.setdefault(n.provider_sid, []).append(n)
    assert len(by_sid) == len(texts), "each text that reached Twilio is the one text its messages were sent by"
    assert sum(len(carried) for carried in by_sid.values()) == 41, "no message sent twice"
    assert critical is not None and critical.sent_at == critical.created_at, "the critical ticket went at once"
    killed_rows = [n for n in rows if n.attempts == 2]
    assert killed_rows, "the killed worker's claim was sent again by the other"
    for n in rows:
        held = n.sent_at - n.created_at
        assert held <= (TEXT_INTERVAL + LEASE if n in killed_rows else TEXT_INTERVAL), (n.body, held)
    urgent_times = {critical.sent_at}
    paced = [at for at, _, _ in texts if at not in urgent_times]
    assert all(b - a >= TEXT_INTERVAL for a, b in zip(paced, paced[1:])), f"one text a minute: {paced}"
    assert len(texts) <= 5, [at for at, _, _ in texts]


@responses.activate
def test_an_sla_warning_for_a_ticket_answered_meanwhile_is_not_sent(session: Session) -> None:
    t = ticket(session)
    warning = queue(session, t, kind="sla_80", body="80%")
    t.first_response_at = NOW
    session.commit()
    assert send_due(session, sender(), NOW) == 0
    session.refresh(warning)
    assert warning.status == "failed" and "answered" in warning.last_error
    assert len(responses.calls) == 0


@responses.activate
def test_a_new_ticket_text_for_a_call_the_engineer_already_took_is_not_sent(session: Session) -> None:
    t = ticket(session)
    alert = queue(session, t, kind="new_ticket", body="New high ticket")
    t.first_response_at, t.responded_by = NOW, "Priya Raman"  # she accepted the caller's call
    session.commit()
    assert send_due(session, sender(), NOW) == 0
    session.refresh(alert)
    assert alert.status == "failed" and "answered" in alert.last_error
    assert len(responses.calls) == 0


@responses.activate
def test_a_slow_twilio_does_not_stretch_leases_or_backoff(session: Session) -> None:
    """The clock is read at each claim and each result, not once per round."""
    n = queue(session, ticket(session))
    times = iter([NOW, NOW + timedelta(minutes=5)])  # the claim, then the result five minutes later
    responses.add(responses.POST, MESSAGES, json={"code": 20500, "message": "oops", "status": 503}, status=503)
    send_due(session, sender(), lambda: next(times, NOW + timedelta(minutes=5)))
    session.refresh(n)
    assert n.next_attempt_at == NOW + timedelta(minutes=5) + retry_delay(1)


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [
        ({"status": 400, "json": {"type": "https://www.twilio.com/docs/errors/21211", "title": "Invalid To",
                                  "status": 400, "code": 21211}}, False),
        ({"status": 201, "body": "not json"}, True),
    ],
)
@responses.activate
def test_twilio_answers_of_every_shape_become_a_clear_outcome(session: Session, answer: dict, retryable: bool) -> None:
    n = queue(session, ticket(session))
    responses.add(responses.POST, MESSAGES, **answer, content_type="application/problem+json"
                  if "json" in answer else "application/json")
    send_due(session, sender(), NOW)
    session.refresh(n)
    assert n.status == ("pending" if retryable else "failed") and n.last_error and n.sent_at is None


def send_from_worker(database_url: str, start) -> None:
    """A second worker process, sending through its own mocked Twilio."""
    engine = engine_for(database_url)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock, Session(engine) as session:
        mock.add_callback(responses.POST, MESSAGES,
                          callback=lambda _request: (201, {}, json.dumps({"sid": "SM" + uuid.uuid4().hex})))
        start.wait()
        send_due(session, sender(), NOW + timedelta(seconds=1), limit=1000)
    engine.dispose()


def test_two_workers_send_each_of_500_messages_exactly_once(database_url: str, session: Session) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers at once is a PostgreSQL setup; SQLite runs one worker")
    t = ticket(session)
    for i in range(500):
        enqueue(session, ticket=None, to_number=f"+1415555{i:04d}", recipient=None, kind="new_ticket",
                body=f"message {i}", now=NOW)
    session.commit()
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=send_from_worker, args=(database_url, start)) for _ in range(2)]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(timeout=300)
        assert w.exitcode == 0
    session.expire_all()
    rows = session.scalars(select(Notification)).all()
    assert len(rows) == 500 and {r.status for r in rows} == {"sent"}
    assert {r.attempts for r in rows} == {1}, "each message was claimed and sent once"
    assert t.number


@responses.activate
def test_a_worker_that_finds_a_text_while_another_is_claiming_one_waits_its_minute(
        database_url: str, session: Session) -> None:
    """Worker A has claimed Priya's text but not committed; a new alert for her arrives and worker B
    finds it. B must wait for A's claim and then hold the alert, not text her a second time."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers at once is a PostgreSQL setup; SQLite runs one worker")
    import threading

    from sqlalchemy import event, text

    from tickets.models import TextPace

    session.add(TextPace(to_number=PRIYA.phone, last_text_at=NOW - timedelta(minutes=5)))
    queue(session, None, body="first alert")
    responses.add_callback(responses.POST, MESSAGES,
                           callback=lambda _request: (201, {}, json.dumps({"sid": "SM" + uuid.uuid4().hex})))
    engine = session.get_bind()
    worker_b = threading.Thread(target=lambda: _send_as_another_worker(engine))

    def while_a_holds_its_claim(_session: Session) -> None:
        with Session(engine) as other:
            enqueue(other, ticket=None, to_number=PRIYA.phone, recipient="Priya Raman", kind="new_ticket",
                    body="second alert", now=NOW)
            other.commit()
        worker_b.start()
        with engine.connect() as watcher:
            for _ in range(1000):  # until B waits on A's lock (or, were there no lock, has finished)
                if not worker_b.is_alive() or watcher.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
                    break
                worker_b.join(0.005)

    event.listen(session, "before_commit", while_a_holds_its_claim, once=True)
    send_due(session, sender(), NOW, limit=1)
    worker_b.join(timeout=30)
    session.expire_all()
    rows = {n.body: n for n in session.scalars(select(Notification))}
    assert len(responses.calls) == 1, "one text to Priya, not two in the same second"
    assert rows["first alert"].status == "sent"
    assert rows["second alert"].status == "pending" and rows["second alert"].next_attempt_at == NOW + TEXT_INTERVAL


def _send_as_another_worker(engine) -> None:
    with Session(engine) as session:
        send_due(session, sender(), NOW)


# ----------------------------------------------------------------------------- the SLA clock


@pytest.mark.parametrize(
    ("elapsed", "reached"),
    [(0.49, []), (0.5, ["sla_50"]), (0.79, ["sla_50"]), (0.8, ["sla_50", "sla_80"]), (1.0, ["sla_50", "sla_80", "sla_breach"])],
)
def test_checkpoints_are_shares_of_the_time_to_the_deadline(elapsed: float, reached: list[str]) -> None:
    due = NOW + timedelta(hours=2)
    assert checkpoints_reached(NOW, due, NOW + timedelta(hours=2) * elapsed) == reached


def duty() -> Duty:
    return Duty(on_duty=PRIYA, escalation=(TOM, ANA), shift_start=NOW, shift_end=NOW + timedelta(days=7), override=False)


def sla_rows(session: Session) -> list[tuple[str, str]]:
    return sorted((n.kind, n.recipient) for n in session.scalars(select(Notification)))


def test_the_sla_clock_warns_at_50_and_80_percent_and_everyone_at_the_breach(session: Session) -> None:
    ticket(session, Severity.CRITICAL)
    session.commit()
    clock = lambda minutes: NOW + timedelta(minutes=minutes)  # noqa: E731
    assert run_sla_clock(session, clock(59), lambda at: duty(), "America/New_York") == 0
    assert run_sla_clock(session, clock(60), lambda at: duty(), "America/New_York") == 2
    assert run_sla_clock(session, clock(61), lambda at: duty(), "America/New_York") == 0, "once per ticket"
    assert run_sla_clock(session, clock(96), lambda at: duty(), "America/New_York") == 2
    assert run_sla_clock(session, clock(120), lambda at: duty(), "America/New_York") == 3
    assert run_sla_clock(session, clock(121), lambda at: duty(), "America/New_York") == 0
    assert sla_rows(session) == [
        ("sla_50", "Priya Raman"), ("sla_50", "Tom Berg"), ("sla_80", "Priya Raman"), ("sla_80", "Tom Berg"),
        ("sla_breach", "Ana Souza"), ("sla_breach", "Priya Raman"), ("sla_breach", "Tom Berg"),
    ]
    breach = session.scalars(select(Notification).where(Notification.kind == "sla_breach")).first()
    assert breach.body == ("SLA BREACHED: critical ticket 10001 had no first response within 2 hours "
                           "(due Thu 26 Nov 12:00 AM EST). Reply ACK 10001.")


def test_a_low_ticket_is_chased_across_business_days(session: Session) -> None:
    # Friday 2026-11-27 15:00 New York: due Tuesday 15:00, so 50 % is Sunday 03:00 on the wall.
    friday = datetime(2026, 11, 27, 20, 0, tzinfo=timezone.utc)
    t = ticket(session, Severity.LOW, at=friday)
    session.commit()
    assert t.response_due_at == datetime(2026, 12, 1, 20, 0, tzinfo=timezone.utc)
    assert run_sla_clock(session, friday + timedelta(days=1), lambda at: duty(), "America/New_York") == 0
    assert run_sla_clock(session, friday + timedelta(days=2), lambda at: duty(), "America/New_York") == 2
    assert run_sla_clock(session, t.response_due_at, lambda at: duty(), "America/New_York") == 3


def test_a_clock_that_was_down_sends_only_the_latest_checkpoint(session: Session) -> None:
    ticket(session, Severity.HIGH)
    session.commit()
    run_sla_clock(session, NOW + timedelta(hours=7), lambda at: duty(), "America/New_York")
    assert {kind for kind, _ in sla_rows(session)} == {"sla_breach"}


def test_answered_and_resolved_tickets_are_not_chased(session: Session) -> None:
    answered, resolved = ticket(session), ticket(session)
    answered.first_response_at = NOW
    resolved.status = "resolved"
    session.commit()
    assert run_sla_clock(session, NOW + timedelta(hours=3), lambda at: duty(), "America/New_York") == 0


@responses.activate
def test_the_worker_command_runs_the_clock_and_sends_through_twilio(make_app, session: Session, clock) -> None:
    app = make_app(PUBLIC_URL="https://support.example.com")
    t = ticket(session, Severity.CRITICAL, at=clock.now - timedelta(hours=3))
    session.commit()
    from tests.support import add_contact, add_rotation

    priya = add_contact(session, "Priya Raman", PRIYA.phone)
    add_rotation(session, [priya], handoff="2026-11-23T09:00", backups=0)
    session.commit()
    twilio_accepts()
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    sent = [form(c) for c in responses.calls]
    assert sent == [{"To": PRIYA.phone, "From": SUPPORT, "Body": (
        f"SLA BREACHED: critical ticket {t.number} had no first response within 2 hours "
        "(due Wed 25 Nov 9:00 PM EST). Reply ACK 10001.")}]


def test_without_twilio_credentials_the_worker_prints_messages_and_says_so(make_app, session: Session, clock) -> None:
    app = make_app(TWILIO_ACCOUNT_SID="")
    queue(session, None, body="a console message", at=clock.now)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert "notifications are printed here, not sent" in result.output
    assert f"SMS to {PRIYA.phone}: a console message" in result.output
    printed = session.scalar(select(Notification))
    assert printed.status == "failed" and "not sent: no Twilio account" in printed.last_error, "never marked sent"


def test_a_ticket_without_a_caller_from_the_api_says_where_it_came_from() -> None:
    due = NOW + timedelta(hours=6)
    assert messages.new_ticket(10007, "high", None, None, due, "America/New_York", source="api") == (
        "New high ticket 10007 opened via api, no callback number. Respond by Thu 26 Nov 4:00 AM EST. "
        "Reply ACK 10007 or CALL 10007.")
    assert "from a withheld number" in messages.new_ticket(10007, "high", None, None, due, "America/New_York")


@responses.activate
def test_the_api_lists_every_message_sent_or_waiting_for_a_ticket(client, session: Session) -> None:
    from staff.tokens import issue_api_token

    token = issue_api_token(session, "tests", NOW)
    t, other = ticket(session), ticket(session)
    first = queue(session, t, body="first")
    queue(session, t, to=TOM.phone, body="second")
    queue(session, other, body="someone else's")
    twilio_accepts("SM" + "e" * 32)
    send_due(session, sender(), NOW, limit=1)
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get(f"/api/notifications?ticket={t.number}&total=true", headers=auth).json
    assert listed["total"] == 2
    sent = next(n for n in listed["items"] if n["id"] == first.id)
    assert sent == {
        "id": first.id, "ticket": t.number, "to": PRIYA.phone, "channel": "sms", "kind": "new_ticket",
        "status": "sent", "attempts": 1, "body": "first", "created_at": NOW.isoformat(),
        "sent_at": NOW.isoformat(), "provider_sid": "SM" + "e" * 32,
    }
    assert client.get("/api/notifications?total=true", headers=auth).json["total"] == 3
    assert client.get("/api/notifications?ticket=99999", headers=auth).status_code == 404
    assert client.get("/api/notifications?ticket=abc", headers=auth).status_code == 404
    assert client.get("/api/notifications").status_code == 401


@responses.activate
def test_a_missed_call_sends_exactly_these_texts_through_twilio(client, session: Session, clock) -> None:
    """Every kind the line sends about a phone ticket, as Twilio's REST API receives it."""
    from phonesim import FlaskClientTransport, ScriptedCaller, Voicemail, place_call
    from oncall.service import duty_at
    from tests.support import AUTH_TOKEN, PUBLIC_BASE, add_contact, add_rotation

    team = [add_contact(session, m.name, m.phone) for m in (PRIYA, TOM)]
    add_rotation(session, team, handoff="2026-11-23T09:00", backups=1)
    session.commit()
    place_call(voice_url=f"{PUBLIC_BASE}/ivr/voice", status_callback_url=f"{PUBLIC_BASE}/ivr/status",
               auth_token=AUTH_TOKEN, transport=FlaskClientTransport(client),
               caller=ScriptedCaller(["1", "1", "1", Voicemail("The database cluster is down")]),
               engineers=["no-answer", "no-answer"], from_number="+12125550147")
    twilio_accepts("SM" + "0" * 32)
    assert send_due(session, sender(), clock.now) == 1, "what fell due together goes in one text"
    for minutes in (60, 96, 120):  # 50 %, 80 % and the breach of the 2-hour target
        now = clock.now + timedelta(minutes=minutes)
        run_sla_clock(session, now, lambda at: duty_at(session, at), "America/New_York")
        for i in range(3):
            twilio_accepts(f"SM{minutes}{i:029d}")
        send_due(session, sender(), now)
    sent = [(f["To"], f["From"], f["Body"]) for f in map(form, responses.calls)]
    assert sent == [
        (PRIYA.phone, SUPPORT, "3 support alerts, most severe first:\n"
                               "- New critical ticket 10001 from +12125550147. Respond by Thu 26 Nov 12:00 AM EST. "
                               "Reply ACK 10001 or CALL 10001.\n"
                               "- Missed support call: critical ticket 10001 from +12125550147. "
                               "Reply CALL 10001 to ring them back, or ACK 10001.\n"
                               "- Voicemail on critical ticket 10001. Reply CALL 10001 to ring back. "
                               'They said: "The database cluster is down"'),
        (PRIYA.phone, SUPPORT, "Ticket 10001 (critical) has had no response for 50% of its 2 hours target: "
                               "due Thu 26 Nov 12:00 AM EST. Reply ACK 10001."),
        (TOM.phone, SUPPORT, "Ticket 10001 (critical) has had no response for 50% of its 2 hours target: "
                             "due Thu 26 Nov 12:00 AM EST. Reply ACK 10001."),
        (PRIYA.phone, SUPPORT, "Ticket 10001 (critical) has had no response for 80% of its 2 hours target: "
                               "due Thu 26 Nov 12:00 AM EST. Reply ACK 10001."),
        (TOM.phone, SUPPORT, "Ticket 10001 (critical) has had no response for 80% of its 2 hours target: "
                             "due Thu 26 Nov 12:00 AM EST. Reply ACK 10001."),
        (PRIYA.phone, SUPPORT, "SLA BREACHED: critical ticket 10001 had no first response within 2 hours "
                               "(due Thu 26 Nov 12:00 AM EST). Reply ACK 10001."),
        (TOM.phone, SUPPORT, "SLA BREACHED: critical ticket 10001 had no first response within 2 hours "
                             "(due Thu 26 Nov 12:00 AM EST). Reply ACK 10001."),
    ]


@pytest.mark.parametrize("missing", ["TWILIO_PHONE_NUMBER", "TWILIO_AUTH_TOKEN", "PUBLIC_URL"])
def test_the_worker_refuses_half_a_twilio_configuration(make_app, missing: str) -> None:
    """PUBLIC_URL included: without it the callbacks the worker places could not fetch their TwiML."""
    settings = {"PUBLIC_URL": "https://support.example.com", missing: ""}
    result = make_app(**settings).test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code != 0 and f"TWILIO_ACCOUNT_SID is set but {missing} is not" in result.output
