"""Who is on duty, answered from the database: rotation versions, overrides, inactive contacts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from ivr.calls import routing_targets
from oncall.service import duty_at, timeline
from tests.support import ANA, PRIYA, TOM, Team, add_contact, add_override, add_rotation

UTC = timezone.utc
# Monday 2026-11-23 09:00 New York (EST) is 14:00 UTC: Priya's week starts.
WEEK_START = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def test_the_weekly_rotation_from_the_database(session: Session, team: Team) -> None:
    duty = duty_at(session, WEEK_START + timedelta(days=3))
    assert duty.on_duty.name == "Priya Raman"
    assert [m.name for m in duty.escalation] == ["Tom Berg"]
    assert duty.shift_start == WEEK_START and duty.shift_end == WEEK_START + timedelta(days=7)
    assert duty_at(session, WEEK_START + timedelta(days=7)).on_duty.name == "Tom Berg"


def test_a_saved_rotation_change_applies_from_its_instant_and_never_rewrites_the_past(session: Session, team: Team) -> None:
    saved_at = WEEK_START + timedelta(days=2)
    add_rotation(session, [team.ana, team.tom], effective_from=saved_at, backups=1)
    session.commit()
    assert duty_at(session, saved_at - timedelta(seconds=1)).on_duty.name == "Priya Raman"
    assert duty_at(session, saved_at).on_duty.name == "Ana Souza"
    # Last week (Ana's turn in the old order) is still answered by the version in force then.
    assert duty_at(session, WEEK_START - timedelta(hours=1)).on_duty.name == "Ana Souza"
    assert duty_at(session, WEEK_START - timedelta(days=8)).on_duty.name == "Tom Berg"


def test_an_override_from_the_database_wins_and_the_rotation_person_becomes_first_backup(session: Session, team: Team) -> None:
    start, end = WEEK_START + timedelta(hours=1), WEEK_START + timedelta(days=2)
    add_override(session, team.ana, start, end)
    session.commit()
    duty = duty_at(session, start)
    assert duty.override and duty.on_duty.name == "Ana Souza"
    assert [m.name for m in duty.escalation] == ["Priya Raman"]
    assert (duty.shift_start, duty.shift_end) == (start, end)
    assert not duty_at(session, end).override


def test_an_inactive_member_is_skipped(session: Session, team: Team) -> None:
    team.priya.active = False
    session.commit()
    duty = duty_at(session, WEEK_START + timedelta(days=1))
    assert duty.on_duty.name == "Tom Berg"
    assert [m.name for m in duty.escalation] == ["Ana Souza"]


def test_no_rotation_means_nobody_on_duty(session: Session) -> None:
    duty = duty_at(session, WEEK_START)
    assert duty.on_duty is None and duty.escalation == ()


def test_routing_rings_on_duty_then_backups_then_the_fallback_once_each(session: Session, team: Team) -> None:
    team.rotation.backups = 5
    session.commit()
    targets = routing_targets(duty_at(session, WEEK_START), "+14155550999")
    assert [t["phone"] for t in targets] == [PRIYA, TOM, ANA, "+14155550999"]
    assert targets[-1]["contact_id"] is None


def test_a_contact_sharing_the_fallback_number_is_rung_once(session: Session) -> None:
    solo = add_contact(session, "Solo", "+14155550999")
    add_rotation(session, [solo])
    session.commit()
    targets = routing_targets(duty_at(session, WEEK_START), "+14155550999")
    assert [t["phone"] for t in targets] == ["+14155550999"]


def test_who_is_on_duty_agrees_with_the_timeline_hour_by_hour_around_overrides_and_a_saved_change(
    session: Session, team: Team
) -> None:
    """duty_at reads the overrides once for both uses (in force now, cutting the shift around now)."""
    gone = add_contact(session, "Gone Person", "+14155550199", active=False)
    add_override(session, team.tom, WEEK_START + timedelta(days=1), WEEK_START + timedelta(days=1, hours=6))
    add_override(session, team.ana, WEEK_START + timedelta(days=4), WEEK_START + timedelta(days=5))
    add_override(session, gone, WEEK_START + timedelta(days=2), WEEK_START + timedelta(days=3))  # ignored: inactive
    add_override(session, team.priya, WEEK_START + timedelta(days=9), WEEK_START + timedelta(days=9, hours=3))
    add_rotation(session, [team.ana, team.tom, team.priya], effective_from=WEEK_START + timedelta(days=10, hours=5))
    session.commit()
    window = (WEEK_START - timedelta(days=7), WEEK_START + timedelta(days=21))
    spans = timeline(session, *window)

    checked = 0
    for span in spans[1:-1]:  # the first and last are cut by the window itself
        at = span.start
        while at < span.end:
            duty = duty_at(session, at)
            assert (duty.on_duty.contact_id, duty.override) == (span.contact.contact_id, span.override), at
            assert (duty.shift_start, duty.shift_end) == (span.start, span.end), at
            at += timedelta(hours=7)
            checked += 1
    assert checked > 50 and any(s.override for s in spans)
