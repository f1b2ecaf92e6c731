"""What tests share besides fixtures: the test settings' values, a fake clock, the named on-call
team's builders, a browser's and an integrator's way of talking to the line, Twilio-signed
webhooks, a line served over real HTTP, and statement counting.

Fixtures live in `conftest.py`; test modules import these from here, never from `conftest`.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from core.db import app_engine
from oncall.models import Contact, Override, Rotation, RotationMember
from staff.models import AdminUser

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE = "https://support.example.com"
SUPPORT_NUMBER = "+18005550199"

PRIYA = "+14155550101"
TOM = "+14155550102"
ANA = "+14155550103"

USERNAME = "maria"
PASSWORD = "correct horse battery"
# Fixtures' admins get a one-round hash: werkzeug's scrypt default costs about 50 ms a login
# and a test suite logs in hundreds of times. The line itself always hashes with the default.
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1"

CALL_SID = "CA" + "ab" * 16
CALLER = "+12125550147"


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now


# ----------------------------------------------------------------------------- the on-call team


@dataclass
class Team:
    """The small on-call team most call tests use: Priya on duty, then Tom, then Ana."""

    priya: Contact
    tom: Contact
    ana: Contact
    rotation: Rotation


def add_contact(session: Session, name: str, phone: str, active: bool = True) -> Contact:
    contact = Contact(name=name, phone=phone, email=None, active=active, created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    session.add(contact)
    session.flush()
    return contact


def add_rotation(
    session: Session,
    members: list[Contact],
    *,
    handoff: str = "2026-11-23T09:00",
    shift_kind: str = "weekly",
    shift_hours: int | None = None,
    backups: int = 1,
    tz: str = "America/New_York",
    effective_from: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc),
) -> Rotation:
    rotation = Rotation(
        effective_from=effective_from,
        timezone=tz,
        handoff=handoff,
        shift_kind=shift_kind,
        shift_hours=shift_hours,
        backups=backups,
        created_at=effective_from,
    )
    rotation.members = [RotationMember(position=i, contact_id=c.id) for i, c in enumerate(members)]
    session.add(rotation)
    session.flush()
    return rotation


def add_override(session: Session, contact: Contact, start: datetime, end: datetime) -> Override:
    override = Override(contact_id=contact.id, start=start, end=end, created_at=start)
    session.add(override)
    session.flush()
    return override


def add_admin(session: Session, username: str, password: str, now: datetime) -> AdminUser:
    """An admin who can log in with `password`, stored with the cheap test hash."""
    admin = AdminUser(username=username, password_hash=generate_password_hash(password, method=CHEAP_PASSWORD_HASH),
                      created_at=now)
    session.add(admin)
    session.commit()
    return admin


# ----------------------------------------------------------------------------- admin pages and the API


def csrf_token(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def text_of(html: str) -> str:
    """A page's visible text with tags dropped and spaces squeezed, for reading assertions."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


class _Fields(HTMLParser):
    """Every form field's attributes by id, and the text of every field-error message by id."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, dict[str, str | None]] = {}
        self.messages: dict[str, str] = {}
        self._in_message: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("input", "select", "textarea") and found.get("id"):
            self.fields[found["id"] or ""] = found
        if tag == "p" and "field-error" in (found.get("class") or "").split():
            self._in_message = found.get("id") or ""
            self.messages[self._in_message] = ""

    def handle_data(self, data: str) -> None:
        if self._in_message is not None:
            self.messages[self._in_message] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_message = None


@dataclass(frozen=True)
class FieldMarks:
    """How a form field is shown: marked invalid or not, and the message tied to it by aria-describedby."""

    invalid: bool
    described_by: list[str]
    message: str | None


def field_marks(html: str, field_id: str) -> FieldMarks:
    """What a page says about the form field `field_id`: aria-invalid, the ids describing it, its error message."""
    parser = _Fields()
    parser.feed(html)
    assert field_id in parser.fields, f"the page has no field {field_id!r}"
    attributes = parser.fields[field_id]
    described_by = (attributes.get("aria-describedby") or "").split()
    messages = [parser.messages[i].strip() for i in described_by if i in parser.messages]
    return FieldMarks(attributes.get("aria-invalid") == "true", described_by, messages[0] if messages else None)


class AdminActions:
    """Log in and post forms the way a browser does: with the CSRF token the page gave."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, username: str = USERNAME, password: str = PASSWORD, next: str = ""):
        token = csrf_token(self.client.get("/admin/login").text)
        return self.client.post("/admin/login", data={"csrf_token": token, "username": username,
                                                      "password": password, "next": next})

    def post(self, path: str, data: dict | None = None, *, page: str = "/admin/login", **kwargs):
        token = csrf_token(self.client.get(page).text)
        return self.client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)


def fresh(session: Session) -> None:
    """Forget what the test's session read before, so it sees what the app committed since."""
    session.rollback()
    session.expire_all()


class Api:
    """The test client with a bearer token on every request."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any):
        return self.client.get(path, query_string=params, headers=self.headers)

    def post(self, path: str, body: Any):
        return self.client.post(path, json=body, headers=self.headers)

    def patch(self, path: str, body: Any):
        return self.client.patch(path, json=body, headers=self.headers)

    def send(self, method: str, path: str, data: bytes):
        return self.client.open(path, method=method, data=data, content_type="application/json", headers=self.headers)


@contextmanager
def counted_queries(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app runs inside the block."""
    statements: list[str] = []
    engine = app_engine(app)

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def at(text: str | None) -> datetime:
    """An API time, checked to carry a UTC offset."""
    assert text is not None
    parsed = datetime.fromisoformat(text)
    assert parsed.utcoffset() is not None, f"{text} has no UTC offset"
    return parsed


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """`app` served over real HTTP on a loopback port (a thread), for clients outside Flask."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


# ----------------------------------------------------------------------------- single webhooks


def signed_post(client, path: str, params: dict[str, str], *, token: str = AUTH_TOKEN, base: str = PUBLIC_BASE,
                signed_url: str | None = None, headers: dict[str, str] | None = None):
    """POST as Twilio does: form parameters and X-Twilio-Signature over the URL and parameters."""
    signature = RequestValidator(token).compute_signature(signed_url or base + path, params)
    return client.post(path, data=params, base_url=base, headers={"X-Twilio-Signature": signature, **(headers or {})})


def call_params(**extra: str) -> dict[str, str]:
    return {"CallSid": CALL_SID, "AccountSid": "AC" + "0" * 32, "From": CALLER, "To": SUPPORT_NUMBER,
            "CallStatus": "in-progress", "Direction": "inbound", **extra}


# ----------------------------------------------------------------------------- mail


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Outgoing:
    """A real SMTP server (aiosmtpd) standing in for the vendor's mail server: it keeps what it is sent,
    or answers `refuse_with` (e.g. "451 4.3.0 try later") to DATA."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.refuse_with: str | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        if self.refuse_with:
            return self.refuse_with
        self.received.append(BytesParser(policy=policy.default).parsebytes(envelope.original_content))
        return "250 2.0.0 Ok: queued as 4F1A2B"
