"""Unit tests for oncall.schedule: rotation time, ownership, overrides, routing order.

Unless a test says otherwise, rotations are in America/New_York, whose 2026
DST changes are Sun 2026-03-08 02:00 EST -> 03:00 EDT (spring forward) and
Sun 2026-11-01 02:00 EDT -> 01:00 EST (fall back). EST is UTC-5, EDT UTC-4.
"""

from __future__ import annotations

import time
from datetime import datetime, time as wall_time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from oncall import schedule
from oncall.schedule import (
    Duty,
    InvalidRotation,
    Member,
    OverridePlan,
    RotationPlan,
    Shift,
    ShiftSpan,
    local_to_utc,
    on_duty_at,
    shift_bounds,
    shifts_between,
    zone,
)

NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc
US = timedelta(microseconds=1)

ANA = Member(1, "Ana", "+15550000001")
BEN = Member(2, "Ben", "+15550000002")
CAT = Member(3, "Cat", "+15550000003")
DAN = Member(4, "Dan", "+15550000004")
EVE = Member(5, "Eve", "+15550000005")


def utc(*fields) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def ny(*fields) -> datetime:
    """An aware New York time; only use it for wall times that exist once."""
    return datetime(*fields, tzinfo=NEW_YORK)


def inactive(member: Member) -> Member:
    return Member(member.contact_id, member.name, member.phone, active=False)


def hours(delta: timedelta) -> float:
    return delta / timedelta(hours=1)


def rotation(
    shift="daily",
    handoff=datetime(2026, 1, 5, 9, 0),  # a Monday
    members=(ANA, BEN, CAT),
    backups=1,
    timezone_name="America/New_York",
) -> RotationPlan:
    return RotationPlan(
        timezone=timezone_name,
        handoff=handoff,
        shift=Shift.from_json(shift),
        members=tuple(members),
        backups=backups,
    )


def override(override_id, contact, start, end) -> OverridePlan:
    return OverridePlan(id=override_id, contact=contact, start=start, end=end)


def consecutive_shifts(plan, at, count):
    """`count` shifts from the one in force at `at`, each looked up at the previous end."""
    found = [shift_bounds(plan, at)]
    while len(found) < count:
        found.append(shift_bounds(plan, found[-1][2]))
    return found


# --- Rotation time across DST -------------------------------------------------


@pytest.mark.parametrize(
    "at, start, end, length",
    [
        # Mon 03-02 09:00 EST -> Mon 03-09 09:00 EDT: one hour short.
        (ny(2026, 3, 8, 12), utc(2026, 3, 2, 14), utc(2026, 3, 9, 13), 167),
        (ny(2026, 3, 12, 12), utc(2026, 3, 9, 13), utc(2026, 3, 16, 13), 168),
        # Mon 10-26 09:00 EDT -> Mon 11-02 09:00 EST: one hour long.
        (ny(2026, 11, 1, 12), utc(2026, 10, 26, 13), utc(2026, 11, 2, 14), 169),
    ],
)
def test_weekly_handoff_stays_at_9am_local_so_the_shift_over_a_dst_change_is_167_or_169_hours(
    at, start, end, length
):
    plan = rotation("weekly")

    _, shift_start, shift_end = shift_bounds(plan, at)

    assert (shift_start, shift_end) == (start, end)
    assert hours(shift_end - shift_start) == length
    assert shift_start.astimezone(NEW_YORK).time() == wall_time(9, 0)
    assert shift_end.astimezone(NEW_YORK).time() == wall_time(9, 0)
    assert shift_end.astimezone(NEW_YORK).weekday() == 0


@pytest.mark.parametrize(
    "at, start, end, length",
    [
        (ny(2026, 3, 8, 5), utc(2026, 3, 7, 13), utc(2026, 3, 8, 12), 23),
        (ny(2026, 3, 9, 5), utc(2026, 3, 8, 12), utc(2026, 3, 9, 12), 24),
        (ny(2026, 11, 1, 5), utc(2026, 10, 31, 12), utc(2026, 11, 1, 13), 25),
        (ny(2026, 11, 2, 5), utc(2026, 11, 1, 13), utc(2026, 11, 2, 13), 24),
    ],
)
def test_daily_handoff_stays_at_8am_local_so_dst_days_last_23_or_25_hours(at, start, end, length):
    plan = rotation("daily", handoff=datetime(2026, 1, 5, 8, 0))

    _, shift_start, shift_end = shift_bounds(plan, at)

    assert (shift_start, shift_end) == (start, end)
    assert hours(shift_end - shift_start) == length
    assert shift_end.astimezone(NEW_YORK).time() == wall_time(8, 0)


