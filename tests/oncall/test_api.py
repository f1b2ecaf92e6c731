"""The REST API for contacts, the rotation, overrides and who is on call (contract §7)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from staff.tokens import issue_api_token
from oncall.models import CalendarFeed, Override, Rotation
from oncall.service import add_contact
from staff.models import AuditEntry
from tests.support import PRIYA, Team, counted_queries

UTC = timezone.utc


@pytest.fixture
def api(client, session: Session, clock):
    """A test client that sends a valid bearer token."""
    token = issue_api_token(session, "tests", clock.now)

    class Api:
        def __getattr__(self, method: str):
            def call(path: str, **kwargs):
                headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
                return getattr(client, method)(path, headers=headers, **kwargs)

            return call

    return Api()


# ----------------------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic dXNlcjpwYXNz"},
     {"Authorization": "Bearer " + "x" * 5000}],
)
@pytest.mark.parametrize("path", ["/api/contacts", "/api/rotation", "/api/overrides", "/api/oncall"])
def test_a_missing_or_wrong_token_gets_401_with_a_reason(client, session: Session, headers, path: str) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert "token" in response.json["error"].lower() or "authorization" in response.json["error"].lower()


def test_the_token_command_prints_a_working_token_as_its_last_line(app, client, session: Session) -> None:
    output = app.test_cli_runner().invoke(args=["create-api-token", "deploy-bot"]).output
    token = output.strip().splitlines()[-1]
    assert client.get("/api/contacts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    from staff.models import ApiToken

    stored = session.scalars(select(ApiToken)).one()
    assert stored.name == "deploy-bot" and stored.token_hash != token and token not in stored.token_hash


def test_create_admin_takes_the_password_from_admin_password(app, session: Session, clock) -> None:
    from staff.admins import check_login

    result = app.test_cli_runner().invoke(args=["create-admin", "maria"], env={"ADMIN_PASSWORD": "correct horse battery"})
    assert result.exit_code == 0, result.output
    assert check_login(session, "maria", "correct horse battery", clock.now) is not None
    assert check_login(session, "maria", "wrong password!", clock.now) is None


def test_create_admin_refuses_a_short_password(app) -> None:
    result = app.test_cli_runner().invoke(args=["create-admin", "maria"], env={"ADMIN_PASSWORD": "short"})
    assert result.exit_code != 0 and "at least 10 characters" in result.output


# ----------------------------------------------------------------------------- contacts


def test_contacts_can_be_added_listed_and_changed(api, session: Session) -> None:
    created = api.post("/api/contacts", json={"name": "Priya Raman", "phone": "(415) 555-0101", "email": "p@example.com"})
    assert created.status_code == 201
    body = created.json
    assert body["phone"] == "+14155550101" and body["active"] is True
    assert body["calendar_url"].startswith("http://localhost/oncall/") and body["calendar_url"].endswith(".ics")

    changed = api.patch(f"/api/contacts/{body['id']}", json={"active": False, "name": "Priya R."})
    assert changed.status_code == 200 and changed.json["active"] is False and changed.json["name"] == "Priya R."

    listed = api.get("/api/contacts?total=true").json
    assert listed["total"] == 1 and listed["items"][0]["name"] == "Priya R."
    changes = session.scalars(select(AuditEntry).where(AuditEntry.action.like("contact.%")).order_by(AuditEntry.id))
    assert [(e.action, e.actor) for e in changes] == [("contact.created", "api:tests"), ("contact.updated", "api:tests")]


def test_a_contact_has_a_calendar_feed_from_the_start_so_reading_contacts_writes_nothing(
        app, api, session: Session, clock) -> None:
    contact = add_contact(session, {"name": "Priya Raman", "phone": "+14155550101"}, region="US", now=clock.now,
                          actor="admin:ana")  # as the Contacts page adds one
    feed = session.scalars(select(CalendarFeed.secret).where(CalendarFeed.contact_id == contact.id)).one()
    api.get("/api/oncall")  # the token's first use is recorded (on purpose); from here on reads only read
    with counted_queries(app) as statements:
        listed = api.get("/api/contacts").json
    assert listed["items"][0]["calendar_url"].endswith(f"/{feed}.ics")
    writes = [s for s in statements if s.split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == [], "a GET wrote"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "X", "phone": "12"}, "not a valid phone number"),
        ({"name": "X", "phone": "+1 415 555"}, "not a valid phone number"),
        ({"name": "", "phone": "+14155550101"}, "name"),
        ({"name": "X", "phone": "+14155550101", "email": "nope"}, "email"),
        ({"name": "X", "phone": "+14155550101", "active": "yes"}, "active"),
        ({"name": "X", "phone": "+14155550101", "role": "boss"}, "unknown fields: role"),
        ({"name": "X" * 121, "phone": "+14155550101"}, "name"),
    ],
)
def test_a_bad_contact_gets_422_with_a_clear_message(api, body, message: str) -> None:
    response = api.post("/api/contacts", json=body)
    assert response.status_code == 422 and message in response.json["error"]


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", "", "\xff\xfe"])
def test_a_body_that_is_not_a_json_object_gets_400(api, data: str) -> None:
    response = api.post("/api/contacts", data=data, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["error"]


@pytest.mark.parametrize("raw", ["999", "abc", "1" * 5000, "1;DROP TABLE contacts"])
def test_an_unknown_contact_gets_404(api, raw: str) -> None:
    assert api.patch(f"/api/contacts/{raw}", json={"active": False}).status_code == 404
    assert api.get(f"/api/contacts/{raw}").status_code == 404


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "offset=-1", "limit=100000", "total=maybe"])
def test_bad_pagination_gets_400(api, query: str) -> None:
    assert api.get(f"/api/contacts?{query}").status_code == 400


def test_lists_are_paginated(api, team: Team) -> None:
    first = api.get("/api/contacts?limit=2&total=true").json
    second = api.get("/api/contacts?limit=2&offset=2&total=true").json
    assert first["total"] == second["total"] == 3
    assert (first["more"], second["more"]) == (True, False)
    assert api.get("/api/contacts?limit=2").json["total"] is None  # counted only on request
    assert [c["name"] for c in first["items"] + second["items"]] == ["Priya Raman", "Tom Berg", "Ana Souza"]


# ----------------------------------------------------------------------------- rotation


def test_the_rotation_reads_back_as_saved_with_its_calendar(api, team: Team) -> None:
    body = api.get("/api/rotation").json
    assert body["timezone"] == "America/New_York" and body["handoff"] == "2026-11-23T09:00"
    assert body["shift"] == "weekly" and body["backups"] == 1
    assert body["members"] == [team.priya.id, team.tom.id, team.ana.id]
    assert body["calendar_url"].endswith(".ics")


def test_putting_a_rotation_saves_a_new_version_from_now(api, team: Team, session: Session, clock) -> None:
    new = {"timezone": "Europe/London", "handoff": "2026-11-26T08:00", "shift": {"hours": 12},
           "members": [team.tom.id, team.ana.id], "backups": 1}
    response = api.put("/api/rotation", json=new)
    assert response.status_code == 200, response.json
    assert response.json["shift"] == {"hours": 12} and response.json["effective_from"] == clock.now.isoformat()
    versions = session.scalars(select(Rotation).order_by(Rotation.id)).all()
    assert len(versions) == 2, "the old version stays, so the past is unchanged"
    # Priya was on duty and was removed: nobody keeps her shift; the new order applies now.
    assert api.get("/api/oncall").json["on_duty"]["name"] in {"Tom Berg", "Ana Souza"}
    assert api.get("/api/oncall?at=2026-11-25T12:00:00Z").json["on_duty"]["name"] == "Priya Raman"


def test_the_person_on_duty_keeps_the_shift_when_the_order_changes_around_them(api, team: Team, session: Session) -> None:
    new = {"timezone": "America/New_York", "handoff": "2026-11-23T09:00", "shift": "weekly",
           "members": [team.ana.id, team.priya.id, team.tom.id], "backups": 1}
    assert api.put("/api/rotation", json=new).status_code == 200
    now = api.get("/api/oncall").json
    assert now["on_duty"]["name"] == "Priya Raman" and now["override"] is True
    handoff = api.get("/api/oncall?at=2026-11-30T14:00:00Z").json
    assert handoff["on_duty"]["name"] == "Priya Raman" and handoff["override"] is False, \
        "her kept shift ends at its own handoff, and week k=1 of the new order is hers too"
    assert (now["shift_end"], now["next"]["name"]) == ("2026-12-07T14:00:00+00:00", "Tom Berg"), \
        "so she is on duty without a change of person until Tom's week"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Mars/Base"}, "Mars/Base"),
        ({"handoff": "2026-11-23 09:00"}, "YYYY-MM-DDTHH:MM"),
        ({"handoff": "2026-02-30T09:00"}, "YYYY-MM-DDTHH:MM"),
        ({"shift": "monthly"}, "monthly"),
        ({"shift": {"hours": 0}}, ""),
        ({"members": [1, 1]}, "only once"),
        ({"members": [99999]}, "no contact 99999"),
        ({"members": "1,2"}, "list of contact ids"),
        ({"backups": -1}, "backups"),
        ({"backups": True}, "backups"),
        ({"effective_from": "2020-01-01T00:00:00Z"}, "past"),
        ({"effective_from": "2027-01-01T00:00"}, "UTC offset"),
        ({"colour": "red"}, "unknown fields"),
    ],
)
def test_a_bad_rotation_gets_422_with_a_clear_message(api, team: Team, change: dict, message: str) -> None:
    good = {"timezone": "America/New_York", "handoff": "2026-11-23T09:00", "shift": "weekly",
            "members": [team.priya.id], "backups": 1}
    response = api.put("/api/rotation", json={**good, **change})
    assert response.status_code == 422 and message in response.json["error"]


def test_an_empty_line_has_an_empty_rotation(api) -> None:
    body = api.get("/api/rotation").json
    assert body["members"] == [] and body["timezone"] is None


# ----------------------------------------------------------------------------- overrides and on call


def test_an_override_changes_who_is_on_call_and_can_be_removed(api, team: Team, session: Session, clock) -> None:
    start, end = clock.now, clock.now + timedelta(days=1)
    created = api.post("/api/overrides", json={"contact_id": team.ana.id, "start": start.isoformat(),
                                               "end": "2026-11-26T22:00:00-05:00"})
    assert created.status_code == 201
    assert created.json["end"] == end.isoformat()
    oncall = api.get("/api/oncall").json
    assert oncall["override"] is True and oncall["on_duty"]["name"] == "Ana Souza"
    assert [c["name"] for c in oncall["escalation"]] == ["Priya Raman"]
    assert api.get("/api/overrides").json["items"][0]["id"] == created.json["id"]

    assert api.delete(f"/api/overrides/{created.json['id']}").status_code == 204
    assert api.get("/api/oncall").json["on_duty"]["name"] == "Priya Raman"
    assert api.delete(f"/api/overrides/{created.json['id']}").status_code == 404
    actions = [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.action.like("override.%")).order_by(AuditEntry.id))]
    assert actions == ["override.created", "override.deleted"]


def test_deleting_an_override_in_progress_ends_it_now_and_keeps_its_record(api, team: Team, session: Session,
                                                                           clock) -> None:
    started = clock.now - timedelta(hours=2)
    created = api.post("/api/overrides", json={"contact_id": team.ana.id, "start": started.isoformat(),
                                               "end": (clock.now + timedelta(hours=3)).isoformat()}).json
    assert api.delete(f"/api/overrides/{created['id']}").status_code == 204
    [kept] = api.get("/api/overrides?all=true").json["items"]
    assert (kept["start"], kept["end"]) == (started.isoformat(), clock.now.isoformat())
    assert api.get("/api/oncall").json["on_duty"]["name"] == "Priya Raman"
    again = api.delete(f"/api/overrides/{created['id']}")
    assert again.status_code == 409 and "already ended" in again.json["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"contact_id": 99999, "start": "2026-11-26T00:00:00Z", "end": "2026-11-27T00:00:00Z"}, "no contact"),
        ({"contact_id": "1", "start": "2026-11-26T00:00:00Z", "end": "2026-11-27T00:00:00Z"}, "contact_id"),
        ({"start": "2026-11-26T00:00:00Z", "end": "2026-11-27T00:00:00Z"}, "contact_id"),
        ("swap", "the end must be after the start"),
        ("naive", "UTC offset"),
        ("past", "past"),
        ("garbage", "ISO 8601"),
    ],
)
def test_a_bad_override_gets_422(api, team: Team, session: Session, body, message: str) -> None:
    base = {"contact_id": team.tom.id, "start": "2026-11-26T00:00:00Z", "end": "2026-11-27T00:00:00Z"}
    body = {
        "swap": {**base, "start": "2026-11-28T00:00:00Z", "end": "2026-11-27T00:00:00Z"},
        "naive": {**base, "start": "2026-11-26T00:00"},
        "past": {**base, "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"},
        "garbage": {**base, "end": "tomorrow"},
    }.get(body, body) if isinstance(body, str) else body
    response = api.post("/api/overrides", json=body)
    assert response.status_code == 422 and message in response.json["error"]
    assert session.scalars(select(Override)).all() == []


def test_an_inactive_contact_cannot_cover_a_shift(api, team: Team, session: Session) -> None:
    team.tom.active = False
    session.commit()
    response = api.post("/api/overrides", json={"contact_id": team.tom.id, "start": "2026-11-26T00:00:00Z",
                                                "end": "2026-11-27T00:00:00Z"})
    assert response.status_code == 422 and "inactive" in response.json["error"]


def test_oncall_answers_for_any_time_with_shift_bounds(api, team: Team) -> None:
    body = api.get("/api/oncall?at=2026-12-01T12:00:00-05:00").json
    assert body["on_duty"]["name"] == "Tom Berg" and body["override"] is False
    assert body["shift_start"] == "2026-11-30T14:00:00+00:00" and body["shift_end"] == "2026-12-07T14:00:00+00:00"
    assert [c["name"] for c in body["escalation"]] == ["Ana Souza"]


def test_walking_the_schedule_from_each_shift_end_never_loops_after_changes_within_a_second(
        api, client, team: Team, clock) -> None:
    """Contract §7: an instant the API gives, given back as `at`, lands in the next shift, and the
    calendar feed states the same instants."""
    from urllib.parse import quote

    import icalendar

    clock.set(datetime(2026, 11, 26, 6, 42, 6, 250_000, tzinfo=UTC))
    rotation = api.get("/api/rotation").json
    body = {k: rotation[k] for k in ("timezone", "handoff", "shift", "members", "backups")}
    assert api.put("/api/rotation", json={**body, "members": body["members"][::-1]}).status_code == 200
    clock.advance(seconds=0.3)
    start = clock.now.isoformat()
    end = (clock.now + timedelta(seconds=28)).isoformat()
    assert api.post("/api/overrides", json={"contact_id": team.ana.id, "start": start, "end": end}).status_code == 201
    clock.advance(seconds=0.3)
    assert api.put("/api/rotation", json=body).status_code == 200

    at, bounds = clock.now.isoformat(), []
    for _ in range(8):
        duty = api.get(f"/api/oncall?at={quote(at)}").json
        assert datetime.fromisoformat(duty["shift_end"]) > datetime.fromisoformat(at), f"stuck at {at}"
        bounds.append((duty["shift_start"], duty["shift_end"]))
        at = duty["shift_end"]
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:])), f"each shift starts where the last ended: {bounds}"
    assert all(datetime.fromisoformat(t).microsecond == 0 for pair in bounds for t in pair), "to the second"
    feed = icalendar.Calendar.from_ical(client.get(rotation["calendar_url"].split("localhost", 1)[1]).data)
    stated = {e.decoded("dtstart").astimezone(UTC) for e in feed.walk("VEVENT")}
    assert {datetime.fromisoformat(start) for start, _ in bounds[1:]} <= stated, "the feed states the same instants"


@pytest.mark.parametrize("at", ["yesterday", "2026-12-01T12:00", "2026-13-01T00:00:00Z"])
def test_oncall_with_a_bad_time_gets_a_4xx(api, team: Team, at: str) -> None:
    response = api.get(f"/api/oncall?at={at}")
    assert response.status_code in {400, 422} and response.json["error"]


def test_an_empty_line_has_nobody_on_call(api) -> None:
    body = api.get("/api/oncall").json
    assert body["on_duty"] is None and body["escalation"] == [] and body["shift_start"] is None


def test_shift_bounds_stop_where_a_saved_change_takes_effect(api, team: Team, clock) -> None:
    change_at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    new = {"timezone": "America/New_York", "handoff": "2026-11-23T09:00", "shift": "weekly",
           "members": [team.tom.id, team.ana.id], "backups": 1, "effective_from": change_at.isoformat()}
    assert api.put("/api/rotation", json=new).status_code == 200
    before = api.get("/api/oncall").json
    assert (before["on_duty"]["name"], before["shift_end"], before["next"]["name"]) == (
        "Priya Raman", change_at.isoformat(), "Tom Berg")


@pytest.mark.parametrize("path", ["/api/contacts", "/api/overrides", "/api/tickets", "/api/calls"])
def test_an_absurd_offset_is_400_not_a_crash(api, path: str) -> None:
    response = api.get(f"{path}?offset=99999999999999999999")
    assert response.status_code == 400 and "offset" in response.json["error"]


@pytest.mark.parametrize("path", ["/api/contacts", "/api/overrides", "/api/tickets"])
def test_a_deeply_nested_body_is_400_not_a_crash(api, path: str) -> None:
    response = api.post(path, data="[" * 100000 + "]" * 100000, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["error"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/contacts", {"name": "Nul\u0000Name", "phone": "+14155550109"}),
        ("post", "/api/contacts", {"name": "Lone \ud800 surrogate", "phone": "+14155550109"}),
        ("post", "/api/contacts", {"name": "X", "phone": "+14155550109", "email": "a\u0000@b.c"}),
        ("put", "/api/rotation", {"timezone": "UTC", "handoff": "2026-11-23T09:00", "shift": "weekly",
                                  "members": [2**31]}),
        ("put", "/api/rotation", {"timezone": "UTC", "handoff": "2026-11-23T09:00", "shift": "weekly",
                                  "members": [2**70]}),
        ("put", "/api/rotation", {"timezone": "UTC", "handoff": "9999-12-31T23:59", "shift": "weekly", "members": []}),
        ("put", "/api/rotation", {"timezone": "UTC", "handoff": "2026-11-23T09:00", "shift": "weekly", "members": [],
                                  "effective_from": "9999-12-31T23:00:00Z"}),
        ("post", "/api/overrides", {"contact_id": 2**40, "start": "2026-11-26T00:00:00Z", "end": "2026-11-27T00:00:00Z"}),
        ("post", "/api/overrides", {"contact_id": 1, "start": "0001-01-01T00:00:00+01:00", "end": "2026-11-27T00:00:00Z"}),
        ("post", "/api/tickets", {"severity": "high", "description": "\ud83d"}),
    ],
)
def test_values_the_database_cannot_hold_get_a_4xx_not_a_500(api, team: Team, method: str, path: str, body) -> None:
    import json as json_module

    response = getattr(api, method)(path, data=json_module.dumps(body), headers={"Content-Type": "application/json"})
    assert response.status_code in {400, 422} and response.json["error"]


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00Z"])
def test_oncall_at_the_ends_of_time_is_refused_clearly(api, team: Team, at: str) -> None:
    response = api.get(f"/api/oncall?at={at.replace('+', '%2B')}")
    assert response.status_code in {400, 422} and "between" in response.json["error"]


@pytest.mark.parametrize(("method", "path", "status"), [("get", "/api/nothing-here", 404), ("delete", "/api/contacts", 405),
                                                        ("get", "/api/overrides/%20", 405)])
def test_unknown_api_urls_and_methods_answer_in_json(api, method: str, path: str, status: int) -> None:
    response = getattr(api, method)(path)
    assert response.status_code == status and response.json["error"]


def test_a_body_over_a_megabyte_is_refused(api) -> None:
    response = api.post("/api/contacts", data="x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_chunked_body_over_a_megabyte_is_refused_not_cut_short(live_line: str, session: Session, clock) -> None:
    import requests

    token = issue_api_token(session, "tests", clock.now)
    body = b'{"name": "Priya Raman", "phone": "+14155550101", "email": "' + b"p" * (1024 * 1024) + b'"}'
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))  # no Content-Length: Transfer-Encoding chunked
    response = requests.post(f"{live_line}/api/contacts", data=chunks, timeout=30,
                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 413 and "error" in response.json()
    small = requests.post(f"{live_line}/api/contacts", data=iter([b'{"name": "Tom Berg", ', b'"phone": "+14155550102"}']),
                          timeout=30, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert small.status_code == 201, "a small chunked body is read whole"


def test_a_wrong_method_under_the_api_says_which_are_allowed(api) -> None:
    response = api.delete("/api/contacts")
    assert response.status_code == 405 and response.json["error"]
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_every_http_error_under_the_api_answers_json(api, app) -> None:
    from werkzeug.exceptions import ImATeapot

    @app.get("/api/teapot")
    def teapot() -> None:
        raise ImATeapot()

    response = api.get("/api/teapot")
    assert response.status_code == 418 and response.json["error"].startswith("I'm a teapot")


def test_oncall_shows_the_whole_contact(api, team: Team, session: Session) -> None:
    team.priya.email = "priya@example.com"
    session.commit()
    assert api.get("/api/oncall").json["on_duty"] == {
        "id": team.priya.id, "name": "Priya Raman", "phone": "+14155550101", "email": "priya@example.com", "active": True}


def test_an_overlong_url_gets_a_json_414(api) -> None:
    response = api.get("/api/contacts?limit=5&" + "x" * 8100 + "=1")
    assert response.status_code == 414 and "at most 8000" in response.json["error"]


def test_two_active_contacts_cannot_share_a_phone_number(api, team: Team) -> None:
    taken = api.post("/api/contacts", json={"name": "Priya's twin", "phone": PRIYA})
    assert taken.status_code == 422 and f"phone {PRIYA} is already Priya Raman's" in taken.json["error"]
    moved = api.patch(f"/api/contacts/{team.tom.id}", json={"phone": PRIYA})
    assert moved.status_code == 422 and "cannot share a number" in moved.json["error"]
    assert api.patch(f"/api/contacts/{team.priya.id}", json={"active": False}).status_code == 200
    twin = api.post("/api/contacts", json={"name": "Priya's successor", "phone": PRIYA})
    assert twin.status_code == 201, "an inactive contact's number can be given to someone else"
    back = api.patch(f"/api/contacts/{team.priya.id}", json={"active": True})
    assert back.status_code == 422 and "Priya's successor" in back.json["error"]


@pytest.mark.parametrize(("phone", "reason"), [("+1 415 555 0199 ext 12", "has an extension (12)"),
                                               ("+1 415 555 0199 a", "has letters in it"), ("tel 415 555 0199", "has letters in it"),
                                               ("1-800-FLOWERS", "has letters in it")])
def test_an_extension_or_letters_in_a_phone_number_are_refused_not_dropped(api, phone: str, reason: str) -> None:
    response = api.post("/api/contacts", json={"name": "Kenji Watanabe", "phone": phone})
    assert response.status_code == 422 and reason in response.json["error"]
