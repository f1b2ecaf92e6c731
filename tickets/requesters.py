"""What customers and partners do with tickets on the web: log a request, add to its conversation,
confirm a resolution or say it is not one, answer whether it was resolved to their satisfaction;
and the worker's closing of resolved tickets nobody answered.

The portal decides who may see a ticket; these functions take the person acting and a ticket they may
act on, check what they were given (`InvalidTicketChange` names the field), and commit once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.limits import storable
from oncall.schedule import Duty
from people.models import Person
from tickets import notify
from tickets.fields import (
    MAX_DESCRIPTION_LENGTH,
    InvalidTicketChange,
    TicketConflict,
    checked_optional_phone,
    checked_severity,
)
from tickets.models import SATISFACTION_ANSWERS, Comment, Ticket
from tickets.records import note, open_ticket
from tickets.service import move_status, take_customer_message
from tickets.sla import BusinessCalendar

MAX_SUBJECT_LENGTH = 200
MAX_COMMENT_LENGTH = 10_000
MAX_SATISFACTION_COMMENT = 2_000
MAX_FILES = 10
# Tickets the worker closes in one round: the rest wait for the next.
CLOSE_BATCH = 200


@dataclass(frozen=True)
class Upload:
    """A file a person attached on the web, as the browser sent it."""

    filename: str
    content_type: str
    data: bytes


def author_of(person: Person) -> str:
    """How a person signs a comment: their name and address, as mail from them is signed."""
    return f"{person.name} <{person.email}>" if person.email else person.name


def _checked_text(value: Any, field: str, longest: int, *, required: bool, what: str) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        if required:
            raise InvalidTicketChange(f"the {what} is empty; {_HINTS[field]}", field)
        return None
    if len(text) > longest:
        raise InvalidTicketChange(f"the {what} may be at most {longest} characters; this one has {len(text)}", field)
    if not storable(text):
        raise InvalidTicketChange(f"the {what} must not contain NUL characters or unpaired surrogates", field)
    return text


_HINTS = {
    "subject": "say in a line what is wrong",
    "description": "say what happened, what you expected and what you tried",
    "body": "write what support should read",
}


def size_words(size: int) -> str:
    """A number of bytes as people read it: "10 MB", "1.5 kB", "700 bytes"."""
    for unit, name in ((1_000_000, "MB"), (1_000, "kB")):
        if size >= unit:
            return f"{size / unit:.1f}".removesuffix(".0") + f" {name}"
    return f"{size} bytes"


def _checked_files(files: Sequence[Upload], limit: int) -> list[tuple[str, str, bytes]]:
    kept = [f for f in files if f.filename or f.data]
    if len(kept) > MAX_FILES:
        raise InvalidTicketChange(f"attach at most {MAX_FILES} files; these are {len(kept)}", "files")
    total = sum(len(f.data) for f in kept)
    if total > limit:
        raise InvalidTicketChange(f"the files add up to {size_words(total)}; at most {size_words(limit)} go with "
                                  "one message", "files")
    for upload in kept:
        if not upload.data:
            raise InvalidTicketChange(f"{upload.filename or 'a file'} is empty", "files")
    return [(_safe_filename(f.filename), f.content_type or "application/octet-stream", f.data) for f in kept]


def _safe_filename(name: str) -> str:
    """The file's own name, without any folder a browser sent along, printable and not too long."""
    base = name.replace("\\", "/").rpartition("/")[2].strip()
    printable = "".join(ch for ch in base if ch.isprintable()) or "attachment"
    return printable[-255:]


def log_request(session: Session, fields: dict[str, Any], files: Sequence[Upload], *, requester: Person,
                organization_id: int | None, region: str, calendar: BusinessCalendar, now: datetime,
                duty: Duty, max_bytes: int) -> Ticket:
    """Open a ticket from the portal's form (source `web`): `severity` (the customer's, and support's
    until it reclassifies), `subject`, `description`, optional `callback_number`, and files.

    `organization_id` is the organisation it is for (a partner files for a customer it manages; the
    portal checks that). The description and files open the conversation; the engineer on duty is
    texted, as for every ticket.
    """
    severity = checked_severity(fields)
    subject = _checked_text(fields.get("subject"), "subject", MAX_SUBJECT_LENGTH, required=True, what="subject")
    description = _checked_text(fields.get("description"), "description", MAX_DESCRIPTION_LENGTH, required=True,
                                what="description")
    callback = checked_optional_phone("callback_number", fields.get("callback_number"), region)
    attachments = _checked_files(files, max_bytes)
    ticket = open_ticket(session, severity=severity, reported_severity=severity, source="web", now=now,
                         calendar=calendar, callback_number=callback, description=description,
                         requester_id=requester.id, subject=subject,
                         notes=[("web", f"logged on the web by {author_of(requester)}")])
    if organization_id != ticket.organization_id:
        ticket.organization_id = organization_id
    take_customer_message(ticket, at=now, author=author_of(requester), channel="web", body=description or "",
                          attachments=attachments)
    notify.new_ticket(session, ticket, duty, calendar.timezone, now)
    session.commit()
    return ticket