@pytest.mark.parametrize(
    "at, start, end, length",
    [
        # Night shift 03-07 20:00 EST -> 03-08 08:00 EDT.
        (ny(2026, 3, 8, 1), utc(2026, 3, 8, 1), utc(2026, 3, 8, 12), 11),
        (ny(2026, 3, 8, 12), utc(2026, 3, 8, 12), utc(2026, 3, 9, 0), 12),
        # Night shift 10-31 20:00 EDT -> 11-01 08:00 EST.
        (ny(2026, 11, 1, 4), utc(2026, 11, 1, 0), utc(2026, 11, 1, 13), 13),
        (ny(2026, 11, 1, 12), utc(2026, 11, 1, 13), utc(2026, 11, 2, 1), 12),
    ],
)
def test_twelve_hour_night_shift_lasts_11_or_13_hours_on_dst_nights(at, start, end, length):
    plan = rotation({"hours": 12}, handoff=datetime(2026, 1, 5, 8, 0))

    _, shift_start, shift_end = shift_bounds(plan, at)

    assert (shift_start, shift_end) == (start, end)
    assert hours(shift_end - shift_start) == length
    assert shift_start.astimezone(NEW_YORK).time() in (wall_time(8, 0), wall_time(20, 0))


def test_a_skipped_wall_time_resolves_with_the_offset_before_the_change():
    resolved = local_to_utc(datetime(2026, 3, 8, 2, 30), NEW_YORK)

    assert resolved == utc(2026, 3, 8, 7, 30)
    assert resolved.tzinfo is UTC
    assert resolved.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 30)


def test_a_repeated_wall_time_resolves_to_its_first_occurrence_even_if_fold_is_set():
    assert local_to_utc(datetime(2026, 11, 1, 1, 30), NEW_YORK) == utc(2026, 11, 1, 5, 30)
    assert local_to_utc(datetime(2026, 11, 1, 1, 30, fold=1), NEW_YORK) == utc(2026, 11, 1, 5, 30)


def test_local_to_utc_rejects_an_aware_wall_time():
    with pytest.raises(InvalidRotation):
        local_to_utc(ny(2026, 1, 1, 12), NEW_YORK)


def test_a_0230_handoff_on_spring_forward_day_starts_at_0330_edt_and_stays_0230_on_other_days():
    plan = rotation("daily", handoff=datetime(2026, 3, 8, 2, 30))

    k, start, end = shift_bounds(plan, utc(2026, 3, 8, 7, 30))
    assert (k, start) == (0, utc(2026, 3, 8, 7, 30))
    assert end == utc(2026, 3, 9, 6, 30)  # 02:30 EDT the next day

    local_starts = {
        shift_start.astimezone(NEW_YORK).date().isoformat(): shift_start.astimezone(NEW_YORK).time()
        for _, shift_start, _ in consecutive_shifts(plan, ny(2026, 3, 5, 12), 6)
    }
    assert local_starts == {
        "2026-03-05": wall_time(2, 30),
        "2026-03-06": wall_time(2, 30),
        "2026-03-07": wall_time(2, 30),
        "2026-03-08": wall_time(3, 30),
        "2026-03-09": wall_time(2, 30),
        "2026-03-10": wall_time(2, 30),
    }


def test_a_0130_handoff_on_fall_back_day_is_the_first_0130_and_the_second_one_is_no_handoff():
    plan = rotation("daily", handoff=datetime(2026, 11, 1, 1, 30))

    assert shift_bounds(plan, utc(2026, 11, 1, 5, 30)) == (
        0,
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT
        utc(2026, 11, 2, 6, 30),  # 01:30 EST the next day: a 25-hour shift
    )
    # 06:30 UTC is the second 01:30 (EST) on the same day: still shift 0.
    assert shift_bounds(plan, utc(2026, 11, 1, 6, 30))[0] == 0
    assert shift_bounds(plan, utc(2026, 11, 1, 5, 30) - US)[0] == -1


def test_during_the_repeated_hour_a_handoff_at_its_first_occurrence_has_already_happened():
    plan = rotation("daily", handoff=datetime(2026, 1, 5, 1, 45))

    # 06:30 UTC reads 01:30 (EST) locally, before 01:45 on the wall, but the
    # 01:45 handoff happened at its first occurrence (01:45 EDT, 05:45 UTC).
    k, start, end = shift_bounds(plan, utc(2026, 11, 1, 6, 30))

    assert (start, end) == (utc(2026, 11, 1, 5, 45), utc(2026, 11, 2, 6, 45))
    assert k == shift_bounds(plan, utc(2026, 11, 1, 5, 45) - US)[0] + 1


def test_the_handoff_instant_belongs_to_the_new_shift_and_a_microsecond_before_to_the_old():
    plan = rotation("daily")  # Ana, Ben, Cat from Mon 2026-01-05 09:00
    handoff = ny(2026, 1, 6, 9, 0)

    at_handoff = on_duty_at(plan, [], handoff)
    just_before = on_duty_at(plan, [], handoff - US)

    assert at_handoff.on_duty == BEN
    assert at_handoff.shift_start == handoff
    assert just_before.on_duty == ANA
    assert just_before.shift_end == handoff


