"""`flask --app app mail`: the line's mail process (the Procfile's `mail:`), and `refile-mail`."""

from __future__ import annotations

import contextlib
import logging
import signal
import smtplib
import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import partial
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from core.clock import current_clock
from core.db import app_engine, db
from core.settings import Settings, current_settings
from mail.fetcher import Mailbox, fetch_round
from mail.filing import MailRules, file, receive
from mail.listener import listening
from mail.models import InboundMail
from oncall.service import duty_at

log = logging.getLogger(__name__)
# How often the mailbox is read (IMAP IDLE is not used: a poll survives every server and proxy).
POLL_SECONDS = 30.0
# Where `make run` starts the listener (the Makefile's MAIL_SMTP_LISTEN).
MAKE_RUN_LISTENER = "127.0.0.1:2525"


def mail_rules(settings: Settings) -> MailRules:
    """What filing takes from the settings."""
    return MailRules(support_address=settings.mail_from, max_message_bytes=settings.mail_max_message_bytes,
                     calendar=settings.calendar, secret=settings.secret_key)


def keeper(app: Flask, via: str) -> Any:
    """A function that keeps and files one raw message in its own app context (the listener's threads)."""

    def keep(raw: bytes) -> InboundMail:
        with app.app_context():
            return receive(db(), raw, now=current_clock(), via=via, rules=mail_rules(current_settings()),
                           duty_at=partial(duty_at, db()))

    return keep


def fetch_until_stopped(app: Flask, mailbox: Mailbox, stop: threading.Event, interval: float = POLL_SECONDS) -> None:
    """Fetch the mailbox every `interval` seconds until `stop`; a failed round is logged and tried again."""
    keep = keeper(app, "imap")
    client = None
    while not stop.is_set():
        try:
            if client is None:
                client = mailbox.connect()
            with app_engine(app).connect() as lock:
                kept = fetch_round(lock, client, keep)
            if kept:
                log.info("fetched %s messages from %s", kept, mailbox.folder)
        except Exception:  # noqa: BLE001 - the mailbox or the database may be back next round
            log.exception("fetching mail from %s:%s failed; trying again in %s s", mailbox.host, mailbox.port, interval)
            client = _logged_out(client)
        stop.wait(interval)
    _logged_out(client)


def _logged_out(client: Any) -> None:
    """Log out of the mailbox, as far as the connection still allows."""
    if client is not None:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - a broken connection is closed either way
            with contextlib.suppress(Exception):
                client.shutdown()


@click.command("mail")
@with_appcontext
def mail_command() -> None:
    """Take mail for the support address: the SMTP listener (MAIL_SMTP_LISTEN) and the mailbox fetcher
    (MAIL_IMAP_URL, every 30 s), until stopped."""
    settings = current_settings()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    controller = None
    if settings.mail_smtp_listen is not None:
        host, port = settings.mail_smtp_listen
        controller = listening(keeper(app, "smtp"), host=host, port=port, support_address=settings.mail_from,
                               max_message_bytes=settings.mail_max_message_bytes)
        click.echo(f"Taking mail for {settings.mail_from or 'any address'} over SMTP on {host}:{port}.")
    fetcher = None
    if settings.mail_imap_url is not None:
        mailbox = Mailbox.from_url(settings.mail_imap_url)
        fetcher = threading.Thread(target=fetch_until_stopped, args=(app, mailbox, stop), daemon=True)
        fetcher.start()
        click.echo(f"Fetching {mailbox.folder} of {mailbox.username} at {mailbox.host}:{mailbox.port} "
                   f"every {POLL_SECONDS:g} s.")
    if controller is None and fetcher is None:
        click.echo("Neither MAIL_SMTP_LISTEN nor MAIL_IMAP_URL is set: this process takes no mail.")
    try:
        stop.wait()
    except KeyboardInterrupt:
        stop.set()
    finally:
        if controller is not None:
            controller.stop()


@click.command("refile-mail")
@with_appcontext
def refile_mail_command() -> None:
    """File again the kept messages that could not be filed (status `failed`), once the cause is fixed."""
    settings = current_settings()
    failed = db().scalars(select(InboundMail).where(InboundMail.status == "failed").order_by(InboundMail.id)).all()
    for mail in failed:
        mail.status, mail.why = "received", None
        db().commit()
        filed = file(db(), mail, now=current_clock(), rules=mail_rules(settings), duty_at=partial(duty_at, db()))
        click.echo(f"mail {filed.id}: {filed.status}" + (f" ({filed.why})" if filed.why else ""))
    if not failed:
        click.echo("no mail waits to be filed again")


@click.command("send-mail")
@click.argument("body")
@click.option("--from", "sender", required=True, help="The sender's address (a person's, to be their requester).")
@click.option("--subject", default="Support request", show_default=True, help="The subject ([#10042] to reply).")
@click.option("--to", "recipient", default=None, help="The recipient (default MAIL_FROM, else support@localhost).")
@click.option("--smtp", default=None, help=f"The listener, HOST:PORT (default MAIL_SMTP_LISTEN, else {MAKE_RUN_LISTENER}).")
@with_appcontext
def send_mail_command(body: str, sender: str, subject: str, recipient: str | None, smtp: str | None) -> None:
    """Send the line's SMTP listener a message, as a mail client would, and print its answer."""
    settings = current_settings()
    host, port = settings.mail_smtp_listen or (MAKE_RUN_LISTENER.split(":")[0], int(MAKE_RUN_LISTENER.split(":")[1]))
    if smtp:
        host, _, given = smtp.rpartition(":")
        if not given.isdigit():
            raise click.BadParameter("give HOST:PORT, like 127.0.0.1:2525", param_hint="--smtp")
        port = int(given)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, recipient or settings.mail_from or "support@localhost", subject
    message["Date"], message["Message-ID"] = formatdate(localtime=False), make_msgid(domain="terminal.invalid")
    message.set_content(body)
    try:
        with smtplib.SMTP(host, port, timeout=30) as smtp:
            smtp.ehlo()
            for step in (smtp.mail(sender), smtp.rcpt(message["To"])):
                if step[0] != 250:
                    raise smtplib.SMTPResponseException(*step)
            code, answer = smtp.data(message.as_bytes())
        if code != 250:
            raise smtplib.SMTPResponseException(code, answer)
        click.echo(f"SENT {message['Message-ID']}: {code} {answer.decode(errors='replace')}")
    except (OSError, smtplib.SMTPException) as error:
        raise click.ClickException(f"the listener at {host}:{port} did not take it: {error}") from None
