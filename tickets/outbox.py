"""The outbox: messages written with the change that causes them, sent later by the worker.

No webhook talks to Twilio's REST API. A webhook (or the SLA clock) only adds rows here,
inside its own transaction; the worker claims due rows, sends them through a `Sender`,
and records Twilio's answer. A claim is a short lease committed before the send, so no
database lock is held while Twilio is being asked, two workers never send the same row
(PostgreSQL: `FOR UPDATE SKIP LOCKED`), and a worker that dies mid-send only delays the
message until its lease runs out (at least once, never silently lost).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Protocol
from urllib.parse import unquote, urlsplit

import icalendar
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from core.db import InsertUnlessPresent
from tickets import messages
from core.metrics import MESSAGES_HANDLED, count_on_commit
from tickets.models import Notification, TextPace, Ticket
from tickets.sla import Severity

log = logging.getLogger(__name__)

# Retries: 30 s, 1 min, 2 min … capped at 30 min, then the message is marked failed.
RETRY_FIRST = timedelta(seconds=30)
RETRY_CAP = timedelta(minutes=30)
MAX_ATTEMPTS = 8
# How long a claimed message is reserved for the worker sending it: well past Twilio's
# 10 s timeout, short enough that a worker killed mid-send delays its messages little.
LEASE = timedelta(seconds=30)
# Pacing (contract §3): at most one text a minute to a number; what falls due meanwhile goes
# together in the next text, and nothing is held longer than this for pacing.
TEXT_INTERVAL = timedelta(minutes=1)


class DeliveryError(Exception):
    """Twilio did not take the message. `retryable`: a 429, a 5xx or a timeout."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Sender(Protocol):
    """Where messages go: Twilio's REST API, or the console in development."""

    def send_sms(self, to: str, body: str) -> str:
        """Send a text; returns the provider's message SID or raises DeliveryError."""

    def start_call(self, to: str, url: str, status_callback: str) -> str:
        """Place a call that plays the TwiML at `url`; returns the call SID or raises DeliveryError."""


class MailSender(Protocol):
    """Where e-mail goes: the SMTP server of MAIL_SMTP_URL, or the console in development."""

    def send_email(self, message: EmailMessage) -> str:
        """Send `message` (its recipients in To); returns the server's acceptance or raises DeliveryError."""


def enqueue(
    session: Session,
    *,
    ticket: Ticket | None,
    to_number: str,
    recipient: str | None,
    kind: str,
    body: str,
    now: datetime,
    channel: str = "sms",
    once_per_ticket: bool = True,
    dedupe_key: str | None = None,
) -> int | None:
    """Add a message to the outbox, in the caller's transaction; its id, or None if it was already there.

    One statement: opening a ticket sends a text while the caller waits for the line's answer.
    "Once per ticket" is the unique `dedupe_key`, so two processes queueing the same message
    at once leave one row and neither fails.
    """
    if ticket is not None and ticket.id is None:
        session.flush()  # a ticket opened in this transaction gets its id
    key = dedupe_key or (f"{ticket.id}:{kind}:{to_number}" if once_per_ticket and ticket is not None else None)
    row = {
        "ticket_id": ticket.id if ticket is not None else None, "to_number": to_number, "recipient": recipient,
        "channel": channel, "kind": kind, "status": "pending", "attempts": 0, "body": body, "created_at": now,
        "next_attempt_at": now, "dedupe_key": key,
    }
    return _INSERT_IF_NEW.run(session, row)


_INSERT_IF_NEW = InsertUnlessPresent(Notification.__table__, "dedupe_key", returning=Notification.__table__.c.id)