@pytest.mark.parametrize(
    "shift", ["daily", "weekly", {"hours": 12}, {"hours": 8}, {"hours": 6}, {"hours": 5}, {"hours": 36}]
)
@pytest.mark.parametrize("walk_from", [ny(2026, 2, 20, 12), ny(2026, 10, 15, 12)])
def test_every_shift_ends_exactly_where_the_next_one_starts(shift, walk_from):
    plan = rotation(shift, handoff=datetime(2026, 1, 5, 8, 0))

    shifts = consecutive_shifts(plan, walk_from, 120)

    for (k, start, end), (next_k, next_start, _) in zip(shifts, shifts[1:]):
        assert start < end
        assert next_k == k + 1
        assert next_start == end
        # The shift in force one microsecond before the end is still this one.
        assert shift_bounds(plan, end - US) == (k, start, end)


def test_hourly_shifts_at_a_skipped_wall_time_are_empty_and_the_previous_shift_runs_until_the_jump():
    plan = rotation({"hours": 1}, handoff=datetime(2026, 1, 5, 0, 0))

    one_am = shift_bounds(plan, ny(2026, 3, 8, 1, 30))
    three_am = shift_bounds(plan, utc(2026, 3, 8, 7, 0))

    # 01:00 EST lasts one hour; 02:00 does not exist, so shift 02:00 is empty
    # and 03:00 EDT (07:00 UTC) follows directly, skipping one index.
    assert one_am[1:] == (utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 7, 0))
    assert three_am[1:] == (utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 8, 0))
    assert three_am[0] == one_am[0] + 2


def test_five_hour_shifts_count_elapsed_hours_and_drift_across_dst():
    plan = rotation({"hours": 5}, handoff=datetime(2026, 3, 7, 0, 0))  # 05:00 UTC

    shifts = consecutive_shifts(plan, utc(2026, 3, 7, 5), 8)

    expected_starts = [utc(2026, 3, 7, 5) + timedelta(hours=5 * k) for k in range(8)]
    assert [start for _, start, _ in shifts] == expected_starts
    assert all(end - start == timedelta(hours=5) for _, start, end in shifts)
    # Shift 5 runs 01:00 EST -> 07:00 EDT: five elapsed hours, six on the wall.
    k, start, end = shift_bounds(plan, ny(2026, 3, 8, 4))
    assert k == 5
    assert start.astimezone(NEW_YORK).time() == wall_time(1, 0)
    assert end.astimezone(NEW_YORK).time() == wall_time(7, 0)


@pytest.mark.parametrize(
    "at, start, end, length",
    [
        # 00:00 EST -> 06:00 EDT.
        (ny(2026, 3, 8, 4), utc(2026, 3, 8, 5), utc(2026, 3, 8, 10), 5),
        # 00:00 EDT -> 06:00 EST.
        (utc(2026, 11, 1, 6), utc(2026, 11, 1, 4), utc(2026, 11, 1, 11), 7),
        (ny(2026, 11, 1, 7), utc(2026, 11, 1, 11), utc(2026, 11, 1, 17), 6),
    ],
)
def test_six_hour_shifts_follow_wall_time_because_six_divides_24(at, start, end, length):
    plan = rotation({"hours": 6}, handoff=datetime(2026, 1, 5, 0, 0))

    _, shift_start, shift_end = shift_bounds(plan, at)

    assert (shift_start, shift_end) == (start, end)
    assert hours(shift_end - shift_start) == length


# --- Overrides ----------------------------------------------------------------


def test_an_override_spanning_a_handoff_wins_on_both_sides_and_escalates_to_the_rotations_person():
    plan = rotation("daily", members=(ANA, BEN, CAT), backups=2)  # Ana Mon, Ben Tue from 09:00
    cover = override(1, DAN, ny(2026, 1, 6, 8), ny(2026, 1, 6, 10))

    before = on_duty_at(plan, [cover], ny(2026, 1, 6, 8, 30))
    after = on_duty_at(plan, [cover], ny(2026, 1, 6, 9, 30))

    for duty in (before, after):
        assert duty.on_duty == DAN
        assert duty.override is True
        assert (duty.shift_start, duty.shift_end) == (utc(2026, 1, 6, 13), utc(2026, 1, 6, 15))
        assert duty.shift_start.tzinfo is UTC
    assert before.escalation == (ANA, BEN)
    assert after.escalation == (BEN, CAT)


def test_an_override_by_a_rotation_member_never_lists_them_again_in_the_escalation():
    plan = rotation("daily", members=(ANA, BEN, CAT), backups=2)
    cover = override(1, CAT, ny(2026, 1, 6, 8), ny(2026, 1, 6, 10))

    assert on_duty_at(plan, [cover], ny(2026, 1, 6, 8, 30)).escalation == (ANA, BEN)
    assert on_duty_at(plan, [cover], ny(2026, 1, 6, 9, 30)).escalation == (BEN, ANA)


