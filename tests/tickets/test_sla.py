"""Unit tests for the SLA rules in tickets.sla."""

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from zoneinfo import ZoneInfo

from core.calendar import business_calendar
from tickets.sla import (
    RESPONSE_TARGETS,
    BusinessDays,
    CalendarHours,
    Severity,
    parse_severity,
    response_due,
    target_description,
)

NEW_YORK = ZoneInfo("America/New_York")
US = business_calendar("America/New_York", "US")
NO_HOLIDAYS = business_calendar("America/New_York", None)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the table ---------------------------------------------------------------


def test_response_targets_cover_exactly_the_four_severities():
    assert set(RESPONSE_TARGETS) == {"critical", "high", "normal", "low"}
    assert set(RESPONSE_TARGETS) == set(Severity)


def test_response_targets_match_the_contract():
    assert RESPONSE_TARGETS == {
        Severity.CRITICAL: CalendarHours(2),
        Severity.HIGH: CalendarHours(6),
        Severity.NORMAL: CalendarHours(12),
        Severity.LOW: BusinessDays(2),
    }


@pytest.mark.parametrize(
    ("severity", "words"),
    [
        (Severity.CRITICAL, "2 hours"),
        (Severity.HIGH, "6 hours"),
        (Severity.NORMAL, "12 hours"),
        (Severity.LOW, "2 business days"),
        ("LOW", "2 business days"),
    ],
)
def test_target_description_says_the_target_in_words(severity, words):
    assert target_description(severity) == words


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_targets_reject_non_positive_or_non_integer_amounts(bad):
    with pytest.raises(ValueError):
        CalendarHours(bad)
    with pytest.raises(ValueError):
        BusinessDays(bad)


# --- parsing severities ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("critical", Severity.CRITICAL),
        (" High ", Severity.HIGH),
        ("NORMAL", Severity.NORMAL),
        ("low\n", Severity.LOW),
        (Severity.LOW, Severity.LOW),
    ],
)
def test_parse_severity_ignores_case_and_surrounding_spaces(text, expected):
    assert parse_severity(text) is expected


@pytest.mark.parametrize("bad", ["urgent", "", "hi gh", None, 3])
def test_parse_severity_rejects_anything_else_listing_the_allowed_values(bad):
    with pytest.raises(ValueError, match="critical, high, normal, low"):
        parse_severity(bad)


# --- calendar hours: critical, high, normal ----------------------------------


@pytest.mark.parametrize(
    ("severity", "hours"),
    [(Severity.CRITICAL, 2), (Severity.HIGH, 6), (Severity.NORMAL, 12)],
)
def test_calendar_hour_severities_add_exact_elapsed_hours_even_at_weekends(
    severity, hours
):
    # Saturday night: hour-based targets ignore business days entirely.
    created = utc(2026, 1, 10, 23, 15, 30)
    due = response_due(severity, created, US)
    assert due == created + timedelta(hours=hours)
    assert due.tzinfo is UTC


@pytest.mark.parametrize(
    ("severity", "created", "due_utc", "due_local_wall"),
    [
        # Spring forward 2026-03-08 02:00 EST -> 03:00 EDT: wall time jumps
        # one hour more than the target.
        ("critical", ny(2026, 3, 8, 1, 30), utc(2026, 3, 8, 8, 30), (3, 8, 4, 30)),
        ("high", ny(2026, 3, 7, 22, 0), utc(2026, 3, 8, 9, 0), (3, 8, 5, 0)),
        ("normal", ny(2026, 3, 7, 20, 0), utc(2026, 3, 8, 13, 0), (3, 8, 9, 0)),
        # Fall back 2026-11-01 02:00 EDT -> 01:00 EST: wall time moves one
        # hour less than the target.
        ("critical", ny(2026, 11, 1, 0, 30), utc(2026, 11, 1, 6, 30), (11, 1, 1, 30)),
        ("high", ny(2026, 10, 31, 22, 0), utc(2026, 11, 1, 8, 0), (11, 1, 3, 0)),
        ("normal", ny(2026, 10, 31, 20, 0), utc(2026, 11, 1, 12, 0), (11, 1, 7, 0)),
    ],
)
def test_calendar_hour_severities_count_elapsed_time_across_dst_changes(
    severity, created, due_utc, due_local_wall
):
    due = response_due(severity, created, US)
    assert due == due_utc
    local = due.astimezone(NEW_YORK)
    assert (local.month, local.day, local.hour, local.minute) == due_local_wall


