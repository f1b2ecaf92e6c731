"""The on-call calendar as iCal feeds: the whole rotation, or one contact's own shifts.

Each feed sits behind a secret URL (`/oncall/<secret>.ics`) that calendar apps poll.
Events carry the rotation's time zone with its VTIMEZONE, so Google Calendar and Outlook
show handoffs at the right local time across DST changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from flask import Blueprint, Response, abort

from core.clock import current_clock
from core.db import db
from oncall.models import Contact
from oncall.schedule import ShiftSpan
from oncall.service import feed_by_secret, rotation_in_force, timeline, whole_shifts

bp = Blueprint("oncall_feeds", __name__)

# What a feed covers: enough history to check last week, enough future to plan.
FEED_PAST = timedelta(days=14)
FEED_FUTURE = timedelta(days=90)


def build_calendar(spans: list[ShiftSpan], *, name: str, timezone: str, now: datetime,
                   with_phones: bool = False) -> bytes:
    """An iCalendar document with one event per shift or override in `spans`.

    Phone numbers appear only `with_phones`: in a contact's own feed, never in the shared one.
    """
    tz = ZoneInfo(timezone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Support line//On-call rotation//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", " ".join(name.split()))  # a property value is one line
    calendar.add("x-wr-timezone", timezone)
    for span in spans:
        if span.contact is None:
            continue
        event = icalendar.Event()
        kind = "override" if span.override else "shift"
        event.add("uid", f"{kind}-{span.contact.contact_id}-{span.start:%Y%m%dT%H%M%SZ}@supportline")
        event.add("dtstamp", now)
        event.add("dtstart", span.start.astimezone(tz))
        event.add("dtend", span.end.astimezone(tz))
        event.add("summary", f"On call: {span.contact.name}" + (" (override)" if span.override else ""))
        phone = f" ({span.contact.phone})" if with_phones else ""
        event.add("description", f"{span.contact.name} is on duty for the support line{phone}.")
        calendar.add_component(event)
    if spans:
        calendar.add_missing_timezones(first_date=spans[0].start.date() - timedelta(days=1),
                                       last_date=spans[-1].end.date() + timedelta(days=1))
    return calendar.to_ical()


@bp.get("/oncall/<secret>.ics")
def calendar(secret: str) -> Response:
    """The feed a secret opens: the rotation's, or one contact's shifts."""
    feed = feed_by_secret(db(), secret)
    contact = db().get(Contact, feed.contact_id) if feed is not None and feed.contact_id is not None else None
    if feed is None or (feed.contact_id is not None and (contact is None or not contact.active)):
        abort(404)  # a deactivated contact's feed stops with them
    now = current_clock()
    spans = timeline(db(), *whole_shifts(db(), now - FEED_PAST, now + FEED_FUTURE))  # no shift cut in two
    rotation = rotation_in_force(db(), now)
    timezone = rotation.timezone if rotation else "UTC"
    if feed.contact_id is None:
        name = "Support on-call rotation"
    else:
        name = f"Support on-call: {contact.name}" if contact else "Support on-call"
        spans = [s for s in spans if s.contact is not None and s.contact.contact_id == feed.contact_id]
    body = build_calendar(spans, name=name, timezone=timezone, now=now, with_phones=contact is not None)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})