def test_an_override_is_half_open_so_its_end_instant_goes_back_to_the_rotation():
    plan = rotation("daily")
    cover = override(1, DAN, ny(2026, 1, 6, 12), ny(2026, 1, 6, 14))

    assert on_duty_at(plan, [cover], ny(2026, 1, 6, 12)).on_duty == DAN
    assert on_duty_at(plan, [cover], ny(2026, 1, 6, 14) - US).on_duty == DAN
    ended = on_duty_at(plan, [cover], ny(2026, 1, 6, 14))
    assert (ended.on_duty, ended.override) == (BEN, False)


def test_overlapping_overrides_the_latest_start_wins_then_the_earlier_one_resumes():
    plan = rotation("daily")
    # The later start wins even though its id is lower.
    long_cover = override(9, CAT, ny(2026, 1, 6, 0), ny(2026, 1, 8, 0))
    short_cover = override(2, DAN, ny(2026, 1, 6, 12), ny(2026, 1, 6, 18))

    inside = on_duty_at(plan, [short_cover, long_cover], ny(2026, 1, 6, 13))
    after = on_duty_at(plan, [short_cover, long_cover], ny(2026, 1, 6, 19))

    assert inside.on_duty == DAN
    assert (inside.shift_start, inside.shift_end) == (utc(2026, 1, 6, 17), utc(2026, 1, 6, 23))
    assert after.on_duty == CAT
    # Cat's stretch starts again where Dan's ended, so that walking from each shift_end moves on.
    assert (after.shift_start, after.shift_end) == (utc(2026, 1, 6, 23), utc(2026, 1, 8, 5))
    before = on_duty_at(plan, [short_cover, long_cover], ny(2026, 1, 6, 9))
    assert before.on_duty == CAT and (before.shift_start, before.shift_end) == (utc(2026, 1, 6, 5), utc(2026, 1, 6, 17))


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_overrides_starting_together_are_won_by_the_higher_id_whatever_their_order(order):
    candidates = [
        override(7, DAN, ny(2026, 1, 6, 12), ny(2026, 1, 6, 14)),
        override(5, EVE, ny(2026, 1, 6, 12), ny(2026, 1, 6, 18)),
    ]

    duty = on_duty_at(rotation(), [candidates[i] for i in order], ny(2026, 1, 6, 13))

    assert duty.on_duty == DAN


def test_an_override_whose_contact_is_inactive_is_ignored():
    plan = rotation("daily")
    active_cover = override(1, CAT, ny(2026, 1, 6, 0), ny(2026, 1, 8, 0))
    inactive_cover = override(2, inactive(DAN), ny(2026, 1, 6, 12), ny(2026, 1, 6, 18))

    assert on_duty_at(plan, [active_cover, inactive_cover], ny(2026, 1, 6, 13)).on_duty == CAT
    only_inactive = on_duty_at(plan, [inactive_cover], ny(2026, 1, 6, 13))
    assert (only_inactive.on_duty, only_inactive.override) == (BEN, False)


def test_without_a_rotation_only_overrides_count():
    cover = override(1, DAN, ny(2026, 1, 6, 12), ny(2026, 1, 6, 14))

    assert on_duty_at(None, [cover], ny(2026, 1, 6, 13)) == Duty(
        DAN, (), utc(2026, 1, 6, 17), utc(2026, 1, 6, 19), True
    )
    assert on_duty_at(None, [cover], ny(2026, 1, 6, 15)) == Duty(None, (), None, None, False)
    assert on_duty_at(None, None, ny(2026, 1, 6, 15)) == Duty(None, (), None, None, False)


# --- Ownership and inactive members ---------------------------------------------


def test_an_inactive_members_shift_is_covered_by_the_next_active_one_and_other_turns_do_not_move():
    everyone = rotation("daily", members=(ANA, BEN, CAT, DAN))
    without_ben = rotation("daily", members=(ANA, inactive(BEN), CAT, DAN))
    days = [ny(2026, 1, 5 + k, 12) for k in range(8)]  # shifts 0..7

    with_all = [on_duty_at(everyone, [], day).on_duty for day in days]
    covered = [on_duty_at(without_ben, [], day).on_duty for day in days]

    assert with_all == [ANA, BEN, CAT, DAN, ANA, BEN, CAT, DAN]
    assert covered == [ANA, CAT, CAT, DAN, ANA, CAT, CAT, DAN]


def test_the_last_members_inactive_shift_is_covered_by_wrapping_around_to_the_first():
    plan = rotation("daily", members=(ANA, BEN, inactive(CAT)))

    assert on_duty_at(plan, [], ny(2026, 1, 7, 12)).on_duty == ANA


def test_with_every_member_inactive_nobody_is_on_duty_but_the_shift_bounds_remain():
    plan = rotation("daily", members=(inactive(ANA), inactive(BEN)), backups=2)

    duty = on_duty_at(plan, [], ny(2026, 1, 6, 12))

    assert duty == Duty(None, (), utc(2026, 1, 6, 14), utc(2026, 1, 7, 14), False)


def test_with_no_members_nobody_is_on_duty_and_there_are_no_shift_bounds():
    duty = on_duty_at(rotation(members=()), [], ny(2026, 1, 6, 12))

    assert duty == Duty(None, (), None, None, False)


