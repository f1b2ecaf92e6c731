"""The SLA report at scale: a year of it, by month and by week, for every ticket and for one
organisation, read through the API and the manager's page; and what keeping it costs the worker.

The report reads the cells the worker keeps (tickets/report.py), so on the scale databases the
cells are built first, as the worker's first round builds them, and that build is timed. The
worker's work after a new ticket (this week's and this month's cells computed again) is timed on
its own: it is not a page anyone waits for, and it grows with the tickets of a month.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.calendar import BusinessCalendar
from tickets.records import open_ticket
from tickets.report import refresh_report
from tickets.sla import Severity

# The bench line's support time zone and holidays (bench/scale.py's Line).
ZONE = ZoneInfo("America/New_York")
CALENDAR = BusinessCalendar("America/New_York", "US")


def build_cells(engine: Engine) -> float:
    """Build every report cell, as the worker's first round does; returns the seconds it took."""
    started = time.perf_counter()
    with Session(engine) as session:
        refresh_report(session, datetime.now(timezone.utc), ZONE)
    return time.perf_counter() - started


def report_operations(get: Callable[..., Any], engine: Engine, today: date) -> dict[str, Callable[[], Any]]:
    """The report's reads, by the name the bench prints."""
    with engine.connect() as connection:
        acme = connection.execute(text("SELECT id FROM organizations WHERE name = 'Acme Corp'")).scalar_one()
    year_ago = (today - timedelta(days=364)).isoformat()
    return {
        "SLA report, a year by month: GET /api/reports/sla": lambda: get("/api/reports/sla?group=month"),
        "SLA report, a year by week (53 weeks)": lambda: get(f"/api/reports/sla?group=week&from={year_ago}"),
        "SLA report, one organisation's year by month": lambda: get(f"/api/reports/sla?organization_id={acme}"),
        "SLA report page: GET /admin/reports/": lambda: get("/admin/reports/", api=False),
    }


def refresh_after_a_new_ticket(engine: Engine) -> Callable[[], Any]:
    """One new ticket, then the worker's refresh of the cells it touches (this week's and month's)."""
    def run() -> None:
        with Session(engine) as session:
            now = datetime.now(timezone.utc)
            open_ticket(session, severity=Severity.HIGH, source="api", now=now, calendar=CALENDAR)
            session.commit()
            refresh_report(session, now, ZONE, force=True)

    return run
