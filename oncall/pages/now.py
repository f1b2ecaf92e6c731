"""On call now: who is on duty, who comes next, the next two weeks, and what breaks coverage."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template
from sqlalchemy.orm import Session

from core.clock import current_clock
from core.db import db
from core.settings import current_settings
from oncall import service
from oncall.schedule import shift_bounds
from staff.admins import login_required
from web.pages import home_zone, viewer_zone

TIMELINE_DAYS = 14
# Offered in the viewer's time zone select; any IANA name works as ?tz=.
COMMON_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Johannesburg",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def _timeline_window(session: Session, now: datetime) -> tuple[datetime, datetime]:
    """From the start of the shift in force to the end of the shift in force 14 days on: whole shifts."""
    start, end = now, now + timedelta(days=TIMELINE_DAYS)
    first = service.rotation_in_force(session, start)
    if first is not None and first.members:
        start = max(shift_bounds(service.plan_of(first), now)[1], first.effective_from)
    last = service.rotation_in_force(session, end)
    if last is not None and last.members:
        _, shift_start, shift_end = shift_bounds(service.plan_of(last), end)
        if shift_start < end:
            end = shift_end
    return start, end


@login_required
def oncall_now() -> str:
    """Who is on duty, who comes next, when the shift ends, the next 14 days, and what breaks coverage."""
    now, settings = current_clock(), current_settings()
    outlook = service.duty_outlook(db(), now)
    start, end = _timeline_window(db(), now)
    zones = sorted({*COMMON_ZONES, home_zone().key, viewer_zone().key})
    return render_template(
        "oncall/now.html",
        now=now,
        duty=outlook.duty,
        outlook=outlook,
        outlook_days=service.OUTLOOK_REACH[-1].days,
        timeline=service.timeline(db(), start, end),
        warnings=service.coverage_warnings(db(), now, settings.fallback_number, settings.phone_region),
        fallback_number=settings.fallback_number,
        zones=zones,
    )