def test_an_override_with_an_all_inactive_rotation_has_no_escalation():
    plan = rotation("daily", members=(inactive(ANA), inactive(BEN)), backups=2)
    cover = override(1, DAN, ny(2026, 1, 6, 0), ny(2026, 1, 7, 0))

    duty = on_duty_at(plan, [cover], ny(2026, 1, 6, 12))

    assert (duty.on_duty, duty.escalation) == (DAN, ())


# --- Escalation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "backups, escalation",
    [
        (0, ()),
        (1, (CAT,)),
        (2, (CAT, DAN)),
        (3, (CAT, DAN, ANA)),
        (10, (CAT, DAN, ANA)),
    ],
)
def test_escalation_lists_the_next_backups_members_in_rotation_order_without_the_person_on_duty(
    backups, escalation
):
    plan = rotation("daily", members=(ANA, BEN, CAT, DAN), backups=backups)

    duty = on_duty_at(plan, [], ny(2026, 1, 6, 12))  # shift 1: Ben

    assert duty.on_duty == BEN
    assert duty.escalation == escalation


def test_escalation_skips_inactive_members_and_starts_after_the_owner_of_a_covered_shift():
    plan = rotation("daily", members=(ANA, inactive(BEN), CAT, DAN), backups=2)

    duty = on_duty_at(plan, [], ny(2026, 1, 6, 12))  # Ben's shift, covered by Cat

    assert duty.on_duty == CAT
    assert duty.escalation == (DAN, ANA)


def test_escalation_lists_a_contact_appearing_twice_in_the_rotation_only_once():
    plan = rotation("daily", members=(ANA, BEN, ANA, CAT), backups=5)

    duty = on_duty_at(plan, [], ny(2026, 1, 6, 12))

    assert duty.on_duty == BEN
    assert duty.escalation == (ANA, CAT)


# --- Far future, far past, cost -------------------------------------------------


def test_a_daily_lookup_ten_years_later_gives_the_right_person():
    plan = rotation("daily", handoff=datetime(2026, 1, 5, 9, 0), members=(ANA, BEN, CAT))

    # 2026-01-05 -> 2036-01-08 is 3655 days (3650 + leap days 2028, 2032 + 3),
    # so 12:00 that day is shift 3655, and 3655 mod 3 = 1: Ben.
    k, start, end = shift_bounds(plan, ny(2036, 1, 8, 12))
    duty = on_duty_at(plan, [], ny(2036, 1, 8, 12))

    assert k == 3655
    assert (start, end) == (utc(2036, 1, 8, 14), utc(2036, 1, 9, 14))
    assert duty.on_duty == BEN
    assert duty.escalation == (CAT,)


def test_a_weekly_lookup_ten_years_later_gives_the_right_person():
    plan = rotation("weekly", members=(ANA, BEN, CAT, DAN, EVE))

    # Mon 2026-01-05 -> Mon 2036-01-07 is 3654 days = 522 weeks; 522 mod 5 = 2.
    k, start, _ = shift_bounds(plan, ny(2036, 1, 7, 12))

    assert k == 522
    assert start == utc(2036, 1, 7, 14)
    assert on_duty_at(plan, [], ny(2036, 1, 7, 12)).on_duty == CAT


@pytest.fixture
def count_local_to_utc(monkeypatch):
    """Count how many wall times the module converts, via a wrapper around local_to_utc."""
    calls = []
    real = schedule.local_to_utc

    def counting(wall, tz):
        calls.append(wall)
        return real(wall, tz)

    monkeypatch.setattr(schedule, "local_to_utc", counting)
    return calls


@pytest.mark.parametrize("shift", ["daily", "weekly", {"hours": 12}, {"hours": 1}, {"hours": 5}])
def test_a_lookup_ten_or_a_hundred_years_out_converts_as_few_wall_times_as_on_day_one(
    shift, count_local_to_utc
):
    plan = rotation(shift)
    cost = {}
    for label, at in [
        ("day one", ny(2026, 1, 6, 12)),
        ("ten years", ny(2036, 1, 6, 12)),
        ("a hundred years", ny(2126, 1, 6, 12)),
    ]:
        count_local_to_utc.clear()
        on_duty_at(plan, [], at)
        cost[label] = len(count_local_to_utc)

    assert cost["day one"] == cost["ten years"] == cost["a hundred years"]
    assert 1 <= cost["day one"] <= 3


def test_a_lookup_on_a_dst_change_ten_years_out_still_converts_only_a_few_wall_times(
    count_local_to_utc,
):
    plan = rotation({"hours": 1})

    # 2036-11-02 is fall-back day: 01:30 EST is the second 01:30.
    on_duty_at(plan, [], utc(2036, 11, 2, 6, 30))

    assert len(count_local_to_utc) <= 4


