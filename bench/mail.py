"""Mail filing under load: messages a second through the line's SMTP listener with 10 senders; and
the statements of a call's first webhook for an unknown caller ID and for a known person's.

The line is the Procfile's `mail:` command (`flask --app app mail`) on a fresh database: it keeps
each message raw, files it (a new ticket each here, its sender a new person) and only then
answers 250. The floor is aiosmtpd's own server with its `Sink` handler, which answers 250 and
keeps nothing, served the same way on the same machine. Each of `senders` threads sends its
messages over one SMTP connection, as an MTA relaying the support address does; the figure is
the ratio of the two rates, measured in the same run, and whether every message was kept once.
"""

from __future__ import annotations

import smtplib
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import event, func, select
from twilio.request_validator import RequestValidator

from app import create_app
from bench.data import fresh_database
from bench.loadrun import line_env
from bench.servers import free_port
from core.db import app_engine, db, engine_for
from mail.models import InboundMail
from people.service import add_organization, add_person
from tickets.models import Ticket

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = "support@bench.example"
TEXT = ("Hello,\n\nour nightly export has failed every night since we upgraded to 4.2. The log says "
        "\"connection reset by peer\" after about nine seconds.\n\nThanks,\nA customer\n")


@dataclass
class Rate:
    """How fast one server took the messages."""

    sent: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


@dataclass
class MailRun:
    """The line's rate, the floor's, and what the line kept of what it took."""

    database: str
    senders: int
    line: Rate
    floor: Rate
    kept: int
    tickets: int

    @property
    def ratio(self) -> float:
        """How many times longer a message takes on the line than on the floor."""
        return self.floor.per_second / self.line.per_second if self.line.per_second else float("inf")


def _message(sender: int, number: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {sender} <customer{sender}@bench.example>"
    message["To"] = SUPPORT
    message["Subject"] = f"Export fails ({sender}/{number})"
    message["Message-ID"] = f"<bench-{sender}-{number}@bench.example>"
    message.set_content(TEXT)
    return message.as_bytes()


def _wait_for(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on {port} within {seconds} s")


def _send_all(port: int, senders: int, per_sender: int) -> Rate:
    rate = Rate()
    lock = threading.Lock()

    def send(sender: int) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                for number in range(per_sender):
                    smtp.sendmail(f"customer{sender}@bench.example", [SUPPORT], _message(sender, number))
                    with lock:
                        rate.sent += 1
        except (OSError, smtplib.SMTPException) as error:
            with lock:
                rate.errors.append(f"sender {sender}: {error}")

    threads = [threading.Thread(target=send, args=(s,)) for s in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate.seconds = time.perf_counter() - started
    return rate


def _served(command: list[str], env: dict[str, str], port: int, log: Path, senders: int, per_sender: int) -> Rate:
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_for(port, process)
            return _send_all(port, senders, per_sender)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def mail_run(database: str, url: str, workdir: Path, *, senders: int = 10, per_sender: int = 50) -> MailRun:
    """The line's listener and the floor, each sent `senders` × `per_sender` messages."""
    fresh_database(url)
    line_port, floor_port = free_port(), free_port()
    env = {**line_env(url, "bench-token"), "MAIL_SMTP_LISTEN": f"127.0.0.1:{line_port}", "MAIL_FROM": SUPPORT}
    line = _served([sys.executable, "-m", "flask", "--app", "app", "mail"], env, line_port,
                   workdir / f"mail-line-{database}.log", senders, per_sender)
    floor = _served([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{floor_port}",
                     "-c", "aiosmtpd.handlers.Sink"], env, floor_port, workdir / "mail-floor.log", senders, per_sender)
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            kept = connection.scalar(select(func.count()).select_from(InboundMail)) or 0
            tickets = connection.scalar(select(func.count()).select_from(Ticket)) or 0
    finally:
        engine.dispose()
    return MailRun(database, senders, line, floor, kept, tickets)


def print_mail_run(run: MailRun) -> None:
    """The figures, as `make bench` prints them."""
    print(f"{run.senders} senders, one SMTP connection each: the line took {run.line.sent} messages in "
          f"{run.line.seconds:.1f} s ({run.line.per_second:.0f}/s), the floor (aiosmtpd's Sink) "
          f"{run.floor.sent} in {run.floor.seconds:.1f} s ({run.floor.per_second:.0f}/s): "
          f"{run.ratio:.1f}× the floor's time a message")
    print(f"kept {run.kept} and opened {run.tickets} tickets for {run.line.sent} messages taken"
          + (f"; errors: {run.line.errors[:3] + run.floor.errors[:3]}" if run.line.errors or run.floor.errors else ""))


@dataclass
class Recognition:
    """Statements the first webhook of a call runs, for a caller ID nobody has and for a known person's."""

    stranger: int
    known: int


def recognition_statements(url: str, workdir: Path) -> Recognition:
    """Count the statements of `/ivr/voice` (signed, through the app) for a stranger and for a known caller."""
    fresh_database(url)
    token = "bench-token"
    app = create_app({"ENV": {**line_env(url, token), "PUBLIC_URL": "https://line.bench.example"},
                      "INSTANCE_PATH": str(workdir / "recognition")})
    engine = app_engine(app)
    now = datetime.now(timezone.utc)
    with app.app_context():
        acme = add_organization(db(), {"name": "Acme Corp", "kind": "customer"}, now=now, actor="bench")
        add_person(db(), {"name": "Lena Fischer", "phone": "+12125550147", "organization_id": acme.id},
                   region="US", now=now, actor="bench")
    client = app.test_client()
    counted: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001 - SQLAlchemy's event signature
        if not statement.lstrip().upper().startswith("BEGIN"):
            counted.append(statement)

    def first_webhook(caller: str, sid: str) -> int:
        params = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": caller, "To": "+18005550199",
                  "CallStatus": "ringing", "Direction": "inbound"}
        signature = RequestValidator(token).compute_signature("https://line.bench.example/ivr/voice", params)
        before = len(counted)
        answer = client.post("/ivr/voice", data=params, base_url="https://line.bench.example",
                             headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200, answer.text
        return len(counted) - before

    event.listen(engine, "before_cursor_execute", count)
    try:
        return Recognition(stranger=first_webhook("+13125550100", "CA" + "1" * 32),
                           known=first_webhook("+12125550147", "CA" + "2" * 32))
    finally:
        event.remove(engine, "before_cursor_execute", count)
        engine.dispose()
