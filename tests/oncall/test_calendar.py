"""The iCal feeds: they parse, carry the time zone, and list the same shifts as /api/oncall."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import icalendar
import pytest
from sqlalchemy.orm import Session

from staff.tokens import issue_api_token
from tests.support import add_contact, add_override, add_rotation

UTC = timezone.utc


@pytest.fixture
def daily_team(session: Session, clock):
    """A daily 08:00 New York rotation of three, an override, and a clock before the November DST change."""
    clock.set(datetime(2026, 10, 20, 15, 0, tzinfo=UTC))
    people = [add_contact(session, n, p) for n, p in
              [("Priya Raman", "+14155550101"), ("Tom Berg", "+14155550102"), ("Ana Souza", "+14155550103")]]
    add_rotation(session, people, handoff="2026-10-01T08:00", shift_kind="daily")
    # Ana covers across the 2026-11-01 change, from Saturday noon to Monday 10:00 New York.
    add_override(session, people[2], datetime(2026, 10, 31, 16, 0, tzinfo=UTC), datetime(2026, 11, 2, 15, 0, tzinfo=UTC))
    session.commit()
    return people


def feed(client, url: str) -> icalendar.Calendar:
    path = url.split("localhost", 1)[1]
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return icalendar.Calendar.from_ical(response.data)


def events(calendar: icalendar.Calendar) -> list[tuple[datetime, datetime, str]]:
    return sorted(
        (e.decoded("dtstart").astimezone(UTC), e.decoded("dtend").astimezone(UTC), str(e["summary"]))
        for e in calendar.walk("VEVENT")
    )


def test_the_rotation_feed_lists_the_same_shifts_as_the_api_for_30_days_across_dst(client, session, clock, daily_team) -> None:
    token = issue_api_token(session, "tests", clock.now)
    auth = {"Authorization": f"Bearer {token}"}
    calendar = feed(client, client.get("/api/rotation", headers=auth).json["calendar_url"])
    listed = [e for e in events(calendar) if e[1] > clock.now and e[0] < clock.now + timedelta(days=30)]
    assert len(listed) >= 30

    for (start, end, summary), following in zip(listed, listed[1:]):
        assert end == following[0], "shifts follow each other with no gap"
    def person(summary: str) -> str:
        return summary.removeprefix("On call: ").removesuffix(" (override)")

    for i, (start, end, summary) in enumerate(listed):
        for at in (max(start, clock.now), end - timedelta(seconds=1)):
            duty = client.get(f"/api/oncall?at={at.isoformat().replace('+00:00', 'Z')}", headers=auth).json
            assert summary == f"On call: {duty['on_duty']['name']}" + (" (override)" if duty["override"] else "")
            # The API's bounds are the person's whole stretch: this event, and its neighbours of the same person.
            assert duty["shift_start"] <= start.isoformat() and end.isoformat() <= duty["shift_end"]
            if 0 < i and person(listed[i - 1][2]) != person(summary):
                assert duty["shift_start"] == start.isoformat()
            if i + 1 < len(listed) and person(listed[i + 1][2]) != person(summary):
                assert duty["shift_end"] == end.isoformat()

    # Handoffs stay at 08:00 New York on both sides of the change (EDT 12:00 UTC, EST 13:00 UTC).
    starts = {s for s, _, summary in listed if "override" not in summary}
    assert datetime(2026, 10, 30, 12, 0, tzinfo=UTC) in starts
    assert datetime(2026, 11, 3, 13, 0, tzinfo=UTC) in starts


def test_the_feed_carries_the_rotation_time_zone(client, session, clock, daily_team) -> None:
    token = issue_api_token(session, "tests", clock.now)
    calendar = feed(client, client.get("/api/rotation", headers={"Authorization": f"Bearer {token}"}).json["calendar_url"])
    zones = [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")]
    assert zones == ["America/New_York"]
    first = next(iter(calendar.walk("VEVENT")))
    assert first["dtstart"].params["TZID"] == "America/New_York"


def test_a_contacts_feed_lists_only_their_shifts(client, session, clock, daily_team) -> None:
    token = issue_api_token(session, "tests", clock.now)
    ana = client.get(f"/api/contacts/{daily_team[2].id}", headers={"Authorization": f"Bearer {token}"}).json
    listed = events(feed(client, ana["calendar_url"]))
    assert listed and all("Ana Souza" in summary for _, _, summary in listed)
    assert any("(override)" in summary for _, _, summary in listed)


@pytest.mark.parametrize("secret", ["nope", "x" * 500, "../etc/passwd"])
def test_an_unknown_secret_finds_no_feed(client, session, secret: str) -> None:
    assert client.get(f"/oncall/{secret}.ics").status_code == 404


def _urls(client, session, clock) -> tuple[str, dict[str, str]]:
    token = issue_api_token(session, "tests", clock.now)
    headers = {"Authorization": f"Bearer {token}"}
    rotation = client.get("/api/rotation", headers=headers).json["calendar_url"]
    contacts = {c["name"]: c["calendar_url"] for c in client.get("/api/contacts", headers=headers).json["items"]}
    return rotation, contacts


def test_the_shared_feed_names_engineers_without_their_phone_numbers(client, session, clock, daily_team) -> None:
    rotation, contacts = _urls(client, session, clock)
    shared = client.get(rotation.split("localhost", 1)[1]).data.decode()
    assert "+1415555" not in shared, "the rotation's feed is shared: no phone numbers in it"
    own = client.get(contacts["Ana Souza"].split("localhost", 1)[1]).data.decode()
    assert "+14155550103" in own and "+14155550101" not in own, "a contact's own feed has only their number"


def test_a_deactivated_contacts_feed_stops_answering(client, session, clock, daily_team) -> None:
    _, contacts = _urls(client, session, clock)
    daily_team[1].active = False
    session.commit()
    assert client.get(contacts["Tom Berg"].split("localhost", 1)[1]).status_code == 404
    assert client.get(contacts["Priya Raman"].split("localhost", 1)[1]).status_code == 200


def test_a_name_saved_with_a_line_break_still_gives_a_feed_and_new_ones_are_refused(client, session, clock,
                                                                                     daily_team) -> None:
    daily_team[0].name = "Priya\nRaman"  # stored before names were checked for line breaks
    session.commit()
    _, contacts = _urls(client, session, clock)
    calendar = feed(client, contacts["Priya\nRaman"])
    assert str(calendar["x-wr-calname"]) == "Support on-call: Priya Raman"
    token = issue_api_token(session, "more tests", clock.now)
    refused = client.post("/api/contacts", json={"name": "Tom\r\nBerg", "phone": "+14155550109"},
                          headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422 and "one line" in refused.json["error"]


def test_an_admin_gives_a_leaked_feed_a_new_link_and_the_old_one_stops(client, admin_user, session, clock,
                                                                       daily_team) -> None:
    from tests.support import AdminActions

    _, before = _urls(client, session, clock)
    old = before["Tom Berg"].split("localhost", 1)[1]
    actions = AdminActions(client)
    actions.login()
    page = client.get(f"/admin/contacts/{daily_team[1].id}")
    assert old in page.text, "the contact page shows their calendar link"
    moved = actions.post(f"/admin/contacts/{daily_team[1].id}/feed", page=f"/admin/contacts/{daily_team[1].id}")
    assert moved.status_code == 302
    assert client.get(old).status_code == 404, "the old link no longer opens the feed"
    new = client.get(f"/admin/contacts/{daily_team[1].id}").text
    assert old not in new and "/oncall/" in new
    assert client.get(before["Ana Souza"].split("localhost", 1)[1]).status_code == 200, "other feeds keep theirs"


def test_the_cli_gives_the_rotation_feed_a_new_link(app, client, session, clock, daily_team) -> None:
    rotation, _ = _urls(client, session, clock)
    result = app.test_cli_runner().invoke(args=["rotate-feed-secret"])
    assert result.exit_code == 0
    new_path = result.output.strip().splitlines()[-1]
    assert new_path.startswith("/oncall/") and new_path.endswith(".ics")
    assert client.get(rotation.split("localhost", 1)[1]).status_code == 404
    assert client.get(new_path).status_code == 200
    missing = app.test_cli_runner().invoke(args=["rotate-feed-secret", "--contact", "999999"])
    assert missing.exit_code != 0 and "no contact 999999" in missing.output


def test_the_feed_begins_and_ends_with_whole_shifts(client, session, clock, team) -> None:
    token = issue_api_token(session, "tests", clock.now)
    calendar = feed(client, client.get("/api/rotation", headers={"Authorization": f"Bearer {token}"}).json["calendar_url"])
    listed = events(calendar)
    # The team's weeks hand over on Mondays at 09:00 New York (14:00 UTC).
    for instant in (listed[0][0], listed[-1][1]):
        assert (instant.weekday(), instant.hour, instant.minute) == (0, 14, 0), instant
