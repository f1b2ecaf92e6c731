"""E-mail the line sends about tickets: what the acknowledgement says, the Message-IDs it mints, and
queueing one acknowledgement for each new ticket whose requester has an address (contract §8).

The worker queues acknowledgements on its rounds, off the phone line's hot path, for tickets from
every channel; the outbox sends them (channel `email`) as it sends texts.

A Message-ID the line mints carries its ticket's number, signed with `SECRET_KEY`
(`itsdangerous`), so a reply naming it in `In-Reply-To` finds its ticket, and nobody can make one
that does without the key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, Signer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.settings import Settings
from people.models import Person
from tickets.links import rating_url, ticket_page_url
from tickets.messages import short_time
from tickets.models import Comment, Notification, Ticket, TicketEvent
from tickets.outbox import enqueue
from tickets.records import note
from tickets.sla import target_description

# A sender gets at most this many automatic replies an hour (contract §8): two loops cannot ping-pong.
AUTO_REPLIES_AN_HOUR = 10
# Tickets younger than this get an acknowledgement; older ones predate the mail (or MAIL_FROM).
ACKNOWLEDGE_WITHIN = timedelta(days=1)
_SALT = "support-line message-id"


@dataclass(frozen=True)
class MailIdentity:
    """Who the line's mail is from (MAIL_FROM) and the key its Message-IDs are signed with (SECRET_KEY)."""

    support_address: str
    secret: str
    portal_base: str | None = None  # PUBLIC_URL: mail links to the ticket's page when the line has one

    @property
    def domain(self) -> str:
        return self.support_address.rpartition("@")[2]


def identity_of(settings: Settings) -> MailIdentity | None:
    """The line's mail identity, or None without MAIL_FROM (then it sends no mail)."""
    return MailIdentity(settings.mail_from, settings.secret_key, settings.public_url) if settings.mail_from else None


def mint_message_id(ticket_number: int, secret: str, domain: str) -> str:
    """A new Message-ID for mail about `ticket_number`, that `ticket_of_message_id` reads back."""
    signed = Signer(secret, salt=_SALT).sign(f"t{ticket_number}.{secrets.token_hex(6)}").decode()
    return f"<{signed}@{domain}>"


def ticket_of_message_id(message_id: str, secret: str) -> int | None:
    """The ticket number a Message-ID the line minted carries; None for any other (or a forged one)."""
    local = message_id.strip().strip("<>").rpartition("@")[0]
    try:
        value = Signer(secret, salt=_SALT).unsign(local).decode()
    except (BadSignature, UnicodeDecodeError):
        return None
    number = value.partition(".")[0].removeprefix("t")
    return int(number) if number.isdigit() else None


def ticket_subject(ticket: Ticket) -> str:
    """`[#10042] Export fails`: the tag mail clients keep in replies, then what the ticket is about."""
    about = ticket.subject or f"Your {ticket.severity} support request by {ticket.source}"
    return f"[#{ticket.number}] {about}"


def _follow_it(ticket: Ticket, portal_base: str | None) -> str:
    return f"Follow it on the web: {ticket_page_url(portal_base, ticket.number)}\n" if portal_base else ""


def reply_text(ticket: Ticket, comment: Comment, portal_base: str | None = None) -> str:
    """A public reply as it is mailed: the engineer's words, then how to answer."""
    return (f"{comment.body}\n\n-- \nReply to this message to answer; keep [#{ticket.number}] in the subject.\n"
            + _follow_it(ticket, portal_base))


def acknowledgement(ticket: Ticket, name: str, timezone: str, portal_base: str | None = None) -> str:
    """The acknowledgement's text: the number, the severity, the response target and its time, how to reply."""
    return (
        f"Hello {name},\n\n"
        f"We have your request: it is ticket {ticket.number}.\n"
        f"Severity: {ticket.severity}. We respond within {target_description(ticket.severity)}, "
        f"by {short_time(ticket.response_due_at, timezone)}.\n\n"
        f"To add to it, reply to this message and keep [#{ticket.number}] in the subject.\n"
        + _follow_it(ticket, portal_base)
        + "\nSupport\n"
    )


def queue_acknowledgements(session: Session, now: datetime, *, timezone: str, secret: str,
                           support_address: str, portal_base: str | None = None) -> int:
    """Queue the acknowledgement of every recent ticket whose requester has an address; returns how many.

    Once per ticket (the outbox's key), at most AUTO_REPLIES_AN_HOUR an hour to one address; one
    over that is recorded on the ticket instead.
    """
    waiting = session.execute(
        select(Ticket, Person)
        .join(Person, Person.id == Ticket.requester_id)
        .where(Ticket.created_at >= now - ACKNOWLEDGE_WITHIN, Person.email.is_not(None),
               ~Ticket.id.in_(select(Notification.ticket_id).where(Notification.kind == "acknowledgement",
                                                                  Notification.ticket_id.is_not(None))))
        .order_by(Ticket.created_at, Ticket.id)
        .execution_options(populate_existing=True)
    ).all()
    queued = 0
    for ticket, person in waiting:
        address = person.email or ""
        if _auto_replies_this_hour(session, address, now) >= AUTO_REPLIES_AN_HOUR:
            _note_once(ticket, now, f"no acknowledgement sent: {address} had {AUTO_REPLIES_AN_HOUR} automatic "
                                    "replies in the last hour")
            continue
        if _queue_mail(session, ticket, person, "acknowledgement",
                       acknowledgement(ticket, person.name, timezone, portal_base),
                       MailIdentity(support_address, secret, portal_base), now, once_per_ticket=True):
            queued += 1
    session.commit()
    return queued


