"""Tickets, their numbering and their event timeline."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, column
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from oncall.models import Contact
from people.models import Organization, Person

# Ticket numbers are what callers type, so they start at five digits and grow in order.
FIRST_TICKET_NUMBER = 10001
# What a ticket's `status` may be (contracts §7 and §8), in the order a ticket usually takes them. A closed
# ticket is done for good: the requester confirmed the resolution, or nobody answered it for AUTO_CLOSE_DAYS.
STATUSES = ("open", "acknowledged", "resolved", "closed")
# Tickets still waiting on support.
UNRESOLVED = ("open", "acknowledged")
# What the requester answers when asked whether a ticket was resolved to their satisfaction.
SATISFACTION_ANSWERS = ("yes", "no")


class Ticket(Base):
    """A support request with its first-response deadline."""

    __tablename__ = "tickets"
    # A filtered list (?status=open) newest first reads only the matching rows.
    __table_args__ = (
        Index("ix_tickets_status_created_at", "status", "created_at"),
        Index("ix_tickets_severity_created_at", "severity", "created_at"),
        # A person's tickets and an organisation's of one status, newest first (the portal's "My tickets").
        Index("ix_tickets_requester_status_created", "requester_id", "status", "created_at"),
        Index("ix_tickets_organization_status_created", "organization_id", "status", "created_at"),
        # The SLA report reads the tickets nobody has answered yet, and those answered late, by when
        # they were opened: a few rows each, however many tickets there are.
        Index("ix_tickets_unanswered_created", "created_at", sqlite_where=column("first_response_at").is_(None),
              postgresql_where=column("first_response_at").is_(None)),
        Index("ix_tickets_answered_late_created", "created_at",
              sqlite_where=column("first_response_at") > column("response_due_at"),
              postgresql_where=column("first_response_at") > column("response_due_at")),
        # The report counts resolutions and satisfaction answers by when they happened, a period at a time.
        Index("ix_tickets_resolved_at", "resolved_at", sqlite_where=column("resolved_at").is_not(None),
              postgresql_where=column("resolved_at").is_not(None)),
        Index("ix_tickets_satisfaction_at", "satisfaction_at", sqlite_where=column("satisfaction_at").is_not(None),
              postgresql_where=column("satisfaction_at").is_not(None)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    severity: Mapped[str] = mapped_column(String(10), index=True)  # support's classification
    reported_severity: Mapped[str | None] = mapped_column(String(10))  # what the customer chose or wrote
    status: Mapped[str] = mapped_column(String(16), index=True, default="open")
    source: Mapped[str] = mapped_column(String(8))  # phone | web | api | email
    caller_number: Mapped[str | None] = mapped_column(String(20))
    callback_number: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    response_due_at: Mapped[datetime] = mapped_column(index=True)
    first_response_at: Mapped[datetime | None]
    responded_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    transcript: Mapped[str | None] = mapped_column(Text)
    # Who asked (a known person), and so their organisation as it was when the ticket was opened.
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))

    subject: Mapped[str | None] = mapped_column(String(200))  # an e-mail's subject, without the [#number] tag
    # The requester's answer to "resolved to your satisfaction?" (one of SATISFACTION_ANSWERS), their words, when.
    satisfaction: Mapped[str | None] = mapped_column(String(3))
    satisfaction_comment: Mapped[str | None] = mapped_column(Text)
    satisfaction_at: Mapped[datetime | None]

    requester: Mapped[Person | None] = relationship()
    organization: Mapped[Organization | None] = relationship()
    comments: Mapped[list[Comment]] = relationship(order_by="Comment.id", back_populates="ticket")
    # The line's own mails about the ticket (acknowledgement, status): its replies are comments already.
    automatic_mails: Mapped[list[Notification]] = relationship(
        primaryjoin="and_(Notification.ticket_id == Ticket.id, Notification.channel == 'email', "
                    "Notification.kind != 'reply')",
        order_by="Notification.id", viewonly=True)
    events: Mapped[list[TicketEvent]] = relationship(
        order_by="TicketEvent.id", cascade="all, delete-orphan", back_populates="ticket"
    )


class TicketEvent(Base):
    """One entry of a ticket's timeline: created, first response, voicemail, reclassified…"""

    __tablename__ = "ticket_events"
    # The worker looks up the last day's acknowledgements, resolutions and reclassifications every
    # round (the requester's status mails): by kind and time, not by reading every ticket's timeline.
    # The SLA report's refresh reads every recent entry, whatever its kind, by time.
    __table_args__ = (Index("ix_ticket_events_kind_at", "kind", "at"), Index("ix_ticket_events_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")

    ticket: Mapped[Ticket] = relationship(back_populates="events")


# The ways a message reaches a ticket's conversation (contract §8).
COMMENT_CHANNELS = ("phone", "email", "web", "api", "sms")


class Comment(Base):
    """One message of a ticket's conversation: what a customer wrote or said, or an engineer's reply
    (`public`) or internal note. `author` is a person's name and address, or `admin:<name>`."""

    __tablename__ = "ticket_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(8))  # one of COMMENT_CHANNELS
    public: Mapped[bool] = mapped_column(default=True)
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)  # the e-mail it came as or went as

    ticket: Mapped[Ticket] = relationship(back_populates="comments")
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id", back_populates="comment")