def outbox_depth(session: Session) -> tuple[int, datetime | None]:
    """How many messages wait to be sent, and when the oldest of them was queued (None: none waits)."""
    pending, oldest = session.execute(select(func.count(), func.min(Notification.created_at))
                                      .where(Notification.status == "pending")).one()
    return pending or 0, oldest


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure."""
    return min(RETRY_FIRST * (2 ** max(attempts - 1, 0)), RETRY_CAP)


@dataclass(frozen=True)
class Claim:
    """Messages a worker has reserved for one send: one recipient, one channel.

    `lease_until` doubles as the claim's token: recording the result touches only rows
    still carrying it, so a claim that outlived its lease cannot overwrite another's.
    """

    ids: tuple[int, ...]
    to_number: str
    channel: str
    body: str
    lease_until: datetime
    mail: EmailMessage | None = None  # an e-mail's whole message, headers included


# Never held for pacing: a critical ticket and a breach cannot wait a minute.
def _urgent(row: Notification) -> bool:
    return row.kind == "sla_breach" or (row.kind == "new_ticket" and row.ticket is not None
                                        and row.ticket.severity == "critical")


# Alerts that only ask for a first response: once the ticket has one (an engineer took the
# call, acknowledged or resolved it), sending them would page someone for nothing.
CHASING_KINDS = frozenset({"new_ticket", "sla_50", "sla_80", "sla_breach"})


def _outdated(row: Notification) -> bool:
    """An alert chasing a first response for a ticket that has been answered since it was queued."""
    return row.kind in CHASING_KINDS and row.ticket is not None and (
        row.ticket.first_response_at is not None or row.ticket.status in ("resolved", "closed"))


def _most_severe_first(row: Notification) -> tuple[bool, int, datetime, int]:
    """What would not wait first, then by the ticket's severity, then oldest first."""
    rank = SEVERITY_RANK.get(row.ticket.severity if row.ticket is not None else "", len(SEVERITY_RANK))
    return not _urgent(row), rank, row.created_at, row.id


SEVERITY_RANK = {s.value: rank for rank, s in enumerate(Severity)}


def _text_body(rows: list[Notification]) -> str:
    if len(rows) == 1:
        return rows[0].body
    return messages.digest([
        (r.body, messages.digest_line(r.kind, r.ticket.severity if r.ticket else None,
                                      r.ticket.number if r.ticket else None, r.body))
        for r in rows
    ])


def _pace_of(session: Session, to_number: str) -> TextPace:
    """`to_number`'s pacing row (made on first use), locked until this transaction ends.

    The lock makes two workers that found texts for one engineer at once take turns, so the
    second sees the first's text and waits its minute.
    """
    _INSERT_PACE.run(session, {"to_number": to_number})
    return session.scalars(select(TextPace).where(TextPace.to_number == to_number).with_for_update()
                           .execution_options(populate_existing=True)).one()


_INSERT_PACE = InsertUnlessPresent(TextPace.__table__, "to_number")


def held_until(last_text_at: datetime | None, rows: list[Notification], now: datetime) -> datetime | None:
    """When texts due for one number may go, if not now: a minute after the last text, and never
    more than a minute after the oldest of them fell due; urgent ones go at once."""
    if last_text_at is None or any(_urgent(r) for r in rows):
        return None
    allowed = min(last_text_at, min(r.created_at for r in rows)) + TEXT_INTERVAL
    return allowed if allowed > now else None


def _email_of(row: Notification, mail_from: str | None) -> EmailMessage:
    """An outbox e-mail as it goes out: from the support address, with its own Message-ID, threaded on
    what it answers, and marked automatic (RFC 3834) so that auto-responders leave it alone."""
    message = EmailMessage()
    message["From"] = formataddr(("Support", mail_from or "support@localhost"))
    message["To"] = formataddr((row.recipient or "", row.to_number))
    message["Subject"] = row.subject or "Support"
    message["Date"] = formatdate(row.created_at.timestamp(), usegmt=True)
    message["Message-ID"] = row.message_id or make_msgid()
    if row.in_reply_to:
        message["In-Reply-To"] = row.in_reply_to
        message["References"] = row.in_reply_to
    if row.kind == "acknowledgement":
        message["Auto-Submitted"] = "auto-replied"  # RFC 3834: an automatic answer to their message
    elif row.kind in ("status", "sign_in", "invitation"):
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: a notice the line sends on its own
    message.set_content(row.body)
    if row.calendar:
        # An invitation as calendar clients take it (RFC 6047): text/calendar with the document's METHOD.
        method = str(icalendar.Calendar.from_ical(row.calendar).get("method", "REQUEST"))
        message.add_attachment(row.calendar, subtype="calendar", filename="invite.ics", params={"method": method})
    return message


