"""Reading the admin forms' fields: local times in a zone, and whole numbers, refused by field."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.limits import EARLIEST_YEAR, LATEST_YEAR, MAX_ROW_ID, clipped, row_id, whole_number
from oncall.schedule import local_to_utc
from oncall.service import InvalidChange

LOCAL_INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


def local_instant(raw: str, tz: ZoneInfo, what: str, field: str | None = None) -> datetime:
    """A `datetime-local` form value, read as wall time in `tz`, as aware UTC; InvalidChange names `field`."""
    for pattern in LOCAL_INPUT_FORMATS:
        try:
            wall = datetime.strptime(raw.strip(), pattern)
        except ValueError:
            continue
        if not EARLIEST_YEAR < wall.year < LATEST_YEAR:
            raise InvalidChange(f"{what} {raw!r} is not between {EARLIEST_YEAR} and {LATEST_YEAR}", field)
        return local_to_utc(wall, tz)
    raise InvalidChange(f"{what} {raw!r} is not a date and time such as 2026-11-26T09:00", field)


def local_input(moment: datetime, tz: ZoneInfo) -> str:
    """`moment` as a `datetime-local` field shows it in `tz`."""
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def number_field(raw: str, what: str, field: str | None = None) -> int:
    """A count or a place in a list (0 allowed); a form's `what` that is not one is refused by name."""
    number = whole_number(raw, MAX_ROW_ID)
    if number is None:
        raise InvalidChange(f"{what} must be a whole number, not {clipped(raw.strip(), 40)!r}", field)
    return number


def contact_field(raw: str, what: str, field: str | None = None) -> int:
    """The id of the contact a form field names; `oncall.service` says whether that contact exists."""
    number = row_id(raw)
    if number is None:
        number_field(raw, what, field)  # refuses what is not a number at all
        raise InvalidChange(f"there is no contact {clipped(raw.strip(), 40)}", field)
    return number

