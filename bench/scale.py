"""Scale checks: the same reads on a small database and on a large one, as a ratio.

The small database has the team, two months of on-call history and 100 tickets (each with
its call); the large one is the same with years more behind it (rotation versions, ten
thousand overrides, a million tickets and a million calls). Requests
go through the line's own WSGI app (`create_app`, Flask's test client, one at a time), so
the figures are the line's work without HTTP or concurrency; each is the median of
`repeats` runs after a warm-up, with the SQL statements it ran counted on the app's engine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app import create_app
from core.db import app_engine, engine_for
from bench.portal import seed_portal_people, signed_in_client
from bench.sla_report import ZONE, build_cells, refresh_after_a_new_ticket, report_operations
from bench.data import (
    FIRST_TICKET_NUMBER,
    History,
    after_bulk_load,
    fresh_database,
    seed_history,
    seed_team,
    seed_tickets_and_calls,
)

BENCH_AUTH_TOKEN = "bench-auth-token"


@dataclass(frozen=True)
class Size:
    """One database size: `tickets` tickets (and as many calls) and its on-call history."""

    name: str
    tickets: int
    history: History


TICKET_SPACING = timedelta(days=3 * 365) / 1_000_000  # a million tickets in three years
OVERRIDE_SPACING = timedelta(days=10 * 365) / 10_000  # ten thousand overrides in ten years
FULL = Size("large", 1_000_000, History(years=10, overrides=10_000, override_spacing=OVERRIDE_SPACING, contacts=60))
QUICK = Size("large", 20_000, History(years=2, overrides=2_000, override_spacing=OVERRIDE_SPACING, contacts=20))


def small_of(large: Size) -> Size:
    """The small database: the last two months of the large one's history, and 100 tickets."""
    years = 0.2
    overrides = max(1, round(large.history.overrides * years / large.history.years))
    return Size("small", 100, History(years=years, overrides=overrides, override_spacing=large.history.override_spacing,
                                      contacts=4))


@dataclass
class Timing:
    median_ms: float
    best_ms: float  # the fastest run: the least noisy figure on a busy machine
    statements: int  # SQL statements of one run (the last)


@dataclass
class ScaleResult:
    database: str
    sizes: dict[str, Size] = field(default_factory=dict)
    timings: dict[str, dict[str, Timing]] = field(default_factory=dict)  # size name -> operation -> timing
    load_seconds: dict[str, float] = field(default_factory=dict)
    database_bytes: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    # Timed once or apart from the reads: building the report's cells; the worker's refresh after a new ticket.
    report_build_seconds: dict[str, float] = field(default_factory=dict)
    report_refresh: dict[str, Timing] = field(default_factory=dict)


class Line:
    """The line in-process, with an API token and (if the pages exist) a logged-in admin."""

    def __init__(self, database_url: str, workdir: Path, now: datetime) -> None:
        self.app: Flask = create_app({
            "ENV": {"DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": BENCH_AUTH_TOKEN,
                    "TWILIO_ACCOUNT_SID": "AC" + "b" * 32, "TWILIO_PHONE_NUMBER": "+18005550199",
                    "SUPPORT_TIMEZONE": "America/New_York", "SUPPORT_HOLIDAYS": "US", "PHONE_REGION": "US",
                    "SECRET_KEY": "bench-secret-key"},
            "INSTANCE_PATH": str(workdir / "instance-scale"),
            "WTF_CSRF_ENABLED": False,
        })
        self.engine = app_engine(self.app)
        self.client: FlaskClient = self.app.test_client()
        from staff.tokens import issue_api_token

        with Session(self.engine) as session:
            self.token = issue_api_token(session, "bench", now)
        self.admin = False
        if "call_pages.calls" in self.app.view_functions:
            from staff.admins import create_admin

            with Session(self.engine) as session:
                create_admin(session, "bench", "bench-password-1234", now)
            response = self.client.post("/admin/login", data={"username": "bench", "password": "bench-password-1234"})
            self.admin = response.status_code in (302, 303)
        self.statements = 0
        event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    def get(self, path: str, *, api: bool = True) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if api else {}
        response = self.client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
        return response

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)
        self.engine.dispose()


def whole_call(line: Line) -> None:
    """One scripted call (8 webhooks) through the app, as the load test places it."""
    from bench.load import ENGINEERS, EXPECTED, KEYS, SUPPORT_NUMBER, label
    from phonesim import FlaskClientTransport, ScriptedCaller, place_call

    record = place_call(
        voice_url="http://127.0.0.1/ivr/voice", status_callback_url="http://127.0.0.1/ivr/status",
        auth_token=BENCH_AUTH_TOKEN, transport=FlaskClientTransport(line.client),
        caller=ScriptedCaller(list(KEYS)), engineers=list(ENGINEERS), from_number="+12125550147",
        to_number=SUPPORT_NUMBER,
    )
    if tuple(label(r.url) for r in record.requests) != EXPECTED:
        raise RuntimeError("the scripted call took another path: " + record.transcript()[-500:])