@pytest.mark.parametrize(
    "at, k, person",
    [
        (ny(2026, 1, 5, 9) - US, -1, CAT),
        # 2026-01-03 12:00 is 1 day 21 hours before the handoff: floor gives -2; -2 mod 3 = 1.
        (ny(2026, 1, 3, 12), -2, BEN),
        # 2025-01-06 12:00 is 364 days 21 h before: shift -364; -364 mod 3 = 2.
        (ny(2025, 1, 6, 12), -364, CAT),
    ],
)
def test_instants_before_the_first_handoff_belong_to_earlier_shifts(at, k, person):
    plan = rotation("daily")

    assert shift_bounds(plan, at)[0] == k
    assert on_duty_at(plan, [], at).on_duty == person


def test_elapsed_hour_shifts_before_the_first_handoff_use_floor_division():
    plan = rotation({"hours": 5}, handoff=datetime(2026, 1, 5, 9, 0))  # 14:00 UTC

    assert shift_bounds(plan, utc(2026, 1, 5, 13, 59)) == (-1, utc(2026, 1, 5, 9), utc(2026, 1, 5, 14))
    assert shift_bounds(plan, utc(2026, 1, 5, 4)) == (-2, utc(2026, 1, 5, 4), utc(2026, 1, 5, 9))


# --- Zones with unusual changes ---------------------------------------------------


@pytest.mark.parametrize(
    "zone_name, shift, handoff, window_start",
    [
        # Samoa skipped Friday 2011-12-30 entirely (UTC-10 -> UTC+14).
        ("Pacific/Apia", {"hours": 12}, datetime(2011, 12, 1, 9, 0), utc(2011, 12, 28)),
        ("Pacific/Apia", {"hours": 1}, datetime(2011, 12, 1, 0, 30), utc(2011, 12, 29, 12)),
        # Troll station jumps two hours (UTC+0 -> UTC+2) in spring.
        ("Antarctica/Troll", {"hours": 1}, datetime(2026, 1, 1, 0, 0), utc(2026, 3, 28, 20)),
        # Montevideo skipped 00:00-01:30 in 1974, so a 00:30 handoff (resolved
        # to 03:30 UTC) came after the 01:30 one (03:00 UTC).
        ("America/Montevideo", {"hours": 1}, datetime(1974, 1, 1, 0, 30), utc(1974, 1, 12, 12)),
        # Yangon skipped 00:00-02:30 in 1942.
        ("Asia/Yangon", {"hours": 1}, datetime(1942, 4, 1, 0, 0), utc(1942, 4, 29, 12)),
        ("America/New_York", {"hours": 1}, datetime(2026, 1, 1, 0, 45), utc(2026, 10, 31, 12)),
        ("America/New_York", {"hours": 1}, datetime(2026, 1, 1, 0, 45), utc(2026, 3, 7, 12)),
        # Lord Howe Island moves its clocks by half an hour.
        ("Australia/Lord_Howe", {"hours": 1}, datetime(2026, 1, 1, 0, 0), utc(2026, 4, 4, 10)),
        ("Australia/Lord_Howe", {"hours": 1}, datetime(2026, 1, 1, 0, 0), utc(2026, 10, 3, 10)),
    ],
)
def test_shift_bounds_stay_consistent_around_unusual_clock_changes(
    zone_name, shift, handoff, window_start
):
    plan = rotation(shift, handoff=handoff, timezone_name=zone_name)
    instants = [window_start + timedelta(minutes=10 * i) for i in range(6 * 72)]

    for at in instants:
        k, start, end = shift_bounds(plan, at)
        assert start <= at < end
        # Every instant of the shift reports the same shift.
        assert shift_bounds(plan, start) == (k, start, end)
        assert shift_bounds(plan, end - US) == (k, start, end)
        assert shift_bounds(plan, end)[0] > k


# --- Validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value, shift, wall_clock",
    [
        ("daily", Shift("daily"), True),
        ("weekly", Shift("weekly"), True),
        ({"hours": 1}, Shift("hours", 1), True),
        ({"hours": 12}, Shift("hours", 12), True),
        ({"hours": 24}, Shift("hours", 24), True),
        ({"hours": 5}, Shift("hours", 5), False),
        ({"hours": 48}, Shift("hours", 48), False),
        ({"hours": 672}, Shift("hours", 672), False),
    ],
)
def test_shift_from_json_accepts_daily_weekly_and_whole_hours_and_round_trips(value, shift, wall_clock):
    parsed = Shift.from_json(value)

    assert parsed == shift
    assert parsed.to_json() == value
    assert parsed.follows_wall_clock is wall_clock


@pytest.mark.parametrize(
    "value",
    [
        "Daily",
        "monthly",
        "",
        None,
        24,
        ["daily"],
        {},
        {"hours": 0},
        {"hours": -6},
        {"hours": 673},
        {"hours": True},
        {"hours": "8"},
        {"hours": 8.0},
        {"hours": None},
        {"hours": 8, "minutes": 30},
        {"days": 1},
    ],
)
def test_shift_from_json_rejects_anything_else_with_invalid_rotation(value):
    with pytest.raises(InvalidRotation, match="shift"):
        Shift.from_json(value)


