"""A ticket's records: its number, its row, its timeline, its first response and its voicemail.

These building blocks change the session and leave the commit to the caller, so that a
ticket and the call step (or the API change) that caused it are saved together or not at
all. The phone path calls them while a caller waits, so the hot ones are prebuilt Core
statements; what they return belongs to the session as if it had been read.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, event, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached, object_session

from core.calendar import BusinessCalendar
from core.metrics import FIRST_RESPONSES, TICKETS_OPENED, count_on_commit
from core.limits import whole_number
from people.models import Person
from tickets.models import FIRST_TICKET_NUMBER, Ticket, TicketCounter, TicketEvent
from tickets.sla import Severity, response_due, target_description

# Longer than any ticket number we will hand out; longer input is not worth a query.
MAX_TICKET_DIGITS = 12
# `tickets.number` is a 32-bit INTEGER: PostgreSQL refuses to compare it with anything larger.
MAX_TICKET_NUMBER = 2**31 - 1


COUNTER = TicketCounter.__table__
TICKETS = Ticket.__table__
EVENTS = TicketEvent.__table__
# Built once, so each ticket only binds values (a phone ticket is opened while the caller waits).
_TAKE_NUMBER = (
    update(COUNTER).where(COUNTER.c.id == 1).values(next_number=COUNTER.c.next_number + 1).returning(COUNTER.c.next_number)
)
_FIRST_NUMBER = insert(COUNTER).values(id=1, next_number=bindparam("next_number"))
_INSERT_TICKET = insert(TICKETS).returning(TICKETS.c.id)
# A known requester's ticket takes their organisation in the same statement.
PEOPLE = Person.__table__
_INSERT_REQUESTERS_TICKET = (
    insert(TICKETS)
    .values(organization_id=select(PEOPLE.c.organization_id).where(PEOPLE.c.id == bindparam("the_requester"))
            .scalar_subquery())
    .returning(TICKETS.c.id, TICKETS.c.organization_id)
)
_INSERT_EVENTS = insert(EVENTS)
_INSERT_EVENT = insert(EVENTS).returning(EVENTS.c.id)


def take_ticket_number(session: Session) -> int:
    """The next ticket number, reserved inside the caller's transaction."""
    connection = session.connection()
    taken = connection.execute(_TAKE_NUMBER).scalar_one_or_none()
    if taken is None:
        connection.execute(_FIRST_NUMBER, {"next_number": FIRST_TICKET_NUMBER + 1})
        return FIRST_TICKET_NUMBER
    return taken - 1


_WRITTEN_IN_CORE = "tickets.written_in_core"


def _as_loaded(session: Session, instance: Any) -> Any:
    """An instance whose row was just written in Core, made part of `session` as if it had been read.

    Unlike an object the ORM inserted, the session does not know the row is new: if the
    transaction rolls back, `_forget_rows_rolled_back` takes the instance out of the session
    (else it would stay as an expired copy of a row that never was, and SQLite hands its id out again).
    """
    make_transient_to_detached(instance)
    session.add(instance)
    session.info.setdefault(_WRITTEN_IN_CORE, []).append(instance)
    return instance


@event.listens_for(Session, "after_soft_rollback")
def _forget_rows_rolled_back(session: Session, _transaction: Any) -> None:
    for instance in session.info.pop(_WRITTEN_IN_CORE, ()):
        if instance in session:
            session.expunge(instance)


@event.listens_for(Session, "after_commit")
def _keep_rows_committed(session: Session) -> None:
    session.info.pop(_WRITTEN_IN_CORE, None)


def open_ticket(
    session: Session,
    *,
    severity: Severity,
    source: str,
    now: datetime,
    calendar: BusinessCalendar,
    caller_number: str | None = None,
    callback_number: str | None = None,
    description: str | None = None,
    call_sid: str | None = None,
    requester_id: int | None = None,
    subject: str | None = None,
    reported_severity: Severity | None = None,
    notes: Collection[tuple[str, str]] = (),
) -> Ticket:
    """Open a ticket with its number and its first-response deadline, and its first timeline entries;
    a known `requester_id` brings their organisation; `reported_severity` is what the customer chose
    (None: they named none).

    The row is written at once (the ticket has its id), with a `created` entry and `notes`
    (kind, detail) in one more statement, in Core: a phone ticket is opened while the caller
    waits, and the ORM's unit of work cost more than the statements. The ticket returned
    belongs to `session` as if it had been read.
    """
    values: dict[str, Any] = {
        "number": take_ticket_number(session),
        "severity": severity.value,
        "reported_severity": reported_severity.value if reported_severity is not None else None,
        "status": "open",
        "source": source,
        "caller_number": caller_number,
        "callback_number": callback_number,
        "description": description,
        "created_at": now,
        "response_due_at": response_due(severity, now, calendar),
        "first_response_at": None,
        "responded_by": None,
        "resolved_at": None,
        "call_sid": call_sid,
        "recording_url": None,
        "transcript": None,
        "requester_id": requester_id,
        "subject": subject,
        "satisfaction": None,
        "satisfaction_comment": None,
        "satisfaction_at": None,
    }
    connection = session.connection()
    if requester_id is None:
        ticket_id, organization_id = connection.execute(_INSERT_TICKET, values).scalar_one(), None
    else:
        ticket_id, organization_id = connection.execute(_INSERT_REQUESTERS_TICKET,
                                                        {**values, "the_requester": requester_id}).one()
    ticket = _as_loaded(session, Ticket(id=ticket_id, organization_id=organization_id, **values))
    count_on_commit(session, TICKETS_OPENED, severity.value, source)
    created = ("created", f"{severity.value} ticket from {source}; first response due within {target_description(severity)}")
    # Not read back: the timeline loads on first use, as for any ticket read from the database.
    connection.execute(_INSERT_EVENTS, [{"ticket_id": ticket.id, "at": now, "kind": kind, "detail": detail}
                                        for kind, detail in (created, *notes)])
    return ticket