class Attachment(Base):
    """A file that came with a comment (an e-mail's attachment), kept as it came."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("ticket_comments.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read only when the file is downloaded

    comment: Mapped[Comment] = relationship(back_populates="attachments")


class TicketCounter(Base):
    """The single row holding the next ticket number.

    Taking a number is an UPDATE of this row inside the ticket's own transaction, so
    concurrent creators queue on its row lock: numbers are unique, in order and
    without gaps on SQLite and PostgreSQL alike.
    """

    __tablename__ = "ticket_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    next_number: Mapped[int]


class Notification(Base):
    """A message the line sends or will send: the outbox.

    Written in the same transaction as the change that causes it; the worker sends it
    through Twilio and records each attempt. `dedupe_key` makes "once per ticket" hold
    even when the SLA clock runs twice or two workers run at once.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    to_number: Mapped[str] = mapped_column(String(320), index=True)  # E.164, or the address of an e-mail
    recipient: Mapped[str | None] = mapped_column(String(120))  # the contact's name, for pages and logs
    channel: Mapped[str] = mapped_column(String(8))  # sms | call | email
    # new_ticket, missed_call, voicemail, sla_50, sla_80, sla_breach, callback, acknowledgement, reply, status,
    # reopened, sign_in; a scheduled call's invitation, call_reminder, scheduled_call (the ring) and call_missed
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # An e-mail's subject, its own Message-ID (minted by the line) and the message it answers.
    subject: Mapped[str | None] = mapped_column(String(998))
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    # An e-mail's iCalendar invitation (sent as invite.ics), and the scheduled call a message is about.
    calendar: Mapped[str | None] = mapped_column(Text)
    scheduled_call_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_calls.id"), index=True)

    ticket: Mapped[Ticket | None] = relationship()


class TextPace(Base):
    """When the line last texted each number: the outbox's pacing (contract §3), one row per number.

    Claiming a text locks this row, so two workers never text one engineer twice in a minute.
    """

    __tablename__ = "text_pacing"

    to_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_text_at: Mapped[datetime | None]  # None: never texted yet


# A report cell's organisation when it counts every ticket, whichever organisation (or none) it is for.
EVERY_ORGANIZATION = 0


class ReportCell(Base):
    """One cell of the SLA report as the worker last computed it (tickets/report.py): a period (a week or
    month of the support time zone, by its first day), a severity (or "all") and an organisation (or
    EVERY_ORGANIZATION). Counts of tickets opened in the period, except `resolved` and the satisfaction
    answers, which count what happened in it. Response times are in seconds, over the answered tickets."""

    __tablename__ = "report_cells"

    period: Mapped[str] = mapped_column(String(5), primary_key=True)  # week | month
    period_start: Mapped[date] = mapped_column(primary_key=True)
    severity: Mapped[str] = mapped_column(String(10), primary_key=True)
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    opened: Mapped[int]
    answered: Mapped[int]
    within: Mapped[int]  # answered at or before the deadline
    resolved: Mapped[int]
    satisfied: Mapped[int]
    dissatisfied: Mapped[int]
    median_seconds: Mapped[float | None]
    p90_seconds: Mapped[float | None]


class ReportRefresh(Base):
    """When the worker last brought the report's cells up to date, and for which support time zone
    (a new zone moves every period's bounds: the cells are built again)."""

    __tablename__ = "report_refreshes"

    report: Mapped[str] = mapped_column(String(16), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[datetime]



# What a scheduled call may be: waiting for its time; ringing engineers at it; an engineer took it and the
# customer is ringing; put through; not put through (no engineer took it, or the customer did not answer: they were told support will call
# back); called off.
SCHEDULED_CALL_STATES = ("scheduled", "ringing", "connecting", "connected", "not_connected", "cancelled")


class ScheduledCall(Base):
    """A call with the requester that an engineer planned for a time (an upgrade window, say): the line
    sends the invitations, texts a reminder, then at the time rings the engineer and puts them through.

    `timezone` is the zone the time was given in (the requester's or the engineer's): the invitation
    names it. `sequence` is the invitation's iCalendar SEQUENCE, one more at each change. `offered` lists
    the contacts the line has rung for it, in order.
    """

    __tablename__ = "scheduled_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    customer_phone: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    minutes: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    sequence: Mapped[int] = mapped_column(default=0)
    reminded_at: Mapped[datetime | None]
    offered: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))

    ticket: Mapped[Ticket] = relationship()
    contact: Mapped[Contact] = relationship()
