"""The changes made to tickets: by integrators through the REST API (`create_ticket`,
`update_ticket`) and by engineers on the ticket page (acknowledge, resolve, reopen, notes,
callbacks), and the SLA summary.

Each change is a whole unit of work: it takes the session, the time and the actor, checks
everything first, and commits once. The records they build on are `tickets.records`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.db import rows_and_more
from core.limits import storable
from oncall.models import Contact
from core.phones import checked_phone, to_e164
from oncall.schedule import Duty
from tickets import notify
from tickets.models import FIRST_TICKET_NUMBER, Notification, Ticket, TicketCounter, TicketEvent
from tickets.records import find_ticket, note, open_ticket, parse_ticket_number, record_first_response
from tickets.sla import BusinessCalendar, Severity, parse_severity, response_due, target_description

# ----------------------------------------------------------------------------- the REST API's changes

STATUSES = ("open", "acknowledged", "resolved")
MAX_DESCRIPTION_LENGTH = 10_000
CREATE_FIELDS = frozenset({"severity", "description", "caller_number", "callback_number"})
UPDATE_FIELDS = frozenset({"status", "severity", "description", "callback_number"})
# Longest piece of a client's input repeated back in an error message or an event.
MAX_ECHO = 60


class InvalidTicketChange(ValueError):
    """A ticket change that cannot be saved; the message says what to fix."""


class TicketNotFound(LookupError):
    """No ticket has that number."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + f"… ({len(text)} characters)"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """A ticket as the REST API shows it (contract §7), its timeline included."""
    return {
        "number": ticket.number,
        "severity": ticket.severity,
        "status": ticket.status,
        "source": ticket.source,
        "caller_number": ticket.caller_number,
        "callback_number": ticket.callback_number,
        "description": ticket.description,
        "created_at": _iso(ticket.created_at),
        "response_due_at": _iso(ticket.response_due_at),
        "first_response_at": _iso(ticket.first_response_at),
        "responded_by": ticket.responded_by,
        "resolved_at": _iso(ticket.resolved_at),
        "call_sid": ticket.call_sid,
        "recording_url": ticket.recording_url,
        "transcript": ticket.transcript,
        "events": [{"at": _iso(e.at), "kind": e.kind, "detail": e.detail} for e in ticket.events],
    }


def parse_status(value: Any) -> str:
    """A ticket status from user input (case and surrounding spaces ignored); ValueError names the allowed ones."""
    if isinstance(value, str) and value.strip().lower() in STATUSES:
        return value.strip().lower()
    raise ValueError(f"unknown status {_shown(value)}; allowed values: {', '.join(STATUSES)}")


def get_ticket(session: Session, number: str | int) -> Ticket:
    """The ticket with this number, or TicketNotFound (garbage included)."""
    ticket = find_ticket(session, number)
    if ticket is None:
        raise TicketNotFound(f"there is no ticket {_shown(str(number))}")
    return ticket


def list_tickets(
    session: Session,
    *,
    statuses: Collection[str] = (),
    severities: Collection[Severity] = (),
    limit: int,
    offset: int,
    with_total: bool = False,
) -> tuple[list[Ticket], bool, int | None]:
    """A page of tickets, newest first, with their timelines loaded in one query; whether more
    follow; and, `with_total`, how many match. Empty `statuses` or `severities` mean any.
    """
    query = select(Ticket)
    if statuses:
        query = query.where(Ticket.status.in_(list(statuses)))
    if severities:
        query = query.where(Ticket.severity.in_([s.value for s in severities]))
    total = None
    if with_total and (statuses or severities):
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    elif with_total:
        # Every ticket takes the next number from the counter in its own transaction and tickets
        # are never deleted, so the counter is the count, without reading a million rows.
        taken = session.scalar(select(TicketCounter.next_number).where(TicketCounter.id == 1))
        total = (taken or FIRST_TICKET_NUMBER) - FIRST_TICKET_NUMBER
    ordered = query.options(selectinload(Ticket.events)).order_by(Ticket.created_at.desc(), Ticket.number.desc())
    rows, more = rows_and_more(session, ordered, limit, offset)
    return rows, more, total


def _checked_severity(fields: dict[str, Any]) -> Severity:
    try:
        return parse_severity(fields.get("severity"))
    except ValueError:
        allowed = ", ".join(s.value for s in Severity)
        raise InvalidTicketChange(
            f"severity must be one of {allowed}; got {_shown(fields.get('severity'))}"
        ) from None


def _checked_status(fields: dict[str, Any]) -> str:
    try:
        return parse_status(fields.get("status"))
    except ValueError:
        raise InvalidTicketChange(
            f"status must be one of {', '.join(STATUSES)}; got {_shown(fields.get('status'))}"
        ) from None


def _checked_description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTicketChange("description must be text or null")
    value = value.strip()
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise InvalidTicketChange(f"description must be at most {MAX_DESCRIPTION_LENGTH} characters")
    if not storable(value):
        raise InvalidTicketChange("description must not contain NUL characters or unpaired surrogates")
    return value or None


def _checked_phone(name: str, value: Any, region: str) -> str | None:
    """An optional phone number: none given is None."""
    if value is None or value == "":
        return None
    return checked_phone(name, value, region, InvalidTicketChange)


def _refuse_unknown(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        names = ", ".join(_shown(name) for name in sorted(unknown)[:10])
        raise InvalidTicketChange(
            f"unknown or read-only fields: {names}; allowed fields: {', '.join(sorted(allowed))}"
        )


def create_ticket(
    session: Session,
    fields: dict[str, Any],
    *,
    region: str,
    calendar: BusinessCalendar,
    now: datetime,
    actor: str,
    duty_at: Callable[[datetime], Duty],
) -> Ticket:
    """Open a ticket from an integrator's `severity` (required), `description`, `caller_number`
    and `callback_number` (E.164, or national in `region`); its source is "api".

    Like a ticket from the phone, it queues one `new_ticket` text to whoever `duty_at`
    says is on duty now, in the same transaction.
    """
    _refuse_unknown(fields, CREATE_FIELDS)
    severity = _checked_severity(fields)
    description = _checked_description(fields.get("description"))
    caller_number = _checked_phone("caller_number", fields.get("caller_number"), region)
    callback_number = _checked_phone("callback_number", fields.get("callback_number"), region)
    ticket = open_ticket(
        session,
        severity=severity,
        source="api",
        now=now,
        calendar=calendar,
        caller_number=caller_number,
        callback_number=callback_number,
        description=description,
        notes=[("opened_by", f"{actor} through the REST API")],
    )
    notify.new_ticket(session, ticket, duty_at(now), calendar.timezone, now)
    session.commit()
    return ticket


def _locked_ticket(session: Session, number: str) -> Ticket:
    parsed = parse_ticket_number(number)
    ticket = None
    if parsed is not None:
        # Two changes to one ticket at once take turns (PostgreSQL; SQLite's write lock does the same).
        ticket = session.scalar(
            select(Ticket)
            .where(Ticket.number == parsed)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    if ticket is None:
        raise TicketNotFound(f"there is no ticket {_shown(str(number))}")
    return ticket


def update_ticket(
    session: Session,
    number: str,
    fields: dict[str, Any],
    *,
    region: str,
    calendar: BusinessCalendar,
    now: datetime,
    actor: str,
) -> Ticket:
    """Change some of a ticket's `status`, `severity`, `description` and `callback_number`.

    Every field is checked before anything changes, and each real change is an event on
    the ticket's timeline, naming `actor`. Status moves freely between open, acknowledged
    and resolved. Acknowledging or resolving a ticket nobody has answered yet is its
    first response (by `actor`; as with SMS `ACK` and `RESOLVE`); resolving sets
    `resolved_at`, leaving resolved clears it. A new severity recomputes
    `response_due_at` from `created_at`, as if the ticket had been opened with it.
    """
    ticket = _locked_ticket(session, number)
    _refuse_unknown(fields, UPDATE_FIELDS)
    status = _checked_status(fields) if "status" in fields else None
    severity = _checked_severity(fields) if "severity" in fields else None
    description = _checked_description(fields["description"]) if "description" in fields else None
    callback = _checked_phone("callback_number", fields["callback_number"], region) if "callback_number" in fields else None

    if severity is not None and severity.value != ticket.severity:
        old = ticket.severity
        ticket.severity = severity.value
        ticket.response_due_at = response_due(severity, ticket.created_at, calendar)
        note(ticket, now, "reclassified",
             f"{old} → {severity.value} by {actor}; first response due {ticket.response_due_at.isoformat()} "
             f"({target_description(severity)} from creation)")
    if "description" in fields and description != ticket.description:
        ticket.description = description
        note(ticket, now, "description",
             f"changed by {actor}: {_clip_text(description)}" if description else f"cleared by {actor}")
    if "callback_number" in fields and callback != ticket.callback_number:
        note(ticket, now, "callback_number", f"{ticket.callback_number or 'none'} → {callback or 'none'} by {actor}")
        ticket.callback_number = callback
    if status is not None and status != ticket.status:
        _move_status(ticket, status, now, actor)
    session.commit()
    return ticket


def _clip_text(text: str) -> str:
    return text if len(text) <= 200 else text[:200] + f"… ({len(text)} characters)"


def _move_status(ticket: Ticket, status: str, now: datetime, actor: str) -> None:
    old = ticket.status
    if status in ("acknowledged", "resolved") and ticket.first_response_at is None:
        record_first_response(ticket, now, actor, f"{status} it")
    ticket.status = status
    ticket.resolved_at = now if status == "resolved" else None
    kind = {"open": "reopened", "acknowledged": "acknowledged", "resolved": "resolved"}[status]
    note(ticket, now, kind, f"{old} → {status} by {actor}")


# ----------------------------------------------------------------------------- the engineers' ticket page

MAX_NOTE_LENGTH = 2_000
SLA_SUMMARY_DAYS = 30


class TicketConflict(InvalidTicketChange):
    """The ticket's state does not allow the action now: already resolved, no number to call…"""