def test_critical_due_time_does_not_depend_on_the_zone_created_at_is_given_in():
    instant = utc(2026, 3, 8, 6, 30)
    in_kolkata = instant.astimezone(ZoneInfo("Asia/Kolkata"))
    assert response_due("critical", in_kolkata, US) == utc(2026, 3, 8, 8, 30)


# --- business days: low ------------------------------------------------------


@pytest.mark.parametrize(
    ("created", "due"),
    [
        # Friday 15:00 on a business day: Monday is the 1st, Tuesday the 2nd.
        (ny(2026, 1, 9, 15, 0), ny(2026, 1, 13, 15, 0)),
        # Monday morning: plain two days later.
        (ny(2026, 1, 12, 9, 45, 12), ny(2026, 1, 14, 9, 45, 12)),
        # Saturday and Sunday: clock starts Monday 00:00, due Wednesday 00:00.
        (ny(2026, 1, 10, 10, 0), ny(2026, 1, 14, 0, 0)),
        (ny(2026, 1, 11, 23, 59), ny(2026, 1, 14, 0, 0)),
    ],
)
def test_low_severity_is_due_two_business_days_later_at_the_same_local_time(
    created, due
):
    assert response_due(Severity.LOW, created, US) == due.astimezone(UTC)


def test_low_severity_uses_the_local_day_not_the_utc_day():
    # 03:00 UTC Saturday is still Friday 22:00 in New York: a business day.
    created = utc(2026, 1, 10, 3, 0)
    assert response_due("low", created, US) == ny(2026, 1, 13, 22, 0)


def test_low_severity_skips_a_holiday_between_creation_and_deadline():
    # Wed before Thanksgiving: Fri 27 is the 1st business day, Mon 30 the 2nd.
    due = response_due("low", ny(2026, 11, 25, 10, 0), US)
    assert due == ny(2026, 11, 30, 10, 0)
    assert due == utc(2026, 11, 30, 15, 0)


def test_low_severity_created_on_a_holiday_starts_at_next_business_midnight():
    # Thanksgiving: clock starts Fri 27 00:00; Mon 30 is 1st, Tue Dec 1 2nd.
    due = response_due("low", ny(2026, 11, 26, 10, 0), US)
    assert due == ny(2026, 12, 1, 0, 0)


def test_observed_holidays_count_as_holidays():
    # July 4th 2026 is a Saturday; the package observes it on Friday July 3rd.
    assert US.holiday_name(date(2026, 7, 3)) == "Independence Day (observed)"
    assert not US.is_business_day(date(2026, 7, 3))
    # Thu Jul 2: Fri 3 observed holiday, weekend, Mon 6 1st, Tue 7 2nd.
    assert response_due("low", ny(2026, 7, 2, 9, 0), US) == ny(2026, 7, 7, 9, 0)
    # On the observed day itself: clock starts Mon 6 00:00, due Wed 8 00:00.
    assert response_due("low", ny(2026, 7, 3, 9, 0), US) == ny(2026, 7, 8, 0, 0)


def test_low_severity_keeps_local_wall_time_across_a_dst_change():
    # Friday 14:00 EDT -> Tuesday 14:00 EST, an elapsed 97 hours, not 96.
    due = response_due("low", ny(2026, 10, 30, 14, 0), US)
    assert due == utc(2026, 11, 3, 19, 0)
    assert due.astimezone(NEW_YORK).hour == 14


def test_without_a_holiday_country_holidays_are_ordinary_weekdays():
    assert NO_HOLIDAYS.holiday_name(date(2026, 11, 26)) is None
    assert NO_HOLIDAYS.is_business_day(date(2026, 11, 26))
    # Wed before Thanksgiving: Thu 26 is 1st, Fri 27 is 2nd.
    due = response_due("low", ny(2026, 11, 25, 10, 0), NO_HOLIDAYS)
    assert due == ny(2026, 11, 27, 10, 0)


