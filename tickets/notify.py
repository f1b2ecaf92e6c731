"""What the engineer on duty hears about a ticket: queued in the outbox with the change itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from oncall.schedule import Duty
from tickets import messages
from tickets.models import Notification, Ticket
from tickets.outbox import enqueue


def _to_on_duty(session: Session, ticket: Ticket, duty: Duty, kind: str, body: str, now: datetime) -> int | None:
    member = duty.on_duty
    if member is None or not member.phone:
        return None
    return enqueue(session, ticket=ticket, to_number=member.phone, recipient=member.name, kind=kind, body=body, now=now)


def new_ticket(session: Session, ticket: Ticket, duty: Duty, timezone: str, now: datetime) -> int | None:
    """One `new_ticket` text to the contact on duty when a ticket is opened."""
    body = messages.new_ticket(ticket.number, ticket.severity, ticket.caller_number, ticket.callback_number,
                               ticket.response_due_at, timezone, ticket.source)
    return _to_on_duty(session, ticket, duty, "new_ticket", body, now)


def missed_call(session: Session, ticket: Ticket, duty: Duty, now: datetime) -> int | None:
    """Nobody took the caller's call."""
    body = messages.missed_call(ticket.number, ticket.severity, ticket.caller_number, ticket.callback_number)
    return _to_on_duty(session, ticket, duty, "missed_call", body, now)


def voicemail(session: Session, ticket: Ticket, duty: Duty, now: datetime) -> int | None:
    """The caller left a message (with an excerpt of its transcript when there is one)."""
    body = messages.voicemail(ticket.number, ticket.severity, ticket.transcript)
    return _to_on_duty(session, ticket, duty, "voicemail", body, now)


def reopened(session: Session, ticket: Ticket, duty: Duty, requester: str, why: str | None,
             now: datetime) -> int | None:
    """The requester says a resolved ticket is not resolved: the engineer on duty hears it (each time)."""
    body = messages.reopened(ticket.number, ticket.severity, requester, why)
    member = duty.on_duty
    if member is None or not member.phone:
        return None
    return enqueue(session, ticket=ticket, to_number=member.phone, recipient=member.name, kind="reopened", body=body,
                   now=now, once_per_ticket=False)


def callback(session: Session, ticket: Ticket, engineer_phone: str, engineer_name: str, now: datetime) -> Notification:
    """An engineer callback: a call to the engineer that then dials the customer (not once-per-ticket)."""
    body = messages.callback(ticket.number, ticket.callback_number or "no callback number")
    queued = enqueue(session, ticket=ticket, to_number=engineer_phone, recipient=engineer_name, kind="callback",
                     body=body, now=now, channel="call", once_per_ticket=False)
    notification = session.get(Notification, queued)
    assert notification is not None  # not deduplicated, so always queued
    return notification
