"""The changes made to tickets, each a whole unit of work: by integrators through the REST API
(`create_ticket`, `update_ticket`), by engineers on the ticket page and by SMS (acknowledge,
resolve, reopen, notes, callbacks).

Each takes the session, the time and the actor, checks everything first (`tickets.fields`),
and commits once. The records they build on are `tickets.records`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.db import rows_and_more
from core.limits import clipped, row_id
from core.phones import to_e164
from oncall.models import Contact
from oncall.schedule import Duty
from tickets import notify
from tickets.fields import (
    CREATE_FIELDS,
    UPDATE_FIELDS,
    InvalidTicketChange,
    TicketConflict,
    TicketNotFound,
    checked_description,
    checked_note,
    checked_reason,
    checked_reply,
    checked_optional_phone,
    checked_severity,
    checked_status,
    refuse_unknown,
    shown,
)
from tickets.models import FIRST_TICKET_NUMBER, Attachment, Comment, Notification, Ticket, TicketCounter, TicketEvent
from tickets.mailing import MailIdentity, queue_reply
from tickets.records import find_ticket, note, open_ticket, parse_ticket_number, record_first_response
from tickets.sla import BusinessCalendar, Severity, response_due, target_description


def get_ticket(session: Session, number: str | int) -> Ticket:
    """The ticket with this number, or TicketNotFound (garbage included)."""
    ticket = find_ticket(session, number)
    if ticket is None:
        raise TicketNotFound(f"there is no ticket {shown(str(number))}")
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
    ordered = query.options(selectinload(Ticket.events), selectinload(Ticket.requester),
                            selectinload(Ticket.comments).selectinload(Comment.attachments),
                            selectinload(Ticket.automatic_mails)).order_by(
        Ticket.created_at.desc(), Ticket.number.desc())
    rows, more = rows_and_more(session, ordered, limit, offset)
    return rows, more, total


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
    refuse_unknown(fields, CREATE_FIELDS)
    severity = checked_severity(fields)
    description = checked_description(fields.get("description"))
    caller_number = checked_optional_phone("caller_number", fields.get("caller_number"), region)
    callback_number = checked_optional_phone("callback_number", fields.get("callback_number"), region)
    ticket = open_ticket(
        session,
        severity=severity,
        reported_severity=severity,
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


def _refuse_closed(ticket: Ticket) -> None:
    if ticket.status == "closed":
        raise TicketConflict(f"ticket {ticket.number} is closed; a new request opens a new ticket", ticket)


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
        raise TicketNotFound(f"there is no ticket {shown(str(number))}")
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
    `response_due_at` from `created_at`, as if the ticket had been opened with it; its `reason`
    (optional here, asked for on the ticket page) is recorded and told to the requester.
    """
    ticket = _locked_ticket(session, number)
    _refuse_closed(ticket)
    refuse_unknown(fields, UPDATE_FIELDS)
    status = checked_status(fields) if "status" in fields else None
    severity = checked_severity(fields) if "severity" in fields else None
    description = checked_description(fields["description"]) if "description" in fields else None
    callback = checked_optional_phone("callback_number", fields["callback_number"], region) if "callback_number" in fields else None
    reason = checked_reason(fields.get("reason"))
    if reason is not None and severity is None:
        raise InvalidTicketChange("a reason goes with a new severity: give severity too, or leave reason out",
                                  "reason")

    if severity is not None and severity.value != ticket.severity:
        old = ticket.severity
        ticket.severity = severity.value
        ticket.response_due_at = response_due(severity, ticket.created_at, calendar)
        note(ticket, now, "reclassified",
             f"{old} → {severity.value} by {actor}; first response due {ticket.response_due_at.isoformat()} "
             f"({target_description(severity)} from creation)" + (f"; reason: {reason}" if reason else ""))
    if "description" in fields and description != ticket.description:
        ticket.description = description
        note(ticket, now, "description",
             f"changed by {actor}: {clipped(description, 200, say_length=True)}" if description else f"cleared by {actor}")
    if "callback_number" in fields and callback != ticket.callback_number:
        note(ticket, now, "callback_number", f"{ticket.callback_number or 'none'} → {callback or 'none'} by {actor}")
        ticket.callback_number = callback
    if status is not None and status != ticket.status:
        if status == "closed" and ticket.status != "resolved":
            raise TicketConflict(f"ticket {ticket.number} is {ticket.status}: only a resolved ticket can be closed",
                                 ticket)
        move_status(ticket, status, now, actor)
    session.commit()
    return ticket


# The timeline entry of each status a ticket moves to.
_STATUS_EVENTS = {"open": "reopened", "acknowledged": "acknowledged", "resolved": "resolved", "closed": "closed"}


def move_status(ticket: Ticket, status: str, now: datetime, actor: str, via: str = "", detail: str = "") -> None:
    """Move the ticket to `status` with its timeline entry (`detail` says why); acknowledging or
    resolving one nobody answered is its first response. The caller checks the move and commits."""
    old = ticket.status
    if status in ("acknowledged", "resolved") and ticket.first_response_at is None:
        record_first_response(ticket, now, actor, f"{status} it{via}")
    ticket.status = status
    if status != "closed":  # a closed ticket keeps the time it was resolved
        ticket.resolved_at = now if status == "resolved" else None
    note(ticket, now, _STATUS_EVENTS[status], f"{old} → {status} by {actor}" + (f": {detail}" if detail else ""))


