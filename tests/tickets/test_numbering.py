"""Ticket numbers: digits, unique, in order and without gaps — also with two processes at once."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.db import engine_for
from tickets.models import FIRST_TICKET_NUMBER, Ticket, TicketEvent
from tickets.records import find_ticket, note, open_ticket, record_first_response, record_first_response_to
from core.calendar import business_calendar
from tickets.sla import Severity

CALENDAR = business_calendar("America/New_York", "US")
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc)


def open_tickets(database_url: str, count: int, start: multiprocessing.synchronize.Event) -> None:
    """Worker process: open `count` tickets, one transaction each, as fast as it can."""
    engine = engine_for(database_url)
    start.wait()
    try:
        for i in range(count):
            with Session(engine) as session:
                open_ticket(session, severity=Severity.HIGH, source="api", now=NOW, calendar=CALENDAR, description=f"load {i}")
                session.commit()
    finally:
        engine.dispose()


def test_two_processes_opening_tickets_at_once_get_unique_numbers_in_order(database_url: str, session: Session) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=open_tickets, args=(database_url, 100, start)) for _ in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0

    numbers = session.scalars(select(Ticket.number).order_by(Ticket.id)).all()
    assert len(numbers) == 200
    assert len(set(numbers)) == 200
    # In order of commit, and without gaps: the counter row serialises the creators.
    assert numbers == list(range(FIRST_TICKET_NUMBER, FIRST_TICKET_NUMBER + 200))


def test_a_new_ticket_gets_its_number_deadline_and_a_created_event(session: Session) -> None:
    ticket = open_ticket(session, severity=Severity.CRITICAL, source="web", now=NOW, calendar=CALENDAR)
    session.commit()
    assert ticket.number == FIRST_TICKET_NUMBER and str(ticket.number).isdigit()
    assert ticket.response_due_at == NOW + timedelta(hours=2)
    assert [e.kind for e in ticket.events] == ["created"]
    assert "within 2 hours" in ticket.events[0].detail


def _statements(session: Session, run) -> list[str]:
    seen: list[str] = []

    def spy(_conn, _cursor, statement, *_args) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(" ".join(statement.split()[:3]))

    event.listen(session.get_bind(), "before_cursor_execute", spy)
    try:
        run()
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", spy)
    return seen


def test_a_new_ticket_is_written_with_its_first_entries_at_once_and_reads_back_whole(session: Session) -> None:
    opened: list[Ticket] = []
    seen = _statements(session, lambda: opened.append(open_ticket(
        session, severity=Severity.HIGH, source="phone", now=NOW, calendar=CALENDAR, caller_number="+14155550100",
        notes=[("callback_number", "+14155550100: chosen by the caller")])))
    ticket = opened[0]

    # The counter, the ticket, its entries: nothing left for a flush, nothing read back.
    assert seen == ["UPDATE ticket_counter SET", "INSERT INTO tickets", "INSERT INTO ticket_events"]
    assert ticket.id is not None and ticket in session and not session.dirty and not session.new
    session.commit()
    session.expire_all()
    again = session.get(Ticket, ticket.id)
    assert again is not None and (again.number, again.severity, again.caller_number) == (10001, "high", "+14155550100")
    assert [(e.kind, e.detail) for e in again.events] == [
        ("created", "high ticket from phone; first response due within 6 hours"),
        ("callback_number", "+14155550100: chosen by the caller"),
    ]


def test_an_entry_on_a_ticket_whose_timeline_is_not_loaded_is_written_without_reading_the_others(session: Session) -> None:
    ticket = open_ticket(session, severity=Severity.LOW, source="phone", now=NOW, calendar=CALENDAR)
    session.commit()
    session.expire_all()
    ticket = session.get(Ticket, ticket.id)

    added: list[TicketEvent] = []
    seen = _statements(session, lambda: added.append(note(ticket, NOW, "missed_call", "nobody answered")))
    assert seen == ["INSERT INTO ticket_events"]
    assert added[0].id is not None
    assert [e.kind for e in ticket.events] == ["created", "missed_call"]  # loading it now finds both
    session.rollback()


def test_an_entry_on_a_ticket_whose_timeline_is_loaded_joins_the_loaded_timeline(session: Session) -> None:
    ticket = open_ticket(session, severity=Severity.LOW, source="phone", now=NOW, calendar=CALENDAR)
    assert [e.kind for e in ticket.events] == ["created"]
    note(ticket, NOW, "voicemail", "recording")
    assert [e.kind for e in ticket.events] == ["created", "voicemail"]
    session.commit()
    assert session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)).all() == ["created", "voicemail"]


def test_the_first_response_is_recorded_once(session: Session) -> None:
    ticket = open_ticket(session, severity=Severity.LOW, source="phone", now=NOW, calendar=CALENDAR)
    assert record_first_response(ticket, NOW + timedelta(minutes=5), "Priya", "accepted the call")
    assert not record_first_response(ticket, NOW + timedelta(minutes=9), "Tom", "accepted the call")
    assert ticket.first_response_at == NOW + timedelta(minutes=5) and ticket.responded_by == "Priya"
    assert ticket.status == "acknowledged"


def test_a_first_response_recorded_by_ticket_id_counts_once_and_acknowledges_only_an_open_ticket(session: Session) -> None:
    first = open_ticket(session, severity=Severity.LOW, source="phone", now=NOW, calendar=CALENDAR)
    resolved = open_ticket(session, severity=Severity.LOW, source="phone", now=NOW, calendar=CALENDAR)
    resolved.status = "resolved"
    session.commit()
    later = NOW + timedelta(minutes=5)

    assert record_first_response_to(session, first.id, later, "Priya", "accepted the call")
    assert not record_first_response_to(session, first.id, later + timedelta(minutes=1), "Tom", "accepted the call")
    assert record_first_response_to(session, resolved.id, later, "Tom", "accepted the call")
    session.commit()

    # The tickets this session had loaded are read afresh, not left with their old columns.
    assert (first.first_response_at, first.responded_by, first.status) == (later, "Priya", "acknowledged")
    assert (resolved.responded_by, resolved.status) == ("Tom", "resolved")
    assert [(e.kind, e.detail) for e in first.events] == [("created", first.events[0].detail),
                                                          ("first_response", "Priya accepted the call")]


def test_a_first_response_by_ticket_id_keeps_what_this_session_changed_on_that_ticket(session: Session) -> None:
    ticket = open_ticket(session, severity=Severity.LOW, source="phone", now=NOW, calendar=CALENDAR)
    session.commit()
    assert [e.kind for e in ticket.events] == ["created"]
    ticket.recording_url = "https://r/1"  # not flushed yet
    note(ticket, NOW, "voicemail", "recording")  # joins the loaded timeline, written at the next flush

    assert record_first_response_to(session, ticket.id, NOW + timedelta(minutes=1), "Priya", "accepted the call")
    session.commit()

    assert session.scalar(select(Ticket.recording_url).where(Ticket.id == ticket.id)) == "https://r/1"
    assert [e.kind for e in ticket.events] == ["created", "voicemail", "first_response"]
    assert ticket.status == "acknowledged"


def test_a_ticket_written_in_a_transaction_that_rolled_back_leaves_the_session(session: Session) -> None:
    gone = open_ticket(session, severity=Severity.LOW, source="phone", now=NOW, calendar=CALENDAR)
    session.rollback()
    assert gone not in session

    kept = open_ticket(session, severity=Severity.HIGH, source="phone", now=NOW, calendar=CALENDAR)  # may reuse the id
    session.commit()
    assert session.scalars(select(Ticket.severity)).all() == ["high"] and kept.number == FIRST_TICKET_NUMBER


def test_finding_a_ticket_by_number_ignores_garbage(session: Session) -> None:
    ticket = open_ticket(session, severity=Severity.LOW, source="phone", now=NOW, calendar=CALENDAR)
    session.commit()
    assert find_ticket(session, "10001") is ticket
    assert find_ticket(session, " 10001 ") is ticket
    for garbage in ["", "abc", "1" * 5000, "10001; DROP TABLE tickets", "١٠٠٠١", "-10001"]:
        assert find_ticket(session, garbage) is None