_OPEN_TICKETS_OF = (
    select(TICKETS.c.number, TICKETS.c.severity)
    .where(TICKETS.c.requester_id == bindparam("requester_id"), TICKETS.c.status.in_(("open", "acknowledged")))
    .order_by(TICKETS.c.created_at.desc(), TICKETS.c.id.desc())
    .limit(bindparam("most"))
)


def open_tickets_of(session: Session, requester_id: int, most: int) -> list[tuple[int, str]]:
    """A requester's tickets not yet resolved, newest first, as (number, severity): at most `most`."""
    rows = session.connection().execute(_OPEN_TICKETS_OF, {"requester_id": requester_id, "most": most})
    return [(number, severity) for number, severity in rows]


def note(ticket: Ticket, at: datetime, kind: str, detail: str = "") -> TicketEvent:
    """Add an entry to the ticket's timeline.

    For a ticket already written whose timeline is not loaded, the entry is written at once
    (one Core statement) rather than at the next flush, without loading the earlier entries.
    """
    session = object_session(ticket)
    if session is None or ticket.id is None or "events" in ticket.__dict__:
        event = TicketEvent(at=at, kind=kind, detail=detail)
        ticket.events.append(event)
        return event
    return _add_event(session, ticket.id, at, kind, detail)


def _add_event(session: Session, ticket_id: int, at: datetime, kind: str, detail: str) -> TicketEvent:
    values = {"ticket_id": ticket_id, "at": at, "kind": kind, "detail": detail}
    event_id = session.connection().execute(_INSERT_EVENT, values).scalar_one()
    return _as_loaded(session, TicketEvent(id=event_id, **values))


# What a ticket's status becomes at its first response (any other status stays as it is).
STATUS_AT_FIRST_RESPONSE = {"open": "acknowledged"}


def record_first_response(ticket: Ticket, at: datetime, by: str, how: str) -> bool:
    """Mark the ticket's first response, once; returns whether this was it."""
    if ticket.first_response_at is not None:
        return False
    ticket.first_response_at = at
    ticket.responded_by = by
    session = object_session(ticket)
    if session is not None:
        count_on_commit(session, FIRST_RESPONSES, "within" if at <= ticket.response_due_at else "past")
    ticket.status = STATUS_AT_FIRST_RESPONSE.get(ticket.status, ticket.status)
    note(ticket, at, "first_response", f"{by} {how}")
    return True


_FIRST_RESPONSE = (
    update(TICKETS)
    .where(TICKETS.c.id == bindparam("ticket_id"), TICKETS.c.first_response_at.is_(None))
    .values(
        first_response_at=bindparam("at"),
        responded_by=bindparam("by"),
        status=case(STATUS_AT_FIRST_RESPONSE, value=TICKETS.c.status, else_=TICKETS.c.status),
    )
    .returning(TICKETS.c.response_due_at)
)


def record_first_response_to(session: Session, ticket_id: int, at: datetime, by: str, how: str) -> bool:
    """`record_first_response` for a ticket known by its id, without loading it.

    One `UPDATE` that only a ticket nobody has responded to yet matches, and its timeline
    entry: the engineer accepting a call waits on this before the caller is put through.
    """
    session.flush()  # changes already made in this session go first, as they would with the ORM
    due = session.connection().execute(_FIRST_RESPONSE, {"ticket_id": ticket_id, "at": at, "by": by}).scalar()
    if due is None:
        return False
    count_on_commit(session, FIRST_RESPONSES, "within" if at <= due else "past")
    loaded = session.identity_map.get(session.identity_key(Ticket, ticket_id))
    if loaded is not None:  # a copy this session holds: read what changed under it afresh
        session.expire(loaded, ["first_response_at", "responded_by", "status", "events"])
    _add_event(session, ticket_id, at, "first_response", f"{by} {how}")
    return True


def attach_recording(ticket: Ticket, at: datetime, recording_url: str, seconds: int | None) -> None:
    """Put a voicemail recording on the ticket."""
    if ticket.recording_url == recording_url:
        return
    ticket.recording_url = recording_url
    length = f" ({seconds} s)" if seconds is not None else ""
    note(ticket, at, "voicemail", f"recording {recording_url}{length}")


def attach_transcript(ticket: Ticket, at: datetime, text: str) -> None:
    """Put a voicemail's transcript on the ticket (and in the description if it had none)."""
    if ticket.transcript == text:
        return
    ticket.transcript = text
    if not ticket.description:
        ticket.description = text
    note(ticket, at, "transcript", text)


def parse_ticket_number(number: str | int) -> int | None:
    """The ticket number `number` spells (ASCII digits, spaces around allowed), or None."""
    return whole_number(number, MAX_TICKET_NUMBER, digits=MAX_TICKET_DIGITS)


def find_ticket(session: Session, number: str | int) -> Ticket | None:
    """The ticket with this number, or None; garbage finds nothing."""
    parsed = parse_ticket_number(number)
    if parsed is None:
        return None
    return session.scalar(select(Ticket).where(Ticket.number == parsed))


def ticket_for_call(session: Session, call_sid: str) -> Ticket | None:
    """The ticket a call opened, if any."""
    return session.scalar(select(Ticket).where(Ticket.call_sid == call_sid))