@pytest.mark.parametrize(
    "kind, hours", [("monthly", None), ("daily", 24), ("hours", None), ("hours", 0)]
)
def test_a_shift_built_directly_is_validated_too(kind, hours):
    with pytest.raises(InvalidRotation):
        Shift(kind, hours)


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "", "America", "../etc/passwd", "localtime", None]
)
def test_zone_rejects_unknown_names_with_a_clear_message(name):
    with pytest.raises(InvalidRotation, match=r"unknown time zone"):
        zone(name)


def test_zone_returns_the_named_zone():
    assert zone("America/New_York") == NEW_YORK
    assert zone("UTC").key == "UTC"


def test_zone_message_quotes_the_bad_name():
    with pytest.raises(InvalidRotation) as raised:
        zone("Mars/Olympus_Mons")

    assert str(raised.value) == "unknown time zone 'Mars/Olympus_Mons'"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"backups": -1}, "backups"),
        ({"backups": True}, "backups"),
        ({"backups": 1.5}, "backups"),
        ({"timezone": "Nowhere/Special"}, "unknown time zone"),
        ({"handoff": ny(2026, 1, 5, 9)}, "handoff"),
        ({"shift": "daily"}, "shift"),
        ({"members": ("Ana",)}, "members"),
    ],
)
def test_an_invalid_rotation_plan_is_rejected_when_built(changes, message):
    fields = dict(
        timezone="America/New_York",
        handoff=datetime(2026, 1, 5, 9),
        shift=Shift("daily"),
        members=(ANA,),
        backups=1,
    )
    fields.update(changes)

    with pytest.raises(InvalidRotation, match=message):
        RotationPlan(**fields)


def test_a_rotation_plan_given_a_list_of_members_stores_a_tuple():
    plan = RotationPlan("UTC", datetime(2026, 1, 1), Shift("daily"), [ANA, BEN])

    assert plan.members == (ANA, BEN)


def test_naive_instants_are_rejected_everywhere():
    plan = rotation()
    naive = datetime(2026, 1, 6, 12)

    with pytest.raises(InvalidRotation, match="at"):
        shift_bounds(plan, naive)
    with pytest.raises(InvalidRotation, match="at"):
        on_duty_at(plan, [], naive)
    with pytest.raises(InvalidRotation, match="start"):
        shifts_between(plan, [], naive, ny(2026, 1, 7))
    with pytest.raises(InvalidRotation, match="override"):
        override(1, DAN, naive, ny(2026, 1, 7))


