"""The worker (the Procfile's `worker:`): runs the SLA clock and sends the outbox.

`flask --app app worker` loops every few seconds (sooner when a held digest falls due); `--once` runs one round (tests,
cron). Without Twilio credentials it prints messages instead of sending them, and
says so when it starts.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask.cli import with_appcontext

from core.clock import current_clock
from core.heartbeat import beat
from core.db import db
from core.settings import current_settings
from oncall.service import duty_at
from web.throttle import forget_expired
from tickets.escalation import run_sla_clock
from tickets.report import refresh_report
from tickets.requesters import close_unanswered
from tickets.scheduled_calls import run_scheduled_calls
from tickets.mailing import identity_of, queue_acknowledgements, queue_status_mails
from tickets.outbox import (ConsoleMailSender, ConsoleSender, MailSender, Sender, SmtpSender, TwilioSender, next_due_at,
                            send_due)

log = logging.getLogger(__name__)


def sender_for_settings() -> Sender:
    """Twilio when the account is configured; the console (said loudly) when none of it is.

    Half a configuration is refused: a worker that cannot send must not look as if it does.
    """
    settings = current_settings()
    if settings.twilio_account_sid:
        # PUBLIC_URL too: the calls the worker places (engineer callbacks) fetch their TwiML from it.
        missing = [name for name, absent in (("TWILIO_PHONE_NUMBER", not settings.twilio_phone_number),
                                             ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token_is_local),
                                             ("PUBLIC_URL", not settings.public_url)) if absent]
        if missing:
            raise click.ClickException(f"TWILIO_ACCOUNT_SID is set but {' and '.join(missing)} is not: "
                                       "set them all to send through Twilio, or none to print to the console")
        return TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_phone_number)
    click.secho("No TWILIO_ACCOUNT_SID: notifications are printed here, not sent (the ticket pages say \"printed\").",
                fg="yellow", err=True)
    return ConsoleSender(lambda text: click.echo(f"[notification] {text}"))


def mail_sender_for_settings() -> MailSender:
    """The SMTP server of MAIL_SMTP_URL; without it, the console (said once, at start)."""
    settings = current_settings()
    if settings.mail_smtp_url:
        return SmtpSender(settings.mail_smtp_url)
    if settings.mail_from:
        click.secho("No MAIL_SMTP_URL: e-mail is printed here, not sent (the ticket pages say \"printed\").",
                    fg="yellow", err=True)
    return ConsoleMailSender(lambda text: click.echo(f"[notification] {text}"))


def run_once(sender: Sender, mail_sender: MailSender | None = None) -> tuple[int, int]:
    """One round: queue due SLA notifications, scheduled calls' reminders and rings, and acknowledgements,
    close resolved tickets nobody answered for AUTO_CLOSE_DAYS, bring the SLA report up to date (once a
    minute), then send what is due.
    Returns (queued, sent)."""
    settings = current_settings()
    session = db()
    now = current_clock()
    queued = run_sla_clock(session, now, lambda at: duty_at(session, at), settings.support_timezone)
    queued += run_scheduled_calls(session, now, lambda at: duty_at(session, at))
    close_unanswered(session, now, settings.auto_close_days)
    refresh_report(session, now, ZoneInfo(settings.support_timezone))
    forget_expired(now)
    identity = identity_of(settings)
    if identity is not None:
        queued += queue_acknowledgements(session, now, timezone=settings.support_timezone,
                                         secret=identity.secret, support_address=identity.support_address,
                                         portal_base=identity.portal_base)
        queued += queue_status_mails(session, now, timezone=settings.support_timezone, identity=identity)
    base = settings.public_url
    sent = send_due(session, sender, current_clock,
                    call_url=f"{base}/ivr/engineer-callback" if base else None,
                    call_status_url=f"{base}/ivr/engineer-callback/status" if base else None,
                    mail_sender=mail_sender, mail_from=settings.mail_from)
    beat(session, "worker", current_clock())
    return queued, sent


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one round and stop.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds.")
@with_appcontext
def worker_command(once: bool, interval: float) -> None:
    """Run the SLA clock and send notifications, until stopped."""
    sender = sender_for_settings()
    mail_sender = mail_sender_for_settings()
    while True:
        try:
            queued, sent = run_once(sender, mail_sender)
            if queued or sent:
                log.info("worker: %s notifications queued, %s sends", queued, sent)
        except Exception:
            # One bad round must not stop the clock; the next round tries again.
            log.exception("worker round failed")
            db().rollback()
            if once:
                raise
        if once:
            return
        time.sleep(pause_before_next_round(next_due_at(db()), current_clock(), interval))


def pause_before_next_round(next_due: datetime | None, now: datetime, interval: float) -> float:
    """Seconds to sleep: the round interval, or less when a held digest falls due sooner, so that
    pacing holds no text longer than its minute."""
    if next_due is None:
        return interval
    return min(interval, max(0.0, (next_due - now).total_seconds()))