def acknowledge_ticket(session: Session, number: str, *, now: datetime, actor: str) -> Ticket:
    """Acknowledge an open ticket: its first response (by `actor`) if it had none, as SMS `ACK` is.

    Refused (TicketConflict) for a ticket that is resolved or already acknowledged.
    """
    ticket = _locked_ticket(session, number)
    if ticket.status == "resolved":
        raise TicketConflict(f"ticket {ticket.number} is resolved; reopen it first")
    if ticket.status == "acknowledged":
        raise TicketConflict(f"ticket {ticket.number} was already acknowledged"
                             + (f" by {ticket.responded_by}" if ticket.responded_by else ""))
    _move_status(ticket, "acknowledged", now, actor)
    session.commit()
    return ticket


def resolve_ticket(session: Session, number: str, *, now: datetime, actor: str) -> Ticket:
    """Resolve a ticket; resolving one nobody had answered is its first response, as SMS `RESOLVE` is."""
    ticket = _locked_ticket(session, number)
    if ticket.status == "resolved":
        raise TicketConflict(f"ticket {ticket.number} is already resolved")
    _move_status(ticket, "resolved", now, actor)
    session.commit()
    return ticket


def reopen_ticket(session: Session, number: str, *, now: datetime, actor: str) -> Ticket:
    """Open a resolved ticket again; its first response, met or missed, stays as it was."""
    ticket = _locked_ticket(session, number)
    if ticket.status != "resolved":
        raise TicketConflict(f"ticket {ticket.number} is not resolved, so there is nothing to reopen")
    _move_status(ticket, "open", now, actor)
    session.commit()
    return ticket


