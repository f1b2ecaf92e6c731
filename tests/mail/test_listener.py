"""The line's SMTP listener (aiosmtpd, a real server on a loopback port), fed with `smtplib` as an MTA would."""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mail.models import InboundMail
from people.models import Person
from tests.mail.conftest import SUPPORT, message
from tests.support import fresh
from tickets.models import Ticket


def send(listener: tuple[str, int], raw: bytes, *, to: str = SUPPORT, sender: str = "lena@acme.example") -> dict:
    with smtplib.SMTP(*listener, timeout=30) as smtp:
        return smtp.sendmail(sender, [to], raw)


def test_a_message_sent_over_smtp_is_kept_and_filed_before_250(listener, session: Session, lena: Person) -> None:
    assert send(listener, message("plain")) == {}, "accepted for the one recipient"
    fresh(session)
    mail = session.scalar(select(InboundMail))
    assert (mail.received_via, mail.status) == ("smtp", "filed")
    ticket = session.scalar(select(Ticket))
    assert ticket.requester_id == lena.id and ticket.subject == "Nightly export fails since the upgrade"


def test_mail_for_another_address_is_refused_at_rcpt(listener) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(listener, message("plain"), to="someone-else@example.com")
    code, reason = refused.value.recipients["someone-else@example.com"]
    assert code == 550 and b"takes mail for support@example.com only" in reason


def test_when_the_message_cannot_be_kept_the_sender_is_told_to_try_again(listener, session: Session,
                                                                         monkeypatch) -> None:
    import mail.filing

    def database_down(*args, **kwargs):
        raise OSError("could not connect to the database")

    monkeypatch.setattr(mail.filing, "keep", database_down)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(listener, message("plain"))
    assert refused.value.smtp_code == 451 and b"try again later" in refused.value.smtp_error
    fresh(session)
    assert session.scalar(select(func.count()).select_from(InboundMail)) == 0


def test_a_30_mb_message_is_refused_as_too_large_before_it_is_sent(listener, session: Session) -> None:
    attachment = b"A" * 76 + b"\r\n"
    huge = message("with_attachment").replace(b"--b1--", b"--b1\r\nContent-Type: application/octet-stream; "
                                              b"name=\"dump.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                                              + attachment * (30_000_000 // len(attachment)) + b"\r\n--b1--")
    with smtplib.SMTP(*listener, timeout=60) as smtp:
        smtp.ehlo()
        limit = int(smtp.esmtp_features["size"])
        assert limit < len(huge), "the listener announces its SIZE limit (RFC 1870)"
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            smtp.sendmail("lena@acme.example", [SUPPORT], huge)
    assert refused.value.smtp_code == 552
    fresh(session)
    assert session.scalar(select(func.count()).select_from(InboundMail)) == 0


def test_ten_messages_from_ten_connections_are_each_filed_once(listener, session: Session, lena: Person) -> None:
    for n in range(10):
        raw = message("plain").replace(b"<CAF3x9k2=plain@mail.acme.example>", f"<burst-{n}@acme.example>".encode())
        send(listener, raw)
        send(listener, raw)  # a retry after a lost 250: filed once
    fresh(session)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 10
    assert session.scalar(select(func.count()).select_from(InboundMail)) == 10


def test_send_mail_from_a_terminal_files_a_ticket(app, listener, session: Session, lena: Person) -> None:
    host, port = listener
    result = app.test_cli_runner().invoke(args=["send-mail", "--smtp", f"{host}:{port}", "--to", SUPPORT,
                                                "--from", "lena@acme.example", "--subject", "Export fails (sev 2)",
                                                "Our nightly export fails since the upgrade."])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("SENT <") and "250 2.0.0 kept: support will answer" in result.output
    fresh(session)
    ticket = session.scalar(select(Ticket))
    assert (ticket.severity, ticket.subject, ticket.requester_id) == ("high", "Export fails (sev 2)", lena.id)


def test_send_mail_to_no_listener_is_a_clear_error(app) -> None:
    from tests.support import free_port

    result = app.test_cli_runner().invoke(args=["send-mail", "--smtp", f"127.0.0.1:{free_port()}",
                                                "--from", "lena@acme.example", "hello"])
    assert result.exit_code == 1 and "did not take it" in result.output
