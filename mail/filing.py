"""Filing mail onto tickets: one conversation per ticket, whatever channel each message came by.

`keep` stores a message's raw bytes first, in its own transaction, so nothing is lost if reading
it fails; `file` then reads it and opens a ticket, or adds it to the ticket it answers. The SMTP
listener and the IMAP fetcher both call `receive`, which does the two.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.metrics import MAIL_RECEIVED, count_on_commit
from core.calendar import BusinessCalendar
from mail.models import InboundMail
from mail.reading import ReadMessage, display_name, message_key, read_message
from oncall.schedule import Duty
from people.models import Person
from people.service import add_unknown_sender, person_by_email
from tickets import notify
from tickets.models import Ticket
from tickets.mailing import ticket_of_message_id
from tickets.records import open_ticket
from tickets.service import take_customer_message

log = logging.getLogger(__name__)

# What the line acts as when it files mail (the audit trail's actor for people it adds).
MAIL_ACTOR = "mail"


@dataclass(frozen=True)
class MailRules:
    """What filing needs of the settings: the support address, the attachment limit, the SLA calendar."""

    support_address: str | None
    max_message_bytes: int
    calendar: BusinessCalendar
    secret: str  # SECRET_KEY: the line's own Message-IDs are signed with it


def keep(session: Session, raw: bytes, *, now: datetime, via: str) -> tuple[InboundMail, bool]:
    """Store `raw` as it came and commit; the stored row and whether it is new (False: the same
    Message-ID was kept before, and that row is returned)."""
    key, message_id = message_key(raw)
    mail = InboundMail(message_key=key, message_id=message_id[:998] if message_id else None, received_at=now,
                       received_via=via, raw=raw, status="received")
    session.add(mail)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = session.scalar(select(InboundMail).where(InboundMail.message_key == key))
        assert existing is not None
        return existing, False
    return mail, True


def receive(session: Session, raw: bytes, *, now: datetime, via: str, rules: MailRules,
            duty_at: Callable[[datetime], Duty]) -> InboundMail:
    """Keep a message, then file it (once: a message kept before is not filed again)."""
    mail, new = keep(session, raw, now=now, via=via)
    if new:
        file(session, mail, now=now, rules=rules, duty_at=duty_at)
    return mail


def file(session: Session, mail: InboundMail, *, now: datetime, rules: MailRules,
         duty_at: Callable[[datetime], Duty]) -> InboundMail:
    """Read a kept message and put it where it belongs; commits. A message that cannot be read is
    marked `failed` with the reason, its raw bytes kept for `refile-mail`."""
    if mail.status in ("filed", "ignored"):
        return mail
    try:
        read = read_message(mail.raw, support_address=rules.support_address)
        _file(session, mail, read, now=now, rules=rules, duty_at=duty_at)
        count_on_commit(session, MAIL_RECEIVED, mail.status)
        session.commit()
    except Exception as error:  # noqa: BLE001 - a message the line cannot file is kept, never dropped
        session.rollback()
        log.exception("mail %s could not be filed", mail.id)
        kept = session.get(InboundMail, mail.id)
        assert kept is not None
        kept.status, kept.why = "failed", f"could not be filed: {type(error).__name__}: {error}"[:2000]
        count_on_commit(session, MAIL_RECEIVED, "failed")
        session.commit()
        return kept
    return mail


def _file(session: Session, mail: InboundMail, read: ReadMessage, *, now: datetime, rules: MailRules,
          duty_at: Callable[[datetime], Duty]) -> None:
    mail.sender = read.sender
    mail.addresses = "\n" + "\n".join(read.addresses) + "\n" if read.addresses else None
    mail.subject = read.subject[:998] or None
    answered = _answered_ticket(session, read, rules.secret)
    if read.automatic or read.sender is None:
        # Kept, and tied to the ticket it concerns, but it makes no ticket, no comment and no reply.
        mail.status, mail.why = "ignored", read.automatic or "no sender address"
        mail.ticket_id = answered.id if answered else None
        return
    requester = person_by_email(session, read.sender)
    stranger_tag = None
    if answered is None and read.ticket_tag is not None:
        tagged = session.scalar(select(Ticket).where(Ticket.number == read.ticket_tag))
        if tagged is not None and _may_reply(session, tagged, read.sender, requester):
            answered = tagged
        elif tagged is not None:
            stranger_tag = tagged.number
    follows_closed = None
    if answered is not None and answered.status == "closed":
        # A closed ticket is done: what comes about it now is a new request, which names the old one.
        follows_closed, answered = answered.number, None
    body, attachments = _kept_parts(read, rules.max_message_bytes)
    author = f"{requester.name} <{read.sender}>" if requester else (
        f"{read.sender_name} <{read.sender}>" if read.sender_name else read.sender)
    if answered is not None:
        take_customer_message(answered, at=now, author=author, channel="email", body=body, attachments=attachments,
                              message_id=read.message_id)
        mail.status, mail.ticket_id = "filed", answered.id
        return
    if requester is None:
        requester = add_unknown_sender(session, read.sender, display_name(read), now=now, actor=MAIL_ACTOR)
        author = f"{requester.name} <{read.sender}>"
    notes = [("email", f"opened by e-mail from {read.sender}"
                       + ("" if read.severity_named else "; no severity named, so normal"))]
    if stranger_tag is not None:
        notes.append(("flagged", f"the subject names ticket {stranger_tag}, but {read.sender} is not its requester, "
                                 "copied on it or of its organisation: opened as a new ticket"))
    if follows_closed is not None:
        notes.append(("follow_up", f"about ticket {follows_closed}, which is closed: opened as a new ticket"))
    if requester.flagged:
        notes.append(("flagged", f"{read.sender} is new: place them in an organisation on the People page"))
    ticket = open_ticket(session, severity=read.severity, source="email", now=now, calendar=rules.calendar,
                         description=body[:4000] or None, requester_id=requester.id,
                         subject=read.subject or None, reported_severity=read.severity if read.severity_named else None,
                         notes=notes)
    take_customer_message(ticket, at=now, author=author, channel="email", body=body, attachments=attachments,
                          message_id=read.message_id)
    notify.new_ticket(session, ticket, duty_at(now), rules.calendar.timezone, now)
    mail.status, mail.ticket_id = "filed", ticket.id


def _answered_ticket(session: Session, read: ReadMessage, secret: str) -> Ticket | None:
    """The ticket of a message this one replies to (In-Reply-To, References): one the line sent (its
    Message-ID carries the ticket, signed) or one it was sent."""
    if not read.references:
        return None
    for reference in read.references:
        number = ticket_of_message_id(reference, secret)
        if number is not None:
            return session.scalar(select(Ticket).where(Ticket.number == number))
    ticket_id = session.scalar(select(InboundMail.ticket_id).where(
        InboundMail.message_id.in_(read.references), InboundMail.ticket_id.is_not(None)).limit(1))
    return session.get(Ticket, ticket_id) if ticket_id is not None else None


def _may_reply(session: Session, ticket: Ticket, sender: str, person: Person | None) -> bool:
    """Whether a `[#number]` from `sender` may add to `ticket`: its requester, someone copied on its
    mail, or a person of its organisation. Anyone else's tag is a guess (a known hole in other desks)."""
    if ticket.requester is not None and ticket.requester.email == sender:
        return True
    if person is not None and ticket.organization_id is not None and person.organization_id == ticket.organization_id:
        return True
    copied = session.scalar(select(InboundMail.id).where(
        InboundMail.ticket_id == ticket.id, InboundMail.addresses.contains(f"\n{sender}\n")).limit(1))
    return copied is not None


def _kept_parts(read: ReadMessage, limit: int) -> tuple[str, list[tuple[str, str, bytes]]]:
    """The comment's text and the attachments kept: all of them within `limit` bytes, else none, and the
    text says which were left out (the raw message still has them)."""
    attachments = [(part.filename, part.content_type, part.data) for part in read.attachments]
    total = sum(len(data) for _, _, data in attachments)
    text = read.text or "(no text)"
    if total <= limit:
        return text, attachments
    left_out = ", ".join(f"{name} ({len(data) / 1_000_000:.1f} MB)" for name, _, data in attachments)
    return (text + f"\n\n[Attachments not kept: {total / 1_000_000:.1f} MB is over the {limit / 1_000_000:g} MB "
            f"a message may bring: {left_out}. The message as it came is kept.]"), []

