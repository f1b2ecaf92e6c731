"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when TEST_DATABASE_URL is
set), the app with a fake clock, a small named on-call team, an admin and a line served over
HTTP. What tests share besides fixtures is in `tests/support.py`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session

from app import create_app
from core.db import Base, app_engine, engine_for, upgrade_schema
from tests.support import (
    ANA,
    AUTH_TOKEN,
    PASSWORD,
    PRIYA,
    SUPPORT_NUMBER,
    TOM,
    USERNAME,
    AdminActions,
    FakeClock,
    Outgoing,
    Team,
    add_admin,
    add_contact,
    add_rotation,
    free_port,
    serving,
)
from tests.browsing import CHROMIUM, CHROMIUM_ARGS, DESKTOP, missing_browser
from tickets.models import FIRST_TICKET_NUMBER, TicketCounter

# Every table but the ticket counter (the factory has imported every model), children before parents,
# so a new table is never left out.
TABLES = [t for t in reversed(Base.metadata.sorted_tables) if t.name != TicketCounter.__tablename__]


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
        app_engine(app).dispose()


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
    with serving(app) as url:
        yield url


@pytest.fixture
def admin_user(session: Session, clock: FakeClock):
    """An admin called maria (with the cheap test hash; the line's own hash is tested in tests/staff)."""
    return add_admin(session, USERNAME, PASSWORD, clock.now)


@pytest.fixture
def admin(client: FlaskClient, admin_user) -> AdminActions:
    """A browser session logged in as maria."""
    actions = AdminActions(client)
    assert actions.login().status_code == 302
    return actions


# ----------------------------------------------------------------------------- browsers


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from /usr/bin/chromium; Playwright never downloads a browser."""
    reason = missing_browser()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def line(app: Flask, live_line: str, team: Team, admin_user: Any) -> str:
    """The line serving HTTP on a free port of 127.0.0.1, CSRF on, with the test team and an admin."""
    assert app.config.get("WTF_CSRF_ENABLED", True), "the browser tests must run with CSRF protection on"
    return live_line


@pytest.fixture
def open_page(browser: Any, line: str) -> Iterator[Callable[..., Any]]:
    """Open a fresh browser tab (own cookies) of a given size on the live line."""
    contexts = []

    def open_(viewport: dict[str, int] = DESKTOP, *, inject: bool = False) -> Any:
        # `inject`: let the test add its own script (axe-core) past the pages' Content-Security-Policy.
        context = browser.new_context(viewport=viewport, base_url=line, locale="en-US",
                                      timezone_id="America/New_York", bypass_csp=inject)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


# ----------------------------------------------------------------------------- mail


@pytest.fixture
def outgoing() -> Iterator[tuple[Outgoing, str]]:
    """The outgoing mail server and its MAIL_SMTP_URL."""
    server = Outgoing()
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield server, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
