"""`flask --app app mail`: the line's mail process (the Procfile's `mail:`), and `refile-mail`."""

from __future__ import annotations

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
from core.db import db
from core.settings import Settings, current_settings
from mail.filing import MailRules, file, receive
from mail.listener import listening
from mail.models import InboundMail
from oncall.service import duty_at

log = logging.getLogger(__name__)
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


@click.command("mail")
@with_appcontext
def mail_command() -> None:
    """Take mail for the support address: the SMTP listener (MAIL_SMTP_LISTEN), until stopped."""
    settings = current_settings()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if settings.mail_smtp_listen is None:
        click.echo("MAIL_SMTP_LISTEN is not set: this process takes no mail (set it to HOST:PORT to listen).")
        stop.wait()
        return
    host, port = settings.mail_smtp_listen
    controller = listening(keeper(current_app._get_current_object(), "smtp"), host=host, port=port,  # type: ignore[attr-defined]
                           support_address=settings.mail_from, max_message_bytes=settings.mail_max_message_bytes)
    click.echo(f"Taking mail for {settings.mail_from or 'any address'} over SMTP on {host}:{port}.")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
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