def checked_note(text: Any) -> str:
    """A note as it will be saved (surrounding spaces dropped), or InvalidTicketChange saying what to fix."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidTicketChange("the note is empty; write what was done or found")
    text = text.strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidTicketChange(f"a note may be at most {MAX_NOTE_LENGTH} characters; this one has {len(text)}")
    if not storable(text):
        raise InvalidTicketChange("the note must not contain NUL characters or unpaired surrogates")
    return text


def add_note(session: Session, number: str, text: Any, *, now: datetime, actor: str) -> TicketEvent:
    """Add an engineer's note to a ticket's timeline (resolved tickets too: what was learnt afterwards)."""
    ticket = _locked_ticket(session, number)
    event = note(ticket, now, "note", f"{actor}: {checked_note(text)}")
    session.commit()
    return event


def start_callback(session: Session, number: str, contact_id: Any, *, region: str, now: datetime,
                   actor: str) -> tuple[Ticket, Notification]:
    """Queue an engineer callback, as SMS `CALL` does: the worker rings the contact, then the customer.

    `contact_id` names an active contact with a usable phone. Refused for a resolved
    ticket, a ticket without a callback number, and while a callback to the same
    engineer for this ticket is still waiting to be placed (a second click).
    """
    ticket = _locked_ticket(session, number)
    if ticket.status == "resolved":
        raise TicketConflict(f"ticket {ticket.number} is resolved; reopen it first")
    if not ticket.callback_number:
        raise TicketConflict(f"ticket {ticket.number} has no callback number, so there is nobody to call back")
    contact = _callback_engineer(session, contact_id)
    phone = to_e164(contact.phone, region)
    if phone is None:
        raise InvalidTicketChange(f"{contact.name}'s phone number {_shown(contact.phone)} cannot be called; "
                                  "correct it on the Contacts page")
    waiting = session.scalar(
        select(Notification.id).where(Notification.ticket_id == ticket.id, Notification.kind == "callback",
                                      Notification.to_number == phone, Notification.status == "pending").limit(1)
    )
    if waiting is not None:
        raise TicketConflict(f"a callback to {contact.name} for ticket {ticket.number} is already waiting "
                             "to be placed; see the notifications below")
    notification = notify.callback(session, ticket, phone, contact.name, now)
    note(ticket, now, "callback_requested",
         f"{actor} asked the line to ring {contact.name} at {phone}, then the customer at {ticket.callback_number}")
    session.commit()
    return ticket, notification


def _callback_engineer(session: Session, contact_id: Any) -> Contact:
    raw = str(contact_id or "").strip()
    if not raw:
        raise InvalidTicketChange("choose the engineer the line should ring first")
    contact = session.get(Contact, int(raw)) if raw.isdigit() and raw.isascii() and len(raw) <= 9 else None
    if contact is None or not contact.active:
        raise InvalidTicketChange(f"there is no active contact {_shown(raw)}; choose one from the list")
    return contact


def ticket_notifications(session: Session, ticket: Ticket) -> list[Notification]:
    """Every message the line sent or will send about a ticket, oldest first (the outbox's rows)."""
    return list(session.scalars(
        select(Notification).where(Notification.ticket_id == ticket.id)
        .order_by(Notification.created_at, Notification.id)
    ))


@dataclass(frozen=True)
class SeveritySummary:
    """How one severity's tickets (or all of them, `severity` "all") kept the first-response target.

    `met`: answered at or before the deadline; `breached`: answered after it, or not
    answered and the deadline has passed; `waiting`: not answered, deadline still ahead.
    `median_response` is over the answered tickets (None when none was answered).
    """

    severity: str
    tickets: int
    met: int
    breached: int
    waiting: int
    median_response: timedelta | None

    @property
    def met_share(self) -> float | None:
        """Met as a share of the tickets whose outcome is known (met or breached), or None."""
        decided = self.met + self.breached
        return self.met / decided if decided else None


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _summarise(severity: str, rows: list[Any], now: datetime) -> SeveritySummary:
    answered = [r for r in rows if r.first_response_at is not None]
    met = sum(1 for r in answered if r.first_response_at <= r.response_due_at)
    waiting = sum(1 for r in rows if r.first_response_at is None and r.response_due_at >= now)
    return SeveritySummary(
        severity=severity,
        tickets=len(rows),
        met=met,
        breached=len(rows) - met - waiting,
        waiting=waiting,
        median_response=_median([r.first_response_at - r.created_at for r in answered]),
    )


def sla_summary(session: Session, since: datetime, now: datetime) -> list[SeveritySummary]:
    """Per severity (critical first, every severity listed) then "all": how tickets created from
    `since` up to `now` kept their first-response target, judged at `now`."""
    rows = session.execute(
        select(Ticket.severity, Ticket.created_at, Ticket.response_due_at, Ticket.first_response_at)
        .where(Ticket.created_at >= since, Ticket.created_at <= now)
    ).all()
    summaries = [_summarise(s.value, [r for r in rows if r.severity == s.value], now) for s in Severity]
    return [*summaries, _summarise("all", list(rows), now)]
