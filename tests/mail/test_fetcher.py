"""The IMAP fetcher against a real Dovecot: unseen mail is kept, filed and only then marked seen; a fetcher
that dies between filing and marking reads the message again, and it is still on one ticket, once."""

from __future__ import annotations

import pytest
from imapclient import IMAPClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import app_engine
from mail.commands import keeper
from mail.fetcher import SEEN, Mailbox, fetch_round
from mail.models import InboundMail
from people.models import Person
from tests.mail.conftest import message
from tests.support import fresh
from tickets.models import Ticket


@pytest.fixture
def mail_app(make_app):
    return make_app(MAIL_FROM="support@example.com")


def run_round(app, client: IMAPClient) -> int:
    with app_engine(app).connect() as lock:
        return fetch_round(lock, client, keeper(app, "imap"))


def test_unseen_messages_are_filed_and_then_marked_seen(mail_app, mailbox: IMAPClient, session: Session,
                                                        lena: Person) -> None:
    mailbox.append("INBOX", message("plain"))
    mailbox.append("INBOX", message("with_attachment"))
    assert run_round(mail_app, mailbox) == 2
    fresh(session)
    assert [t.subject for t in session.scalars(select(Ticket).order_by(Ticket.number))] == [
        "Nightly export fails since the upgrade", "Logs for the export failure (sev 2)"]
    assert {m.received_via for m in session.scalars(select(InboundMail))} == {"imap"}
    assert mailbox.search(["UNSEEN"]) == [] and len(mailbox.search(["SEEN"])) == 2
    assert run_round(mail_app, mailbox) == 0, "nothing new: nothing read again"


def test_a_fetcher_killed_between_filing_and_marking_files_the_message_once(mail_app, mailbox: IMAPClient,
                                                                            session: Session, lena: Person,
                                                                            dovecot) -> None:
    mailbox.append("INBOX", message("plain"))

    class DiesBeforeMarking:
        """The mailbox as a fetcher sees it, until the process dies as it marks the message."""

        def __getattr__(self, name: str):
            return getattr(mailbox, name)

        def add_flags(self, *args, **kwargs):
            raise ConnectionResetError("the fetcher was killed")

    with pytest.raises(ConnectionResetError):
        run_round(mail_app, DiesBeforeMarking())
    assert mailbox.search(["UNSEEN"]) != [], "not marked: the message waits to be read again"
    restarted = dovecot.client()  # a new process, a new connection
    try:
        assert run_round(mail_app, restarted) == 1
    finally:
        restarted.logout()
    fresh(session)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert session.scalar(select(func.count()).select_from(InboundMail)) == 1
    [ticket] = session.scalars(select(Ticket)).all()
    assert len(ticket.comments) == 1, "on one ticket, once"
    mailbox.noop()  # see what the other connection changed
    assert mailbox.search(["UNSEEN"]) == []


def test_a_message_the_line_cannot_keep_stays_unseen(mail_app, mailbox: IMAPClient, monkeypatch) -> None:
    import mail.filing

    def database_down(*args, **kwargs):
        raise OSError("could not connect to the database")

    monkeypatch.setattr(mail.filing, "keep", database_down)
    mailbox.append("INBOX", message("plain"))
    with pytest.raises(OSError):
        run_round(mail_app, mailbox)
    assert len(mailbox.search(["UNSEEN"])) == 1


def test_messages_appended_while_reading_wait_for_the_next_round(mail_app, mailbox: IMAPClient,
                                                                 session: Session) -> None:
    mailbox.append("INBOX", message("no_message_id"))
    assert run_round(mail_app, mailbox) == 1
    mailbox.append("INBOX", message("latin1"))
    assert run_round(mail_app, mailbox) == 1
    fresh(session)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 2


@pytest.mark.parametrize(("url", "expected"), [
    ("imap://support%40example.com:p%40ss@imap.example.com/INBOX",
     Mailbox("imap.example.com", 143, False, "support@example.com", "p@ss", "INBOX")),
    ("imaps://support:pw@imap.example.com/Support/Inbound",
     Mailbox("imap.example.com", 993, True, "support", "pw", "Support/Inbound")),
    ("imaps://support:pw@imap.example.com:1993",
     Mailbox("imap.example.com", 1993, True, "support", "pw", "INBOX")),
])
def test_the_mailbox_url_names_host_port_tls_login_and_folder(url: str, expected: Mailbox) -> None:
    assert Mailbox.from_url(url) == expected