def queue_reply(session: Session, ticket: Ticket, comment: Comment, identity: MailIdentity, now: datetime) -> bool:
    """Queue a public reply to the ticket's requester, if they have an address; whether one was queued.

    The comment gets the mail's Message-ID, so the customer's answer to it finds the ticket either way.
    """
    person = ticket.requester
    if person is None or not person.email:
        return False
    message_id = _queue_mail(session, ticket, person, "reply", reply_text(ticket, comment, identity.portal_base),
                             identity, now, once_per_ticket=False)
    comment.message_id = message_id
    return message_id is not None


def _queue_mail(session: Session, ticket: Ticket, person: Person, kind: str, body: str, identity: MailIdentity,
                now: datetime, *, once_per_ticket: bool = False, dedupe_key: str | None = None) -> str | None:
    """One e-mail to `person` about `ticket` in the outbox, threaded on the conversation's latest mail;
    its minted Message-ID, or None when it was queued before (once per ticket)."""
    answers = session.scalar(select(Comment.message_id).where(Comment.ticket_id == ticket.id,
                                                              Comment.message_id.is_not(None))
                             .order_by(Comment.id.desc()).limit(1))
    queued_id = enqueue(session, ticket=ticket, to_number=person.email or "", recipient=person.name, kind=kind,
                        body=body, now=now, channel="email", once_per_ticket=once_per_ticket, dedupe_key=dedupe_key)
    if queued_id is None:
        return None
    row = session.get(Notification, queued_id)
    assert row is not None
    row.subject = ticket_subject(ticket)
    row.message_id = mint_message_id(ticket.number, identity.secret, identity.domain)
    row.in_reply_to = answers
    return row.message_id


# What the requester hears about by mail, besides replies: a ticket acknowledged, resolved or reclassified.
TOLD_BY_MAIL = ("acknowledged", "resolved", "reclassified")


def status_text(ticket: Ticket, event: TicketEvent, name: str, timezone: str, identity: MailIdentity | None = None,
                now: datetime | None = None) -> str:
    """The mail about one change of the ticket, in the requester's words; with the portal's links when
    the line has a public address (`identity.portal_base`): the ticket's page and, for a resolution,
    one link per answer to "resolved to your satisfaction?"."""
    base = identity.portal_base if identity else None
    if event.kind == "acknowledged":
        news = f"Support has ticket {ticket.number} in hand: it was acknowledged at {short_time(event.at, timezone)}."
    elif event.kind == "resolved":
        news = (f"Ticket {ticket.number} is resolved. If it is not resolved for you, reply to this message and "
                "it opens again.")
        if base and identity and now and ticket.status == "resolved" and ticket.requester_id is not None:
            news += ("\n\nWas it resolved to your satisfaction? One click answers:\n"
                     f"  Yes: {rating_url(base, identity.secret, ticket, 'yes', now)}\n"
                     f"  No:  {rating_url(base, identity.secret, ticket, 'no', now)}")
    else:
        reason = event.detail.partition("; reason: ")[2]
        news = (f"Ticket {ticket.number} is now {ticket.severity}"
                + (f" (you reported it as {ticket.reported_severity})" if ticket.reported_severity else "")
                + (f": {reason}" if reason else ".")
                + f"\nWe respond within {target_description(ticket.severity)}, "
                  f"by {short_time(ticket.response_due_at, timezone)}.")
    return f"Hello {name},\n\n{news}\n\n{_follow_it(ticket, base)}Support\n"


def queue_status_mails(session: Session, now: datetime, *, timezone: str, identity: MailIdentity) -> int:
    """Queue a mail to the requester for each recent acknowledgement, resolution and reclassification of
    their ticket (once each: the outbox key names the timeline entry); returns how many."""
    changes = session.execute(
        select(TicketEvent, Ticket, Person)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .join(Person, Person.id == Ticket.requester_id)
        .where(TicketEvent.kind.in_(TOLD_BY_MAIL), TicketEvent.at >= now - ACKNOWLEDGE_WITHIN,
               Person.email.is_not(None))
        .order_by(TicketEvent.id)
        .execution_options(populate_existing=True)  # the worker's session may hold these rows from a round before
    ).all()
    keys = {event.id: f"{ticket.id}:status:{event.id}" for event, ticket, _ in changes}
    done = set(session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(keys.values()))))
    queued = 0
    for event, ticket, person in changes:
        if keys[event.id] in done:
            continue
        if _queue_mail(session, ticket, person, "status",
                       status_text(ticket, event, person.name, timezone, identity, now), identity,
                       now, dedupe_key=keys[event.id]):
            queued += 1
    session.commit()
    return queued


def _auto_replies_this_hour(session: Session, address: str, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.channel == "email", Notification.to_number == address, Notification.kind == "acknowledgement",
        Notification.created_at > now - timedelta(hours=1))) or 0


def _note_once(ticket: Ticket, now: datetime, detail: str) -> None:
    """Say on the ticket why it got no acknowledgement (once: the clock runs every few seconds)."""
    if not any(e.kind == "not_acknowledged" for e in ticket.events):
        note(ticket, now, "not_acknowledged", detail)
