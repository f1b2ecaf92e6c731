"""The business calendar (core.calendar): which local days are business days, where, and refusals."""

from datetime import date, timedelta

import pytest

from core.calendar import BusinessCalendar, UnknownHolidayCountry, UnknownTimezone, business_calendar

US = business_calendar("America/New_York", "US")
NO_HOLIDAYS = business_calendar("America/New_York", None)


def test_the_package_lists_thanksgiving_but_not_the_day_after():
    assert US.holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"
    assert US.holiday_name(date(2026, 11, 27)) is None
    assert US.is_business_day(date(2026, 11, 27))


def test_us_holidays_do_not_apply_to_another_country():
    gb = business_calendar("Europe/London", "GB")
    assert gb.is_business_day(date(2026, 11, 26))
    assert gb.holiday_name(date(2026, 12, 28)) == "Boxing Day (observed)"


def test_business_calendar_is_cached_and_normalises_the_country_code():
    assert business_calendar("America/New_York", "US") is US
    assert business_calendar("America/New_York", " us ").holiday_country == "US"
    assert BusinessCalendar("America/New_York", "us") == US


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_a_missing_or_blank_holiday_country_means_no_holidays(blank):
    assert business_calendar("America/New_York", blank).holiday_country is None


@pytest.mark.parametrize(
    "weekday", [date(2026, 1, 5) + timedelta(days=i) for i in range(5)]
)
def test_weekdays_without_holidays_are_business_days(weekday):
    assert NO_HOLIDAYS.is_business_day(weekday)


@pytest.mark.parametrize("weekend", [date(2026, 1, 10), date(2026, 1, 11)])
def test_weekends_are_never_business_days(weekend):
    assert not NO_HOLIDAYS.is_business_day(weekend)
    assert not US.is_business_day(weekend)


@pytest.mark.parametrize("code", ["XX", "USA", "U", "United States"])
def test_an_unknown_holiday_country_is_rejected_naming_the_code(code):
    with pytest.raises(UnknownHolidayCountry, match=repr(code)) as caught:
        business_calendar("America/New_York", code)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "zone",
    ["Mars/Olympus_Mons", "america/new_york", "America", "", "../etc", "localtime"],
)
def test_an_unknown_timezone_is_rejected_naming_it(zone):
    with pytest.raises(UnknownTimezone, match=repr(zone)) as caught:
        business_calendar(zone, "US")
    assert isinstance(caught.value, ValueError)
