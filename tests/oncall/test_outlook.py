"""One answer to "who is on duty, since and until when, who is next" (`duty_outlook`), whatever
causes the change of person, and the panel, the `ONCALL` text and `GET /api/oncall` all giving it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from ivr.calls import routing_targets
from oncall.service import duty_at, duty_outlook
from phonesim import FlaskClientTransport, send_sms
from staff.tokens import issue_api_token
from tests.support import (AUTH_TOKEN, PRIYA, PUBLIC_BASE, SUPPORT_NUMBER, AdminActions, FakeClock, Team,
                           add_contact, add_override, add_rotation, text_of)

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
# The team's weeks start Mondays 09:00 New York (14:00 UTC): Priya from 23 Nov, Tom 30 Nov, Ana 7 Dec.
TOM_WEEK = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
ANA_WEEK = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
PRIYA_AGAIN = datetime(2026, 12, 14, 14, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # the clock fixture: Wednesday 22:00 in New York
ANA_FROM, ANA_UNTIL = datetime(2026, 11, 26, 17, 0, tzinfo=UTC), datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
TOM_UNTIL = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # Thursday 09:00 New York


@pytest.fixture
def overlapping(session: Session, team: Team) -> Team:
    """Tom covers from now to next Thursday 09:00; Ana covers today 12:00 to 18:00 in New York.

    Ana's override starts later, so it wins while both are in force.
    """
    add_override(session, team.tom, NOW, TOM_UNTIL)
    add_override(session, team.ana, ANA_FROM, ANA_UNTIL)
    session.commit()
    return team


# (instant, on duty, override, since, until, next, next until)
FIVE_INSTANTS = [
    (NOW, "Tom Berg", True, NOW, ANA_FROM, "Ana Souza", ANA_UNTIL),
    (ANA_FROM, "Ana Souza", True, ANA_FROM, ANA_UNTIL, "Tom Berg", ANA_WEEK),
    # Tom's override runs into his own week: one stretch, until Ana's week.
    (ANA_UNTIL, "Tom Berg", True, ANA_UNTIL, ANA_WEEK, "Ana Souza", PRIYA_AGAIN),
    (TOM_UNTIL - timedelta(seconds=1), "Tom Berg", True, ANA_UNTIL, ANA_WEEK, "Ana Souza", PRIYA_AGAIN),
    (ANA_WEEK, "Ana Souza", False, ANA_WEEK, PRIYA_AGAIN, "Priya Raman", PRIYA_AGAIN + timedelta(days=7)),
]


@pytest.mark.parametrize(("at", "name", "override", "since", "until", "then", "then_until"), FIVE_INSTANTS,
                         ids=[f"{row[0]:%d %b %H:%M:%S}Z" for row in FIVE_INSTANTS])
def test_until_is_the_next_change_of_person_and_next_a_different_person(
    session: Session, overlapping: Team, at, name, override, since, until, then, then_until
) -> None:
    outlook = duty_outlook(session, at)
    duty = outlook.duty
    assert (duty.on_duty.name, duty.override, duty.shift_start, duty.shift_end) == (name, override, since, until)
    assert (outlook.next.name, outlook.next_until) == (then, then_until)


@pytest.mark.parametrize("at", [row[0] for row in FIVE_INSTANTS])
def test_the_outlook_agrees_with_the_router_on_both_sides_of_each_change(session: Session, overlapping: Team,
                                                                         at: datetime) -> None:
    outlook = duty_outlook(session, at)

    def rung_first(instant: datetime) -> str:
        return routing_targets(duty_at(session, instant), None)[0]["name"]

    assert rung_first(at) == outlook.duty.on_duty.name
    assert rung_first(outlook.duty.shift_end - timedelta(seconds=1)) == outlook.duty.on_duty.name
    assert rung_first(outlook.duty.shift_end) == outlook.next.name
    assert rung_first(outlook.duty.shift_start) == outlook.duty.on_duty.name
    assert rung_first(outlook.duty.shift_start - timedelta(seconds=1)) != outlook.duty.on_duty.name


def test_a_deactivated_member_is_covered_by_the_next_and_their_weeks_join(session: Session, team: Team) -> None:
    team.tom.active = False
    session.commit()
    outlook = duty_outlook(session, NOW)
    assert (outlook.duty.on_duty.name, outlook.duty.shift_end) == ("Priya Raman", TOM_WEEK)
    assert (outlook.next.name, outlook.next_until) == ("Ana Souza", PRIYA_AGAIN), "Ana covers Tom's week, then hers"


def test_when_the_only_active_member_stays_on_there_is_no_next(session: Session, team: Team) -> None:
    team.tom.active = team.ana.active = False
    session.commit()
    outlook = duty_outlook(session, NOW)
    assert outlook.duty.on_duty.name == "Priya Raman"
    assert (outlook.duty.shift_end, outlook.next) == (None, None), "not 'Priya next after Priya'"


def test_an_empty_stretch_ahead_is_nobody_not_a_person(session: Session, team: Team) -> None:
    add_rotation(session, [], effective_from=TOM_WEEK)
    session.commit()
    outlook = duty_outlook(session, NOW)
    assert (outlook.duty.on_duty.name, outlook.duty.shift_end, outlook.next) == ("Priya Raman", TOM_WEEK, None)


def test_a_daily_handoff_across_the_dst_change_is_the_next_change_of_person(session: Session) -> None:
    people = [add_contact(session, n, f"+1415555019{i}") for i, n in enumerate(["Priya", "Tom", "Ana"])]
    add_rotation(session, people, handoff="2026-10-01T08:00", shift_kind="daily")
    session.commit()
    saturday = datetime(2026, 10, 31, 20, 0, tzinfo=UTC)  # the shift from Saturday 08:00 EDT
    outlook = duty_outlook(session, saturday)
    assert outlook.duty.shift_start == datetime(2026, 10, 31, 12, 0, tzinfo=UTC), "08:00 EDT"
    assert outlook.duty.shift_end == datetime(2026, 11, 1, 13, 0, tzinfo=UTC), "08:00 EST: a 25-hour shift"
    assert outlook.next_until == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)


# ----------------------------------------------------------------------------- the panel, the text and the API


@pytest.mark.parametrize(("at", "name", "override", "since", "until", "then", "then_until"), FIVE_INSTANTS,
                         ids=[f"{row[0]:%d %b %H:%M:%S}Z" for row in FIVE_INSTANTS])
def test_the_panel_the_oncall_text_and_the_api_give_the_one_answer(
    client, admin: AdminActions, session: Session, clock: FakeClock, overlapping: Team,
    at, name, override, since, until, then, then_until
) -> None:
    token = issue_api_token(session, "outlook", clock.now)
    clock.set(at)
    api = client.get("/api/oncall", headers={"Authorization": f"Bearer {token}"}).json
    assert (api["on_duty"]["name"], api["shift_end"], api["next"]["name"]) == (name, until.isoformat(), then)

    _, replies = send_sms(sms_url=f"{PUBLIC_BASE}/sms", auth_token=AUTH_TOKEN, transport=FlaskClientTransport(client),
                          from_number=PRIYA, to_number=SUPPORT_NUMBER, body="ONCALL")
    local_until = until.astimezone(NEW_YORK)
    spoken_until = f"{local_until:%a %d %b} {local_until.strftime('%I:%M %p').lstrip('0')}"
    assert replies[0].startswith(f"On duty: {name} (") and f"until {spoken_until}" in replies[0]
    assert replies[0].endswith(f"Next: {then}.")

    panel = text_of(admin.get("/admin/").text)
    assert f"On duty {name}" in panel and f"Next {then}" in panel
    assert f"On duty until {local_until:%a %d %b, %H:%M}" in panel


def test_the_overrides_page_shows_overlapping_overrides_and_which_one_wins(admin: AdminActions,
                                                                           overlapping: Team) -> None:
    page = text_of(admin.get("/admin/overrides").text)
    assert ("overlaps Ana Souza's override from Thu 26 Nov, 12:00 EST until Thu 26 Nov, 18:00 EST — "
            "Ana Souza's wins there (it starts later).") in page
    assert ("overlaps Tom Berg's override from Thu 26 Nov, 12:00 EST until Thu 26 Nov, 18:00 EST — "
            "this one wins there (it starts later).") in page