def _claim_next(session: Session, now: datetime, mail_from: str | None = None) -> Claim | None:
    """Reserve the next due message; texts to one number go at most once a minute, as a digest."""
    due = (
        select(Notification)
        .where(Notification.status == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .with_for_update(skip_locked=True)
    )
    while True:
        first = session.scalars(due.limit(1)).first()
        if first is None:
            session.rollback()
            return None
        if _outdated(first):
            first.status, first.last_error = "failed", NOT_SENT_ANSWERED
            session.commit()
            continue
        rows = [first]
        if first.channel == "sms":
            # Every text carries what else waits for this number: what is due, and what pacing holds.
            waiting = (
                select(Notification)
                .where(Notification.status == "pending", Notification.channel == "sms",
                       Notification.to_number == first.to_number, Notification.id != first.id,
                       or_(Notification.next_attempt_at <= now, Notification.attempts == 0))
                .options(selectinload(Notification.ticket))
                .with_for_update(skip_locked=True)
            )
            rows += [r for r in session.scalars(waiting) if not _outdated(r)]
            pace = _pace_of(session, first.to_number)
            later = held_until(pace.last_text_at, rows, now)
            if later is not None:
                for row in rows:
                    row.next_attempt_at = later
                session.commit()
                continue
            rows.sort(key=_most_severe_first)
            pace.last_text_at = now
        lease_until = now + LEASE
        for row in rows:
            row.next_attempt_at = lease_until
            row.attempts += 1
        claim = Claim(ids=tuple(r.id for r in rows), to_number=first.to_number, channel=first.channel,
                      body=_text_body(rows), lease_until=lease_until,
                      mail=_email_of(first, mail_from) if first.channel == "email" else None)
        session.commit()
        return claim


def next_due_at(session: Session) -> datetime | None:
    """When the earliest pending message falls due (it may already have): the worker wakes then."""
    at = session.scalar(select(func.min(Notification.next_attempt_at)).where(Notification.status == "pending"))
    session.rollback()
    return at


def _record(session: Session, claim: Claim, now: datetime, sid: str | None, error: DeliveryError | None) -> None:
    held = select(Notification).where(Notification.id.in_(claim.ids), Notification.status == "pending",
                                      Notification.next_attempt_at == claim.lease_until)
    for row in session.scalars(held):
        if error is None:
            row.status, row.sent_at, row.provider_sid, row.last_error = "sent", now, sid, None
            count_on_commit(session, MESSAGES_HANDLED, row.channel, "sent")
        elif not error.retryable or row.attempts >= MAX_ATTEMPTS:
            row.status, row.last_error = "failed", str(error)
            count_on_commit(session, MESSAGES_HANDLED, row.channel, "failed")
        else:
            row.next_attempt_at, row.last_error = now + retry_delay(row.attempts), str(error)
    session.commit()


Clock = Callable[[], datetime]


def send_due(session: Session, sender: Sender, clock: Clock | datetime, *, call_url: str | None = None,
             call_status_url: str | None = None, mail_sender: MailSender | None = None,
             mail_from: str | None = None, limit: int = 200) -> int:
    """Send every message that is due; returns how many sends were made.

    `clock` is read again for each claim and each result (a fixed datetime is taken as a
    stopped clock), so leases and retry times stay right however long Twilio takes.
    """
    now: Clock = (lambda: clock) if isinstance(clock, datetime) else clock
    sends = 0
    while sends < limit:
        claim = _claim_next(session, now(), mail_from)
        if claim is None:
            break
        try:
            if claim.channel == "email":
                if mail_sender is None or claim.mail is None:
                    raise DeliveryError("no mail sender: the worker was started without one", retryable=False)
                sid = mail_sender.send_email(claim.mail)
            elif claim.channel == "call":
                if not call_url or not call_status_url:
                    raise DeliveryError("PUBLIC_URL is not set, so Twilio cannot be told where the call's TwiML is",
                                        retryable=False)
                which = f"?notification={claim.ids[0]}"
                sid = sender.start_call(claim.to_number, call_url + which, call_status_url + which)
            else:
                sid = sender.send_sms(claim.to_number, claim.body)
        except DeliveryError as error:
            if str(error) not in (NOT_SENT_WITHOUT_TWILIO, NOT_SENT_WITHOUT_SMTP):  # the console printed it already
                log.warning("sending notification %s to %s failed: %s", claim.ids, claim.to_number, error)
            _record(session, claim, now(), None, error)
        else:
            _record(session, claim, now(), sid, None)
        sends += 1
    return sends


class TwilioSender:
    """Messages through Twilio's REST API (`twilio.rest.Client`)."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str, timeout: float = 10.0) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        self.from_number = from_number

    def _deliver(self, create, **fields) -> str:  # type: ignore[no-untyped-def]
        from requests.exceptions import RequestException
        from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException

        try:
            return create(**fields).sid
        except (TwilioRestException, TwilioServiceException) as error:
            # 429 and 5xx may pass; any other 4xx (a bad number, a blocked account) will not.
            status = int(error.status)
            detail = getattr(error, "msg", None) or getattr(error, "detail", None) or getattr(error, "title", "")
            raise DeliveryError(f"Twilio answered {status}: {detail}", status == 429 or status >= 500) from None
        except (RequestException, TwilioException) as error:
            raise DeliveryError(f"Twilio could not be reached: {error}", retryable=True) from None
        except ValueError as error:
            # An answer Twilio's client could not read: it may have been taken, so try again (at least once).
            raise DeliveryError(f"Twilio's answer could not be read: {error}", retryable=True) from None

    def send_sms(self, to: str, body: str) -> str:
        """Send a text from the support number."""
        return self._deliver(self.client.messages.create, to=to, from_=self.from_number, body=body)

    def start_call(self, to: str, url: str, status_callback: str) -> str:
        """Ring `to` from the support number; Twilio fetches the call's TwiML from `url`."""
        return self._deliver(self.client.calls.create, to=to, from_=self.from_number, url=url, method="POST",
                             status_callback=status_callback, status_callback_method="POST")


NOT_SENT_WITHOUT_TWILIO = "not sent: no Twilio account is configured (printed to the worker's console)"
NOT_SENT_WITHOUT_SMTP = "not sent: MAIL_SMTP_URL is not set (printed to the worker's console)"
NOT_SENT_ANSWERED = "not sent: the ticket was answered before this went out"


def fate_of(notification: Notification) -> tuple[str, bool]:
    """How a message's fate reads on the pages: in words, and whether someone should look into it.

    A message the line chose not to send (no Twilio account in development, or a ticket answered
    meanwhile) is stored as `failed`, as the API's three statuses have it, but nothing went wrong.
    """
    if notification.status == "failed" and notification.last_error == NOT_SENT_WITHOUT_TWILIO:
        return "printed (no Twilio account)", False
    if notification.status == "failed" and notification.last_error == NOT_SENT_WITHOUT_SMTP:
        return "printed (no mail server)", False
    if notification.status == "failed" and notification.last_error == NOT_SENT_ANSWERED:
        return "not needed (answered)", False
    if notification.status == "pending" and notification.channel == "call":
        return "queued", False
    return notification.status, notification.status == "failed"


class ConsoleSender:
    """Development without Twilio credentials: messages are printed, never marked sent."""

    def __init__(self, write=print) -> None:  # type: ignore[no-untyped-def]
        self.write = write

    def send_sms(self, to: str, body: str) -> str:
        """Print the text; it was not sent, and the outbox says so."""
        self.write(f"SMS to {to}: {body}")
        raise DeliveryError(NOT_SENT_WITHOUT_TWILIO, retryable=False)

    def start_call(self, to: str, url: str, status_callback: str) -> str:
        """Print the call that would be placed."""
        self.write(f"CALL to {to}, TwiML from {url}")
        raise DeliveryError(NOT_SENT_WITHOUT_TWILIO, retryable=False)


class ConsoleMailSender:
    """Development without MAIL_SMTP_URL: e-mail is printed, never marked sent."""

    def __init__(self, write=print) -> None:  # type: ignore[no-untyped-def]
        self.write = write

    def send_email(self, message: EmailMessage) -> str:
        """Print the message's headers and text; it was not sent, and the outbox says so."""
        self.write(f"E-MAIL to {message['To']}: {message['Subject']}\n{message.get_content().rstrip()}")
        raise DeliveryError(NOT_SENT_WITHOUT_SMTP, retryable=False)


class SmtpSender:
    """E-mail through the SMTP server of `MAIL_SMTP_URL`: `smtp://user:pw@host:587` (STARTTLS before
    the password), `smtps://user:pw@host:465` (TLS from the start) or `smtp://host:25` (no login).

    A message is `sent` only when the server took it for its recipient (250 to DATA), and the
    server's answer (its queue id) is kept as the provider's id; a 4xx or a lost connection is
    tried again, a 5xx is final.
    """

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("MAIL_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://…")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 587 if parts.username else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password or "") if parts.username else None
        self.timeout = timeout

    def _session(self) -> smtplib.SMTP:
        """A connection that has said EHLO, switched to TLS where it can and logged in."""
        smtp = (smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
                if self.implicit_tls else smtplib.SMTP(self.host, self.port, timeout=self.timeout))
        try:
            smtp.ehlo()
            if not self.implicit_tls and (self.username or smtp.has_extn("starttls")):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def check(self) -> str:
        """Connect and log in as a send would, send nothing: what the server said, or DeliveryError."""
        try:
            with self._session():
                return f"{self.host}:{self.port} took the connection" + (" and the login" if self.username else "")
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(f"the mail server answered {error.smtp_code}: {_text(error.smtp_error)}",
                                retryable=True) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"the mail server could not be reached: {error}", retryable=True) from None

    def send_email(self, message: EmailMessage) -> str:
        """Send `message`; the server's acceptance, or DeliveryError saying whether to try again."""
        try:
            with self._session() as smtp:
                return self._hand_over(smtp, message)
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(f"the mail server answered {error.smtp_code}: {_text(error.smtp_error)}",
                                retryable=400 <= error.smtp_code < 500) from None
        except smtplib.SMTPRecipientsRefused as error:
            code, reason = next(iter(error.recipients.values()))
            raise DeliveryError(f"the mail server refused the recipient: {code} {_text(reason)}",
                                retryable=400 <= code < 500) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"the mail server could not be reached: {error}", retryable=True) from None

    @staticmethod
    def _hand_over(smtp: smtplib.SMTP, message: EmailMessage) -> str:
        sender = parseaddr(str(message["From"]))[1]
        recipient = parseaddr(str(message["To"]))[1]
        for code, answer in (smtp.mail(sender), smtp.rcpt(recipient)):
            if code != 250 and not (code == 251 and answer):
                raise smtplib.SMTPResponseException(code, answer)
        code, answer = smtp.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
        if code != 250:
            raise smtplib.SMTPResponseException(code, answer)
        return _text(answer)[:64] or "accepted"


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
