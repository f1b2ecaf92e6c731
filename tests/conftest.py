"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when TEST_DATABASE_URL is
set), the app with a fake clock, a Twilio-signing phone, and a small named on-call team."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, event, text, update
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from app import create_app
from core.db import engine_for, upgrade_schema
from staff.admins import create_admin
from ivr.models import CallEvent, CallLog
from oncall.models import CalendarFeed, Contact, Override, Rotation, RotationMember
from staff.models import AdminUser, ApiToken, AuditEntry
from tickets.models import FIRST_TICKET_NUMBER, Notification, Ticket, TicketCounter, TicketEvent

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE = "https://support.example.com"
SUPPORT_NUMBER = "+18005550199"

# The line's own tables, children first, so they can be emptied between tests.
TABLES = (CallEvent, TicketEvent, Notification, CallLog, Ticket, Override, RotationMember, Rotation, CalendarFeed, Contact,
          AuditEntry, ApiToken, AdminUser)


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


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated test database: TEST_DATABASE_URL if set, else an SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = engine_for(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    upgrade_schema(url)
    yield url


@pytest.fixture(scope="session")
def engine(database_url: str):
    """The tests' own engine. Its transactions do not take SQLite's write lock up front,
    so a test that reads between webhooks never blocks the app."""
    engine = engine_for(database_url, write_lock_on_begin=False)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that touches the database starts from empty tables and ticket 10001."""
    if "database_url" not in request.fixturenames:
        yield
        return
    engine = request.getfixturevalue("engine")
    yield
    with engine.begin() as connection:
        for table in TABLES:
            connection.execute(delete(table))
        connection.execute(update(TicketCounter).values(next_number=FIRST_TICKET_NUMBER))


@pytest.fixture
def clock() -> FakeClock:
    """Thursday 2026-11-26 03:00 UTC, a night shift."""
    return FakeClock(datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc))


@pytest.fixture
def env(database_url: str, tmp_path) -> dict[str, str]:
    """The environment the app reads; tests may change it before asking for `app`."""
    return {
        "DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_PHONE_NUMBER": SUPPORT_NUMBER,
        "SUPPORT_TIMEZONE": "America/New_York",
        "SUPPORT_HOLIDAYS": "US",
        "PHONE_REGION": "US",
        "SECRET_KEY": "test-secret-key",
    }


@pytest.fixture
def make_app(env: dict[str, str], clock: FakeClock, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build an app with some settings changed: `make_app(FALLBACK_NUMBER="+1…")`."""
    built: list[Flask] = []

    def build(**changes: Any) -> Flask:
        app = create_app(
            {"ENV": {**env, **changes}, "CLOCK": clock, "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")}
        )
        built.append(app)
        return app

    yield build
    for app in built:
        app.extensions["supportline.engine"].dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The line with the test settings."""
    return make_app()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    """A session of the test's own, to arrange data and to look at what the line saved."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@dataclass
class Team:
    """The small on-call team most call tests use: Priya on duty, then Tom, then Ana."""

    priya: Contact
    tom: Contact
    ana: Contact
    rotation: Rotation


PRIYA = "+14155550101"
TOM = "+14155550102"
ANA = "+14155550103"


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


@pytest.fixture
def team(session: Session) -> Team:
    """Weekly rotation from Monday 2026-11-23 09:00 New York: Priya this week, one backup."""
    priya = add_contact(session, "Priya Raman", PRIYA)
    tom = add_contact(session, "Tom Berg", TOM)
    ana = add_contact(session, "Ana Souza", ANA)
    rotation = add_rotation(session, [priya, tom, ana], backups=1)
    session.commit()
    return Team(priya, tom, ana, rotation)


@pytest.fixture
def live_line(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a loopback port (a thread), for clients outside Flask."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


# ----------------------------------------------------------------------------- admin pages and the API

USERNAME = "maria"
PASSWORD = "correct horse battery"


def csrf_token(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def text_of(html: str) -> str:
    """A page's visible text with tags dropped and spaces squeezed, for reading assertions."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


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


@pytest.fixture
def admin_user(session: Session, clock: FakeClock):
    """An admin called maria."""
    return create_admin(session, USERNAME, PASSWORD, clock.now)


@pytest.fixture
def admin(client: FlaskClient, admin_user) -> AdminActions:
    """A browser session logged in as maria."""
    actions = AdminActions(client)
    assert actions.login().status_code == 302
    return actions


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
    engine = app.extensions["supportline.engine"]

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


# ----------------------------------------------------------------------------- single webhooks

CALL_SID = "CA" + "ab" * 16
CALLER = "+12125550147"


def signed_post(client, path: str, params: dict[str, str], *, token: str = AUTH_TOKEN, base: str = PUBLIC_BASE,
                signed_url: str | None = None, headers: dict[str, str] | None = None):
    """POST as Twilio does: form parameters and X-Twilio-Signature over the URL and parameters."""
    signature = RequestValidator(token).compute_signature(signed_url or base + path, params)
    return client.post(path, data=params, base_url=base, headers={"X-Twilio-Signature": signature, **(headers or {})})


def call_params(**extra: str) -> dict[str, str]:
    return {"CallSid": CALL_SID, "AccountSid": "AC" + "0" * 32, "From": CALLER, "To": "+18005550199",
            "CallStatus": "in-progress", "Direction": "inbound", **extra}