def test_instants_in_any_zone_give_answers_in_utc():
    plan = rotation("daily")
    tokyo = datetime(2026, 1, 7, 2, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 2026-01-06 12:00 NY

    duty = on_duty_at(plan, [], tokyo)

    assert duty.on_duty == BEN
    assert duty.shift_start == utc(2026, 1, 6, 14)
    assert duty.shift_start.tzinfo is UTC and duty.shift_end.tzinfo is UTC


# --- Timeline -------------------------------------------------------------------


def test_an_override_inside_a_shift_splits_it_into_separate_spans():
    plan = rotation("daily")
    cover = override(1, DAN, ny(2026, 1, 6, 12), ny(2026, 1, 6, 14))

    spans = shifts_between(plan, [cover], ny(2026, 1, 6, 9), ny(2026, 1, 7, 9))

    assert spans == [
        ShiftSpan(utc(2026, 1, 6, 14), utc(2026, 1, 6, 17), BEN, False),
        ShiftSpan(utc(2026, 1, 6, 17), utc(2026, 1, 6, 19), DAN, True),
        ShiftSpan(utc(2026, 1, 6, 19), utc(2026, 1, 7, 14), BEN, False),
    ]


def test_the_timeline_is_clipped_to_the_window_and_keeps_each_shift_separate():
    plan = rotation("daily", members=(ANA,))

    spans = shifts_between(plan, [], ny(2026, 1, 6, 12), ny(2026, 1, 8, 12))

    assert spans == [
        ShiftSpan(utc(2026, 1, 6, 17), utc(2026, 1, 7, 14), ANA, False),
        ShiftSpan(utc(2026, 1, 7, 14), utc(2026, 1, 8, 14), ANA, False),
        ShiftSpan(utc(2026, 1, 8, 14), utc(2026, 1, 8, 17), ANA, False),
    ]


def test_an_override_spanning_a_handoff_is_one_span_in_the_timeline():
    plan = rotation("daily")
    cover = override(1, DAN, ny(2026, 1, 6, 8), ny(2026, 1, 6, 10))

    spans = shifts_between(plan, [cover], ny(2026, 1, 6, 7), ny(2026, 1, 6, 11))

    assert [(s.contact, s.override) for s in spans] == [(ANA, False), (DAN, True), (BEN, False)]
    assert spans[1].start == utc(2026, 1, 6, 13) and spans[1].end == utc(2026, 1, 6, 15)


def test_without_a_rotation_the_timeline_has_nobody_around_the_overrides():
    cover = override(1, DAN, ny(2026, 1, 6, 12), ny(2026, 1, 6, 14))

    spans = shifts_between(None, [cover], ny(2026, 1, 6), ny(2026, 1, 7))

    assert spans == [
        ShiftSpan(utc(2026, 1, 6, 5), utc(2026, 1, 6, 17), None, False),
        ShiftSpan(utc(2026, 1, 6, 17), utc(2026, 1, 6, 19), DAN, True),
        ShiftSpan(utc(2026, 1, 6, 19), utc(2026, 1, 7, 5), None, False),
    ]


def test_an_empty_window_has_no_spans_and_a_reversed_one_is_rejected():
    plan = rotation()

    assert shifts_between(plan, [], ny(2026, 1, 6), ny(2026, 1, 6)) == []
    with pytest.raises(InvalidRotation):
        shifts_between(plan, [], ny(2026, 1, 7), ny(2026, 1, 6))


def test_the_timeline_agrees_with_on_duty_at_over_30_days_with_a_dst_change_and_overrides():
    plan = rotation(
        {"hours": 12},
        handoff=datetime(2026, 1, 5, 8),
        members=(ANA, inactive(BEN), CAT, DAN),
        backups=2,
    )
    overrides = [
        # Spans the spring-forward night shift and its 08:00 handoff.
        override(1, EVE, ny(2026, 3, 7, 18), ny(2026, 3, 8, 10)),
        # Nested inside the first: the later start wins, then Eve resumes;
        # an override for an inactive contact changes nothing.
        override(2, inactive(BEN), ny(2026, 3, 7, 22), ny(2026, 3, 7, 23)),
        override(3, ANA, ny(2026, 3, 8, 0), ny(2026, 3, 8, 1)),
        # Inside a single shift: splits it in three.
        override(4, DAN, ny(2026, 3, 15, 10), ny(2026, 3, 15, 11)),
        # Starts before the window.
        override(5, CAT, ny(2026, 2, 19), ny(2026, 2, 20, 3)),
    ]
    window_start, window_end = ny(2026, 2, 20, 1, 15), ny(2026, 3, 22, 1, 15)

    spans = shifts_between(plan, overrides, window_start, window_end)

    assert spans[0].start == window_start and spans[-1].end == window_end
    for span, following in zip(spans, spans[1:]):
        assert span.end == following.start
    for span in spans:
        assert span.start < span.end
        assert span.start.tzinfo is UTC and span.end.tzinfo is UTC
        for instant in (span.start, span.end - US):
            duty = on_duty_at(plan, overrides, instant)
            assert (duty.on_duty, duty.override) == (span.contact, span.override)
            assert duty.shift_start <= span.start and span.end <= duty.shift_end
    # Around the spring-forward night: Cat's day shift is cut at 18:00, the
    # 11-hour night shift vanishes under Eve (interrupted by Ana; the inactive
    # Ben's override is ignored), and Ana's day shift resumes at 10:00 EDT.
    dst_night = [s for s in spans if utc(2026, 3, 7, 13) <= s.start < utc(2026, 3, 9)]
    assert dst_night == [
        ShiftSpan(utc(2026, 3, 7, 13), utc(2026, 3, 7, 23), CAT, False),
        ShiftSpan(utc(2026, 3, 7, 23), utc(2026, 3, 8, 5), EVE, True),
        ShiftSpan(utc(2026, 3, 8, 5), utc(2026, 3, 8, 6), ANA, True),
        ShiftSpan(utc(2026, 3, 8, 6), utc(2026, 3, 8, 14), EVE, True),
        ShiftSpan(utc(2026, 3, 8, 14), utc(2026, 3, 9, 0), ANA, False),
    ]
    # 61 shifts touch the window (Feb 19 20:00 to Mar 21 20:00); the night
    # shift is hidden entirely and the one cut by override 4 comes in two parts.
    assert [s.contact for s in spans if s.override] == [CAT, EVE, ANA, EVE, DAN]
    assert len([s for s in spans if not s.override]) == 61 - 1 + 1


# --- Process time zone independence -------------------------------------------


@pytest.fixture
def process_in_kolkata(monkeypatch):
    """Run the test with the process's local time zone set to Asia/Kolkata."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _sample_answers():
    plan = rotation({"hours": 12}, handoff=datetime(2026, 1, 5, 8), members=(ANA, BEN, CAT), backups=2)
    cover = override(1, DAN, ny(2026, 3, 8, 0), ny(2026, 3, 8, 2))
    instants = [ny(2026, 3, 8, 1), ny(2026, 3, 8, 9), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)]
    return (
        [on_duty_at(plan, [cover], at) for at in instants],
        shifts_between(plan, [cover], ny(2026, 3, 6), ny(2026, 3, 10)),
        local_to_utc(datetime(2026, 3, 8, 2, 30), NEW_YORK),
    )


def test_answers_do_not_depend_on_the_process_local_time_zone(request):
    expected = _sample_answers()

    request.getfixturevalue("process_in_kolkata")
    assert time.timezone == -(5 * 3600 + 30 * 60)  # the switch took effect
    actual = _sample_answers()

    assert actual == expected
