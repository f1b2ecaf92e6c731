"""`flask --app app doctor`: the line's configuration checked end to end, one line per check with what to
do about a failure. Each check is a function of the settings (and the database, the clock, a Twilio
client) that says ok, fail or skip (not configured, and what that means)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.db import schema_revisions
from core.heartbeat import STALE_AFTER, is_stale, last_beat
from core.settings import Settings
from ivr.number_setup import NumberWebhooks, SetupRefused, find_number, wanted_webhooks
from mail.fetcher import Mailbox
from tickets.outbox import DeliveryError, SmtpSender

OK, FAIL, SKIP = "ok", "FAIL", "skip"


@dataclass(frozen=True)
class Check:
    """One check's outcome: its name, ok / FAIL / skip, and what was found or what to do."""

    name: str
    outcome: str
    detail: str

    def line(self) -> str:
        return f"{self.outcome:<5} {self.name}: {self.detail}"


@dataclass
class Doctor:
    """What the checks look at: the settings, the database, the time, and how to reach Twilio."""

    settings: Settings
    session: Session
    engine: Engine
    now: datetime
    twilio: Callable[[], Any]  # a twilio.rest.Client for the account, made when a check needs it
    number: NumberWebhooks | None = None

    def run(self) -> list[Check]:
        """Every check, in the order a deployment is built: database, schema, Twilio, mail, the worker."""
        return [check() for check in (self.database, self.migrations, self.twilio_number, self.webhooks,
                                      self.smtp, self.imap, self.worker)]

    def database(self) -> Check:
        try:
            self.session.execute(text("SELECT 1"))
            self.session.rollback()  # on SQLite the session's transaction holds the lock the next checks need
        except SQLAlchemyError as error:
            self.session.rollback()
            return Check("database", FAIL, f"{self.engine.url.render_as_string(hide_password=True)} does not answer "
                                           f"({type(error).__name__}): check DATABASE_URL and that the server runs")
        return Check("database", OK, f"{self.engine.dialect.name} answers")

    def migrations(self) -> Check:
        try:
            current, head = schema_revisions(self.engine)
        except SQLAlchemyError:
            return Check("migrations", FAIL, "cannot read the schema's revision: fix the database first")
        if current != head:
            return Check("migrations", FAIL, f"the schema is at {current or 'nothing'}, the code at {head}: "
                                             "run `flask --app app upgrade-db` (the Procfile's release step)")
        return Check("migrations", OK, f"at head ({head})")

    def twilio_number(self) -> Check:
        settings = self.settings
        if not settings.twilio_account_sid:
            return Check("twilio", SKIP, "TWILIO_ACCOUNT_SID is not set: calls are answered, but texts and "
                                         "callbacks are printed, not sent")
        if settings.twilio_auth_token_is_local or not settings.twilio_phone_number:
            return Check("twilio", FAIL, "set TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER beside TWILIO_ACCOUNT_SID")
        try:
            self.number = find_number(self.twilio(), settings.twilio_phone_number, settings.twilio_account_sid)
        except SetupRefused as error:
            return Check("twilio", FAIL, str(error))
        except Exception as error:  # the client's own errors (refused credentials, no network) all say why
            return Check("twilio", FAIL, f"Twilio refused or could not be reached: {error}; check "
                                         "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        return Check("twilio", OK, f"{self.number.phone_number} ({self.number.sid}) is on account "
                                   f"{settings.twilio_account_sid}")

    def webhooks(self) -> Check:
        if self.number is None:
            return Check("webhooks", SKIP, "no Twilio number to look at (see the twilio check)")
        try:
            wanted = wanted_webhooks(self.settings.public_url)
        except SetupRefused as error:
            return Check("webhooks", FAIL, str(error))
        wrong = self.number.differences(wanted)
        if wrong:
            fields = ", ".join(f"{name} is {now or '(empty)'}" for name, (now, _) in sorted(wrong.items()))
            return Check("webhooks", FAIL, f"{fields}: run `flask --app app twilio-configure`")
        return Check("webhooks", OK, f"voice, fallback, status and SMS point at {self.settings.public_url}")

    def smtp(self) -> Check:
        if not self.settings.mail_smtp_url:
            return Check("smtp", SKIP, "MAIL_SMTP_URL is not set: the worker prints mail instead of sending it")
        try:
            return Check("smtp", OK, SmtpSender(self.settings.mail_smtp_url, timeout=10).check())
        except (DeliveryError, ValueError) as error:
            return Check("smtp", FAIL, f"{error}: check MAIL_SMTP_URL (host, port, user and password)")

    def imap(self) -> Check:
        if not self.settings.mail_imap_url:
            return Check("imap", SKIP, "MAIL_IMAP_URL is not set: no mailbox is fetched")
        try:
            mailbox = Mailbox.from_url(self.settings.mail_imap_url)
            client = mailbox.connect(timeout=10)
            client.logout()
        except Exception as error:  # imapclient's and the socket's errors alike say why
            return Check("imap", FAIL, f"{error}: check MAIL_IMAP_URL (host, port, user, password and folder)")
        return Check("imap", OK, f"{mailbox.host}:{mailbox.port} logged in and opened {mailbox.folder}")

    def worker(self) -> Check:
        try:
            beat_at = last_beat(self.session, "worker")
        except SQLAlchemyError:
            self.session.rollback()
            return Check("worker", FAIL, "cannot read its heartbeat: fix the database first")
        if is_stale(beat_at, self.now):
            when = f"last seen {beat_at.isoformat()}" if beat_at else "never seen"
            return Check("worker", FAIL, f"{when}; start it (Procfile `worker:`): without it no text, mail or SLA "
                                         f"warning goes out (it beats every round; stale after "
                                         f"{int(STALE_AFTER.total_seconds() // 60)} minutes)")
        return Check("worker", OK, f"beat {int((self.now - beat_at).total_seconds())} s ago" if beat_at else "")