def test_a_mailbox_url_without_a_user_is_refused() -> None:
    with pytest.raises(ValueError, match="imap\\[s\\]://user:password@host"):
        Mailbox.from_url("imap://imap.example.com/INBOX")


def test_seen_is_the_flag_imap_uses() -> None:
    assert SEEN == b"\\Seen"


def test_a_second_fetcher_reads_nothing_while_the_first_holds_the_lock(mail_app, mailbox: IMAPClient,
                                                                       database_url: str) -> None:
    from sqlalchemy import text

    from mail.fetcher import FETCHER_LOCK

    if not database_url.startswith("postgres"):
        pytest.skip("the fetcher's lock is PostgreSQL's; SQLite runs one worker")
    mailbox.append("INBOX", message("plain"))
    with app_engine(mail_app).connect() as first, first.begin():
        assert first.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": FETCHER_LOCK}).scalar()
        assert run_round(mail_app, mailbox) == 0
    assert run_round(mail_app, mailbox) == 1, "once the first round ends, the next fetcher reads it"


def test_the_mail_process_fetches_the_mailbox_until_stopped(mail_app, dovecot, mailbox: IMAPClient,
                                                            session: Session) -> None:
    import threading
    import time

    from mail.commands import fetch_until_stopped

    mailbox.append("INBOX", message("no_message_id"))
    stop = threading.Event()
    fetcher = threading.Thread(target=fetch_until_stopped, args=(mail_app, dovecot.mailbox, stop, 0.05))
    fetcher.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            fresh(session)
            if session.scalar(select(func.count()).select_from(Ticket)):
                break
            stop.wait(0.05)
    finally:
        stop.set()
        fetcher.join(10)
    assert not fetcher.is_alive()
    assert session.scalar(select(Ticket.subject)) == "Question about licences"


KILLED_FETCHER = """
import os, signal, sys
from app import create_app
from core.db import app_engine
from mail.commands import keeper
from mail.fetcher import Mailbox, fetch_round

app = create_app({"ENV": dict(os.environ), "INSTANCE_PATH": sys.argv[2]})
keep = keeper(app, "imap")

def keep_then_die(raw):
    keep(raw)  # kept and filed, committed
    os.kill(os.getpid(), signal.SIGKILL)  # killed before the message is marked seen

with app_engine(app).connect() as lock:
    fetch_round(lock, Mailbox.from_url(sys.argv[1]).connect(), keep_then_die)
"""


def test_a_fetcher_process_killed_between_filing_and_marking_leaves_the_message_on_one_ticket_once(
    mail_app, mailbox: IMAPClient, session: Session, lena: Person, dovecot, env: dict[str, str], tmp_path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    mailbox.append("INBOX", message("plain"))
    root = Path(__file__).resolve().parents[2]
    killed = subprocess.run([sys.executable, "-c", KILLED_FETCHER, dovecot.url, str(tmp_path / "instance")],
                            cwd=root, env={**os.environ, **env, "MAIL_FROM": "support@example.com"},
                            capture_output=True, text=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    mailbox.noop()
    assert len(mailbox.search(["UNSEEN"])) == 1, "killed before marking: the message waits"
    fresh(session)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1, "it was filed before the kill"

    assert run_round(mail_app, mailbox) == 1  # the restarted fetcher reads it again
    fresh(session)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert session.scalar(select(func.count()).select_from(InboundMail)) == 1
    assert len(session.scalars(select(Ticket)).one().comments) == 1, "on one ticket, once"
    assert mailbox.search(["UNSEEN"]) == []


def test_the_doctor_logs_in_to_the_mailbox_and_opens_its_folder(make_app, dovecot) -> None:
    output = make_app(MAIL_IMAP_URL=dovecot.url, TWILIO_ACCOUNT_SID="").test_cli_runner().invoke(args=["doctor"]).output
    [imap] = [line for line in output.splitlines() if line.split()[1:2] == ["imap:"]]
    assert imap == f"ok    imap: 127.0.0.1:{dovecot.mailbox.port} logged in and opened {dovecot.mailbox.folder}"
    wrong = dovecot.url.replace(":secret@", ":wrong@")
    output = make_app(MAIL_IMAP_URL=wrong, TWILIO_ACCOUNT_SID="").test_cli_runner().invoke(args=["doctor"]).output
    assert "FAIL  imap:" in output and "check MAIL_IMAP_URL" in output