def operations(line: Line, tickets: int) -> dict[str, Callable[[], Any]]:
    """The measured reads, by the name the report prints."""
    middle = FIRST_TICKET_NUMBER + tickets // 2
    calendar = line.get("/api/rotation").get_json()["calendar_url"].split("://", 1)[1].split("/", 1)[1]
    with line.engine.connect() as connection:
        sid = connection.execute(text("SELECT call_sid FROM call_log ORDER BY id LIMIT 1 OFFSET :n"),
                                 {"n": tickets // 2}).scalar_one()
    ops: dict[str, Callable[[], Any]] = {
        "on duty now: GET /api/oncall": lambda: line.get("/api/oncall"),
        "calendar feed (104 days): GET /oncall/<secret>.ics": lambda: line.get("/" + calendar, api=False),
        "GET /api/tickets (first page of 50)": lambda: line.get("/api/tickets"),
        "GET /api/tickets?status=open": lambda: line.get("/api/tickets?status=open"),
        "GET /api/tickets?offset=50 (second page)": lambda: line.get("/api/tickets?offset=50"),
        "ticket by number: GET /api/tickets/<n>": lambda: line.get(f"/api/tickets/{middle}"),
        "GET /api/calls (first page of 50)": lambda: line.get("/api/calls"),
        "call by CallSid: GET /api/calls/<sid>": lambda: line.get(f"/api/calls/{sid}"),
    }
    if line.admin:
        ops["call-log page: GET /admin/calls/"] = lambda: line.get("/admin/calls/", api=False)
        if "ticket_pages.tickets" in line.app.view_functions:
            ops["tickets page: GET /admin/tickets/"] = lambda: line.get("/admin/tickets/", api=False)
    if "portal.tickets" in line.app.view_functions:
        lena = signed_in_client(line.app.test_client(), line.engine, "lena@acme.example")
        otto = signed_in_client(line.app.test_client(), line.engine, "otto@acme.example")
        newest = FIRST_TICKET_NUMBER + tickets - 1
        ops["portal, My tickets (25 of hers): GET /support/tickets"] = lambda: _ok(lena.get("/support/tickets"))
        ops["portal, My tickets (organisation admin, 1 in 7 of all)"] = lambda: _ok(otto.get("/support/tickets"))
        ops["portal, a ticket's page: GET /support/tickets/<n>"] = lambda: _ok(lena.get(f"/support/tickets/{newest}"))
    if "report_pages.report" in line.app.view_functions:
        ops.update(report_operations(line.get, line.engine, datetime.now(ZONE).date()))
    ops["a whole call (8 webhooks, opens a ticket)"] = lambda: whole_call(line)
    return ops


def _ok(response: Any) -> Any:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.path} answered {response.status_code}")
    return response


def measure(line: Line, operation: Callable[[], Any], repeats: int) -> Timing:
    for _ in range(3):
        operation()
    times = []
    for _ in range(repeats):
        line.statements = 0
        started = time.perf_counter()
        operation()
        times.append(1000 * (time.perf_counter() - started))
    return Timing(statistics.median(times), min(times), line.statements)


def database_bytes(database_url: str) -> int:
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    engine = engine_for(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    finally:
        engine.dispose()


def seed(database_url: str, size: Size, now: datetime) -> float:
    """A fresh database of `size`; returns the seconds the load took."""
    started = time.perf_counter()
    fresh_database(database_url)
    engine = engine_for(database_url)
    try:
        seed_team(engine, now)
        seed_history(engine, now, size.history)
        seed_tickets_and_calls(engine, size.tickets, now, spacing=TICKET_SPACING)
        seed_portal_people(engine, now)
        after_bulk_load(engine)
    finally:
        engine.dispose()
    return time.perf_counter() - started


def scale_run(database: str, database_url: str, workdir: Path, large: Size, *, repeats: int, log=print) -> ScaleResult:
    """Measure every operation on the small database, then on the large one (seeded afresh).

    Both are seeded back from the same `now` with the same spacing, so the large one is the
    small one with years more history behind it: the newest tickets, calls and overrides, and
    so the pages and who is on duty, are the same; only the size differs.
    """
    result = ScaleResult(database)
    now = datetime.now(timezone.utc)
    for size in (small_of(large), large):
        result.load_seconds[size.name] = seed(database_url, size, now)
        result.database_bytes[size.name] = database_bytes(database_url)
        result.sizes[size.name] = size
        line = Line(database_url, workdir, now)
        try:
            result.report_build_seconds[size.name] = build_cells(line.engine)
            result.timings[size.name] = {name: measure(line, operation, repeats)
                                         for name, operation in operations(line, size.tickets).items()}
            result.report_refresh[size.name] = measure(line, refresh_after_a_new_ticket(line.engine), repeats)
            if not line.admin and not result.skipped:
                result.skipped.append("/admin/calls: no such page (or the admin login failed) in this version")
        finally:
            line.close()
    return result
