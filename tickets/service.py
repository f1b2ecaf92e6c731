"""What happens to tickets: opened, numbered, responded to, given a voicemail.

These functions change the session and leave the commit to the caller, so that a
ticket and the call step that caused it are saved together or not at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tickets.models import FIRST_TICKET_NUMBER, Ticket, TicketCounter, TicketEvent
from tickets.sla import BusinessCalendar, Severity, response_due, target_description

# Longer than any ticket number we will hand out; longer input is not worth a query.
MAX_TICKET_DIGITS = 12


def take_ticket_number(session: Session) -> int:
    """The next ticket number, reserved inside the caller's transaction."""
    taken = session.execute(
        update(TicketCounter)
        .where(TicketCounter.id == 1)
        .values(next_number=TicketCounter.next_number + 1)
        .returning(TicketCounter.next_number)
    ).scalar_one_or_none()
    if taken is None:
        session.add(TicketCounter(id=1, next_number=FIRST_TICKET_NUMBER + 1))
        session.flush()
        return FIRST_TICKET_NUMBER
    return taken - 1


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
) -> Ticket:
    """Open a ticket with its number and its first-response deadline."""
    ticket = Ticket(
        number=take_ticket_number(session),
        severity=severity.value,
        status="open",
        source=source,
        caller_number=caller_number,
        callback_number=callback_number,
        description=description,
        created_at=now,
        response_due_at=response_due(severity, now, calendar),
        call_sid=call_sid,
    )
    session.add(ticket)
    note(ticket, now, "created", f"{severity.value} ticket from {source}; first response due within "
         f"{target_description(severity)}")
    return ticket


def note(ticket: Ticket, at: datetime, kind: str, detail: str = "") -> TicketEvent:
    """Add an entry to the ticket's timeline."""
    event = TicketEvent(at=at, kind=kind, detail=detail)
    ticket.events.append(event)
    return event


def record_first_response(ticket: Ticket, at: datetime, by: str, how: str) -> bool:
    """Mark the ticket's first response, once; returns whether this was it."""
    if ticket.first_response_at is not None:
        return False
    ticket.first_response_at = at
    ticket.responded_by = by
    if ticket.status == "open":
        ticket.status = "acknowledged"
    note(ticket, at, "first_response", f"{by} {how}")
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


def find_ticket(session: Session, number: str | int) -> Ticket | None:
    """The ticket with this number, or None; garbage finds nothing."""
    digits = str(number).strip()
    if not digits.isdigit() or len(digits) > MAX_TICKET_DIGITS or not digits.isascii():
        return None
    return session.scalar(select(Ticket).where(Ticket.number == int(digits)))


def ticket_for_call(session: Session, call_sid: str) -> Ticket | None:
    """The ticket a call opened, if any."""
    return session.scalar(select(Ticket).where(Ticket.call_sid == call_sid))