@pytest.mark.parametrize(
    ("zone", "country", "created_local", "with_holidays", "without_holidays"),
    [
        # India, Holi on Wed 2026-03-04: Tue 3 1st, Thu 5 2nd.
        (
            "Asia/Kolkata",
            "IN",
            (2026, 3, 2, 11, 0),
            utc(2026, 3, 5, 5, 30),
            utc(2026, 3, 4, 5, 30),
        ),
        # Great Britain, Good Friday 2026-04-03: Mon 6 1st, Tue 7 2nd (BST).
        (
            "Europe/London",
            "GB",
            (2026, 4, 2, 10, 0),
            utc(2026, 4, 7, 9, 0),
            utc(2026, 4, 6, 9, 0),
        ),
    ],
)
def test_the_configured_country_and_time_zone_are_honoured(
    zone, country, created_local, with_holidays, without_holidays
):
    created = datetime(*created_local, tzinfo=ZoneInfo(zone))
    assert response_due("low", created, business_calendar(zone, country)) == (
        with_holidays
    )
    assert response_due("low", created, business_calendar(zone, None)) == (
        without_holidays
    )


def test_low_severity_crosses_a_year_boundary_skipping_new_years_day():
    # Wed Dec 30: Thu 31 1st, Fri Jan 1 holiday, weekend, Mon Jan 4 2nd.
    assert US.holiday_name(date(2027, 1, 1)) == "New Year's Day"
    due = response_due("low", ny(2026, 12, 30, 10, 0), US)
    assert due == utc(2027, 1, 4, 15, 0)


def test_holiday_lookups_work_across_years_in_any_order():
    # Jan 1 2033 is a Saturday, observed Fri Dec 31 2032. No other test
    # touches these years, so the cached holidays object loads 2033 first
    # and must still expand 2032 on demand.
    calendar = business_calendar("America/New_York", "US")
    assert calendar.is_business_day(date(2033, 1, 3))
    assert calendar.holiday_name(date(2032, 12, 31)) == "New Year's Day (observed)"
    # Thu Dec 30 2032: Fri 31 observed, weekend, Mon Jan 3 1st, Tue Jan 4 2nd.
    due = response_due("low", ny(2032, 12, 30, 16, 0), calendar)
    assert due == ny(2033, 1, 4, 16, 0)


@pytest.mark.parametrize(
    ("zone", "created_local", "due_utc"),
    [
        # Egypt springs forward Fri 2026-04-24 00:00 -> 01:00, so 00:30 does
        # not exist on the due day; fold=0 takes the earlier offset, +02:00.
        ("Africa/Cairo", (2026, 4, 22, 0, 30), utc(2026, 4, 23, 22, 30)),
        # Egypt falls back at the end of Thu 2026-10-29, so 23:30 happens
        # twice; fold=0 takes the earlier offset, +03:00.
        ("Africa/Cairo", (2026, 10, 27, 23, 30), utc(2026, 10, 29, 20, 30)),
        # Israel springs forward Fri 2026-03-27 02:00 -> 03:00.
        ("Asia/Jerusalem", (2026, 3, 25, 2, 30), utc(2026, 3, 27, 0, 30)),
    ],
)
def test_a_due_wall_time_that_is_skipped_or_repeated_resolves_with_fold_zero(
    zone, created_local, due_utc
):
    calendar = business_calendar(zone, None)
    created = datetime(*created_local, tzinfo=ZoneInfo(zone))
    assert response_due("low", created, calendar) == due_utc


# --- invalid inputs ----------------------------------------------------------


def test_a_naive_created_at_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        response_due("critical", datetime(2026, 1, 9, 15, 0), US)


def test_an_unknown_severity_is_rejected():
    with pytest.raises(ValueError, match="'urgent'.*critical, high, normal, low"):
        response_due("urgent", utc(2026, 1, 9, 15, 0), US)


# --- independence from the process time zone ---------------------------------


@pytest.fixture
def process_in_kolkata(monkeypatch):
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "Asia/Kolkata")
        time.tzset()
        yield
    # The context restored TZ; make the C library pick the old value back up.
    time.tzset()


def test_due_times_do_not_depend_on_the_process_time_zone(process_in_kolkata):
    assert time.timezone == -(5 * 3600 + 30 * 60)
    assert response_due("low", ny(2026, 1, 9, 15, 0), US) == utc(2026, 1, 13, 20, 0)
    assert response_due("low", ny(2026, 1, 10, 10, 0), US) == utc(2026, 1, 14, 5, 0)
    assert response_due("low", utc(2026, 1, 10, 3, 0), US) == utc(2026, 1, 14, 3, 0)
    due = response_due("critical", ny(2026, 3, 8, 1, 30), US)
    assert due == utc(2026, 3, 8, 8, 30)