def acknowledge_ticket(session: Session, number: str, *, now: datetime, actor: str, via: str = "") -> Ticket:
    """Acknowledge an open ticket, on the ticket page or by SMS `ACK` (`via` " by SMS"): its
    first response (by `actor`) if it had none.

    Refused (TicketConflict) for a ticket that is resolved or already acknowledged.
    """
    ticket = _locked_ticket(session, number)
    _refuse_closed(ticket)
    if ticket.status == "resolved":
        raise TicketConflict(f"ticket {ticket.number} is resolved; reopen it first", ticket)
    if ticket.status == "acknowledged":
        raise TicketConflict(f"ticket {ticket.number} was already acknowledged"
                             + (f" by {ticket.responded_by}" if ticket.responded_by else ""), ticket)
    move_status(ticket, "acknowledged", now, actor, via)
    session.commit()
    return ticket


def resolve_ticket(session: Session, number: str, *, now: datetime, actor: str, via: str = "") -> Ticket:
    """Resolve a ticket, on the ticket page or by SMS `RESOLVE` (`via` " by SMS"); resolving one
    nobody had answered is its first response."""
    ticket = _locked_ticket(session, number)
    _refuse_closed(ticket)
    if ticket.status == "resolved":
        raise TicketConflict(f"ticket {ticket.number} is already resolved", ticket)
    move_status(ticket, "resolved", now, actor, via)
    session.commit()
    return ticket


def reopen_ticket(session: Session, number: str, *, now: datetime, actor: str) -> Ticket:
    """Open a resolved ticket again; its first response, met or missed, stays as it was."""
    ticket = _locked_ticket(session, number)
    _refuse_closed(ticket)
    if ticket.status != "resolved":
        raise TicketConflict(f"ticket {ticket.number} is not resolved, so there is nothing to reopen", ticket)
    move_status(ticket, "open", now, actor)
    session.commit()
    return ticket


def take_customer_message(ticket: Ticket, *, at: datetime, author: str, channel: str, body: str,
                          attachments: Sequence[tuple[str, str, bytes]] = (), message_id: str | None = None) -> Comment:
    """A customer's message on their ticket (an e-mail reply, say): a public comment, and a resolved
    ticket opened again, since they are not satisfied yet. The caller commits."""
    comment = Comment(at=at, author=author, channel=channel, public=True, body=body, message_id=message_id,
                      attachments=[Attachment(filename=name, content_type=kind, size=len(data), data=data)
                                   for name, kind, data in attachments])
    ticket.comments.append(comment)
    if ticket.status == "resolved":
        move_status(ticket, "open", at, author)
    return comment


def add_note(session: Session, number: str, text: Any, *, now: datetime, actor: str,
             channel: str = "web") -> TicketEvent:
    """Add an engineer's internal note (resolved tickets too: what was learnt afterwards): on the timeline,
    and in the conversation as a comment that is not public, so it never leaves the line."""
    ticket = _locked_ticket(session, number)
    body = checked_note(text)
    ticket.comments.append(Comment(at=now, author=actor, channel=channel, public=False, body=body))
    event = note(ticket, now, "note", f"{actor}: {body}")
    session.commit()
    return event


def reply_to_customer(session: Session, number: str, text: Any, *, now: datetime, actor: str, channel: str,
                      mail: MailIdentity | None) -> tuple[Ticket, Comment, bool]:
    """A public reply from support: in the conversation, the ticket's first response if it had none, and
    mailed to the requester when they have an address and the line has one (`mail`).

    Returns the ticket, the comment and whether a mail was queued.
    """
    ticket = _locked_ticket(session, number)
    body = checked_reply(text)
    comment = Comment(at=now, author=actor, channel=channel, public=True, body=body)
    ticket.comments.append(comment)
    if ticket.first_response_at is None:
        record_first_response(ticket, now, actor, "replied to the customer")
    mailed = mail is not None and queue_reply(session, ticket, comment, mail, now)
    session.commit()
    return ticket, comment, mailed


def start_callback(session: Session, number: str, contact_id: Any, *, region: str, now: datetime,
                   actor: str) -> tuple[Ticket, Notification]:
    """Queue an engineer callback, as SMS `CALL` does: the worker rings the contact, then the customer.

    `contact_id` names an active contact with a usable phone. Refused for a resolved
    ticket, a ticket without a callback number, and while a callback to the same
    engineer for this ticket is still waiting to be placed (a second click).
    """
    ticket = _locked_ticket(session, number)
    _refuse_closed(ticket)
    if ticket.status == "resolved":
        raise TicketConflict(f"ticket {ticket.number} is resolved; reopen it first")
    if not ticket.callback_number:
        raise TicketConflict(f"ticket {ticket.number} has no callback number, so there is nobody to call back")
    contact = engineer_to_ring(session, contact_id)
    phone = to_e164(contact.phone, region)
    if phone is None:
        raise InvalidTicketChange(f"{contact.name}'s phone number {shown(contact.phone)} cannot be called; "
                                  "correct it on the Contacts page", "contact_id")
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


def engineer_to_ring(session: Session, contact_id: Any) -> Contact:
    """The active contact `contact_id` names (an engineer callback's, a scheduled call's), or InvalidTicketChange."""
    raw = str(contact_id or "").strip()
    if not raw:
        raise InvalidTicketChange("choose the engineer the line should ring first", "contact_id")
    number = row_id(raw)
    contact = session.get(Contact, number) if number is not None else None
    if contact is None or not contact.active:
        raise InvalidTicketChange(f"there is no active contact {shown(raw)}; choose one from the list", "contact_id")
    return contact


def ticket_notifications(session: Session, ticket: Ticket) -> list[Notification]:
    """Every message the line sent or will send about a ticket, oldest first (the outbox's rows)."""
    return list(session.scalars(
        select(Notification).where(Notification.ticket_id == ticket.id)
        .order_by(Notification.created_at, Notification.id)
    ))
