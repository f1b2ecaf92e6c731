"""The support calendar: the support time zone and its business days.

Pure: `zoneinfo` and the `holidays` package only. Business days are Monday to Friday in
`SUPPORT_TIMEZONE`, minus the national public holidays (observed days included) that the
``holidays`` package lists for the country `SUPPORT_HOLIDAYS` names. The SLA clock
(`tickets.sla`) counts low-severity targets in them; the settings check both values with it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays


class UnknownHolidayCountry(ValueError):
    """The configured holiday country is not one the holidays package knows."""


class UnknownTimezone(ValueError):
    """The configured support time zone is not a known IANA time zone."""


@lru_cache(maxsize=None)
def _country_holidays(country: str) -> holidays.HolidayBase:
    # One object per country: it fills in years lazily on lookup, so a single
    # instance serves every year. Observed days are on by default; keep them.
    return holidays.country_holidays(country, observed=True)


# Lookups populate a year on first use, which mutates the holidays dict;
# the web server may call us from several threads at once.
_holiday_lock = threading.Lock()


def _validate_country(country: str | None) -> str | None:
    if country is None:
        return None
    if not isinstance(country, str):
        raise UnknownHolidayCountry(
            f"holiday country must be an ISO 3166 alpha-2 code such as 'US', "
            f"got {country!r}"
        )
    code = country.strip().upper()
    if code == "":
        # An empty SUPPORT_HOLIDAYS setting means "no holidays".
        return None
    # The package also accepts alpha-3 aliases; one spelling per country keeps
    # calendars comparable and matches the configuration contract.
    if len(code) != 2 or code not in holidays.list_supported_countries():
        raise UnknownHolidayCountry(
            f"unknown holiday country {country!r}: expected an ISO 3166 "
            f"alpha-2 code that the holidays package supports, such as 'US', "
            f"'GB' or 'IN'"
        )
    return code


def _validate_timezone(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise UnknownTimezone(
            f"support time zone must be an IANA name such as "
            f"'America/New_York', got {name!r}"
        )
    key = name.strip()
    # "localtime" is the host's setting, not an IANA zone; it would make due
    # times depend on where the process runs.
    if key == "localtime":
        raise UnknownTimezone(
            "support time zone 'localtime' depends on the host; use an IANA "
            "name such as 'America/New_York'"
        )
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimezone(
            f"unknown support time zone {name!r}: expected an IANA name such "
            f"as 'America/New_York' or 'Asia/Kolkata'"
        ) from None
    return key


@dataclass(frozen=True)
class BusinessCalendar:
    """Where and when business days happen for low-severity targets.

    ``timezone`` is an IANA name; ``holiday_country`` an ISO 3166 alpha-2 code
    or None for no holidays. Both are validated and normalised on creation.
    """

    timezone: str
    holiday_country: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "timezone", _validate_timezone(self.timezone))
        object.__setattr__(
            self, "holiday_country", _validate_country(self.holiday_country)
        )

    @property
    def zone(self) -> ZoneInfo:
        """The ZoneInfo for ``timezone`` (ZoneInfo caches instances itself)."""
        return ZoneInfo(self.timezone)

    def holiday_name(self, day: date) -> str | None:
        """Name of the national public holiday on ``day``, or None."""
        if self.holiday_country is None:
            return None
        table = _country_holidays(self.holiday_country)
        with _holiday_lock:
            return table.get(day)

    def is_business_day(self, day: date) -> bool:
        """True for Monday to Friday unless ``day`` is a holiday."""
        return day.weekday() < 5 and self.holiday_name(day) is None

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day


@lru_cache(maxsize=64)
def business_calendar(timezone: str, holiday_country: str | None) -> BusinessCalendar:
    """Build (once per argument pair) the validated calendar for the settings.

    Raises UnknownTimezone or UnknownHolidayCountry (both ValueError) with a
    message naming the bad value.
    """
    return BusinessCalendar(timezone, holiday_country)
