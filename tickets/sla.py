"""Service-level agreement rules for support tickets.

Pure domain logic: severities, the one table of first-response targets, and the
clock that turns a ticket's creation time into its response deadline.

Critical, high and normal tickets count calendar hours, because the line is
staffed 24x7: the deadline is absolute elapsed time. Low tickets count business
days in the support time zone: Monday to Friday, minus the national public
holidays (observed days included) that the ``holidays`` package lists for the
configured country. A low ticket created on a business day at local time T is
due at local time T on the second business day after; one created on a
non-business day starts its clock at 00:00 of the next business day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.calendar import BusinessCalendar


class Severity(StrEnum):
    """How urgent a ticket is; decides its first-response target."""

    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


@dataclass(frozen=True)
class CalendarHours:
    """A target measured in absolute elapsed hours (DST does not matter)."""

    hours: int

    def __post_init__(self) -> None:
        _require_positive_int("hours", self.hours)


@dataclass(frozen=True)
class BusinessDays:
    """A target measured in business days of the support calendar."""

    days: int

    def __post_init__(self) -> None:
        _require_positive_int("days", self.days)


def _require_positive_int(name: str, value: object) -> None:
    # bool is an int subclass; True hours would be a silent typo.
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


RESPONSE_TARGETS: dict[Severity, CalendarHours | BusinessDays] = {
    Severity.CRITICAL: CalendarHours(2),
    Severity.HIGH: CalendarHours(6),
    Severity.NORMAL: CalendarHours(12),
    Severity.LOW: BusinessDays(2),
}
"""The one table of first-response targets; everything else derives from it."""

SEVERITY_DEFINITIONS: dict[Severity, str] = {
    Severity.CRITICAL: "Product issue that severely impacts Customer's use of the product.",
    Severity.HIGH: "Major functionality issue that impacts Customer business operation and no workaround is available.",
    Severity.NORMAL: "Partially impacts the use of the product and workaround is available.",
    Severity.LOW: "A routine technical issue or inquiry.",
}
"""What each severity means, in the support agreement's own words (`sla.txt`), for the people choosing one."""


def parse_severity(value: str | Severity) -> Severity:
    """Turn user or config input such as ``" High "`` into a Severity.

    Matching is case-insensitive and ignores surrounding spaces. Raises
    ValueError listing the allowed values for anything else.
    """
    if isinstance(value, Severity):
        return value
    allowed = ", ".join(s.value for s in Severity)
    if isinstance(value, str):
        try:
            return Severity(value.strip().lower())
        except ValueError:
            pass
    raise ValueError(f"unknown severity {value!r}; allowed values: {allowed}")


def target_description(severity: Severity | str) -> str:
    """Say a severity's response target in words, e.g. "2 business days".

    Meant for speech prompts and web pages, so it is plain English.
    """
    target = RESPONSE_TARGETS[parse_severity(severity)]
    if isinstance(target, CalendarHours):
        return f"{target.hours} hour" + ("" if target.hours == 1 else "s")
    return f"{target.days} business day" + ("" if target.days == 1 else "s")


def _local_wall_time_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    # fold=0 is PEP 495's rule: a wall time skipped by a DST change, or one
    # that happens twice, takes the offset in force before the change.
    local = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=zone)
    return local.astimezone(UTC)


def response_due(
    severity: Severity | str, created_at: datetime, calendar: BusinessCalendar
) -> datetime:
    """When the first response to a ticket is due, as an aware UTC datetime.

    ``created_at`` must be timezone-aware (any zone). Raises ValueError for a
    naive datetime or an unknown severity.
    """
    target = RESPONSE_TARGETS[parse_severity(severity)]
    if created_at.tzinfo is None or created_at.utcoffset() is None:
        raise ValueError(
            f"created_at must be timezone-aware, got naive {created_at.isoformat()}"
        )

    if isinstance(target, CalendarHours):
        # Add in UTC: aware arithmetic in a DST zone would add wall-clock time.
        return created_at.astimezone(UTC) + timedelta(hours=target.hours)

    zone = calendar.zone
    local = created_at.astimezone(zone)
    if calendar.is_business_day(local.date()):
        day, wall = local.date(), local.time()
    else:
        # The clock starts at 00:00 of the next business day, which is then
        # the day the business days are counted from.
        day, wall = calendar.next_business_day(local.date()), time(0, 0)
    for _ in range(target.days):
        day = calendar.next_business_day(day)
    return _local_wall_time_to_utc(day, wall, zone)