def _refuse_closed(ticket: Ticket) -> None:
    if ticket.status == "closed":
        raise TicketConflict(f"ticket {ticket.number} is closed; log a new request and mention it")


def comment(session: Session, ticket: Ticket, body: Any, files: Sequence[Upload], *, person: Person,
            now: datetime, max_bytes: int) -> Comment:
    """A person's comment on the web, with files: public, and a resolved ticket opened again, as a reply
    by mail does."""
    _refuse_closed(ticket)
    text = _checked_text(body, "body", MAX_COMMENT_LENGTH, required=True, what="comment") or ""
    added = take_customer_message(ticket, at=now, author=author_of(person), channel="web", body=text,
                                  attachments=_checked_files(files, max_bytes))
    session.commit()
    return added


def confirm_resolved(session: Session, ticket: Ticket, *, person: Person, now: datetime) -> Ticket:
    """The requester says the resolution holds: the ticket is closed."""
    if ticket.status != "resolved":
        raise TicketConflict(f"ticket {ticket.number} is {ticket.status}: only a resolved ticket can be confirmed")
    move_status(ticket, "closed", now, author_of(person), detail="the requester confirmed it is resolved")
    session.commit()
    return ticket


def not_resolved(session: Session, ticket: Ticket, why: Any, *, person: Person, now: datetime, duty: Duty) -> Ticket:
    """The requester says a resolved ticket is not: it opens again, their words join the conversation,
    and the engineer on duty is texted."""
    if ticket.status != "resolved":
        raise TicketConflict(f"ticket {ticket.number} is {ticket.status}, not resolved")
    reason = _checked_text(why, "why", MAX_COMMENT_LENGTH, required=False, what="comment")
    who = author_of(person)
    if reason:
        take_customer_message(ticket, at=now, author=who, channel="web", body=reason)
    if ticket.status == "resolved":
        move_status(ticket, "open", now, who, detail="the requester says it is not resolved")
    notify.reopened(session, ticket, duty, person.name, reason, now)
    session.commit()
    return ticket


def rate(session: Session, ticket: Ticket, answer: Any, remark: Any, *, person: Person, now: datetime) -> Ticket:
    """Record whether the ticket was resolved to the requester's satisfaction (`yes` or `no`, with an
    optional comment); answering again replaces the answer."""
    if ticket.status not in ("resolved", "closed"):
        raise TicketConflict(f"ticket {ticket.number} is {ticket.status}: it can be rated once it is resolved")
    if answer not in SATISFACTION_ANSWERS:
        raise InvalidTicketChange("answer yes or no", "answer")
    words = _checked_text(remark, "remark", MAX_SATISFACTION_COMMENT, required=False, what="comment")
    ticket.satisfaction, ticket.satisfaction_comment, ticket.satisfaction_at = answer, words, now
    note(ticket, now, "rated", f"{author_of(person)}: resolved to their satisfaction: {answer}"
                               + (f"; {words}" if words else ""))
    session.commit()
    return ticket


def close_unanswered(session: Session, now: datetime, days: int) -> int:
    """Close the tickets resolved more than `days` days ago that nobody answered since; how many
    (at most CLOSE_BATCH a round)."""
    due = now - timedelta(days=days)
    tickets = list(session.scalars(
        select(Ticket).where(Ticket.status == "resolved", Ticket.resolved_at <= due)
        .order_by(Ticket.resolved_at).limit(CLOSE_BATCH).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)))
    for ticket in tickets:
        move_status(ticket, "closed", now, "support",
                     detail=f"nobody answered in the {days} days after it was resolved")
    session.commit()
    return len(tickets)
