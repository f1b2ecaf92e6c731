"""Who is on duty, answered from the database: rotation versions, overrides, inactive contacts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from ivr.calls import routing_targets
from oncall.service import duty_at
from tests.conftest import ANA, PRIYA, TOM, Team, add_contact, add_override, add_rotation

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
