"""On call now: who is on duty, who comes next, the next two weeks, and what breaks coverage."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template

from core.clock import current_clock
from core.db import db
from core.settings import current_settings
from oncall import service
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


@login_required
def oncall_now() -> str:
    """Who is on duty, who comes next, when the shift ends, the next 14 days, and what breaks coverage."""
    now, settings = current_clock(), current_settings()
    outlook = service.duty_outlook(db(), now)
    start, end = service.whole_shifts(db(), now, now + timedelta(days=TIMELINE_DAYS))
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
