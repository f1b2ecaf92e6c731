"""The call log REST API (contract §7): calls placed through the phone emulator, read back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ivr.flow import Step
from ivr.models import CallEvent, CallLog
from phonesim import CallRecord, FlaskClientTransport, ScriptedCaller, place_call
from staff.tokens import issue_api_token
from tests.support import AUTH_TOKEN, PRIYA, PUBLIC_BASE, SUPPORT_NUMBER, Team
from tests.support import Api, at, counted_queries

CALLER = "+12125550147"
CALL_FIELDS = {"call_sid", "from", "to", "status", "started_at", "ended_at", "duration", "ticket", "answered_by",
               "outcome", "events"}


@pytest.fixture
def api(client: FlaskClient, session: Session, clock) -> Api:
    return Api(client, issue_api_token(session, "tests", clock.now))


@pytest.fixture
def call(client: FlaskClient) -> Callable[..., CallRecord]:
    """Place a call through the phone emulator: `call("1", "1", "1", engineers=["accept"])`."""

    def place(*answers: Any, engineers: Any = (), from_number: str = CALLER) -> CallRecord:
        return place_call(
            voice_url=f"{PUBLIC_BASE}/ivr/voice",
            status_callback_url=f"{PUBLIC_BASE}/ivr/status",
            auth_token=AUTH_TOKEN,
            transport=FlaskClientTransport(client),
            caller=ScriptedCaller(list(answers)),
            engineers=list(engineers),
            from_number=from_number,
        )

    return place


def logged_call(session: Session, call_sid: str, started_at: datetime, **fields: Any) -> CallLog:
    """A call log row as the webhooks would have left it."""
    row = CallLog(call_sid=call_sid, from_number=CALLER, to_number=SUPPORT_NUMBER, started_at=started_at,
                  step=Step.MAIN_MENU, **fields)
    row.events = [CallEvent(at=started_at, kind="call_started", detail=f"from {CALLER}"),
                  CallEvent(at=started_at + timedelta(seconds=3), kind="silence", detail="main_menu: no input")]
    session.add(row)
    session.commit()
    return row


def test_a_call_through_the_phone_shows_its_steps_its_ticket_and_who_answered(
    api: Api, call, team: Team, clock
) -> None:
    record = call("1", "1", "1", engineers=["accept"])

    response = api.get(f"/api/calls/{record.call_sid}")

    assert response.status_code == 200
    shown = response.get_json()
    assert set(shown) == CALL_FIELDS
    assert shown["call_sid"] == record.call_sid
    assert shown["from"] == CALLER and shown["to"] == SUPPORT_NUMBER
    assert shown["status"] == "completed" and shown["outcome"] == "connected"
    assert shown["answered_by"] == {"id": team.priya.id, "name": "Priya Raman", "phone": PRIYA}
    assert shown["ticket"] == 10001
    assert at(shown["started_at"]) == clock.now and at(shown["ended_at"]) == clock.now
    assert shown["duration"] == record.duration
    kinds = [e["kind"] for e in shown["events"]]
    assert kinds[0] == "call_started" and kinds[-1] == "status"
    for kind in ("keys", "ticket_opened", "routing", "dial", "whisper", "dial_result"):
        assert kind in kinds
    assert all(set(e) == {"at", "kind", "detail"} and at(e["at"]) for e in shown["events"])
    assert any("ticket 10001 (critical)" in e["detail"] for e in shown["events"])

    ticket = api.get("/api/tickets/10001").get_json()
    assert ticket["call_sid"] == record.call_sid and ticket["source"] == "phone"
    assert ticket["responded_by"] == "Priya Raman" and ticket["status"] == "acknowledged"


def test_a_status_lookup_call_has_no_ticket_of_its_own(api: Api, call, team: Team) -> None:
    first = call("1", "3", "1", engineers=["accept"])
    lookup = call("2", "10001#")

    shown = api.get(f"/api/calls/{lookup.call_sid}").get_json()

    assert shown["ticket"] is None and shown["outcome"] == "status_lookup"
    assert api.get(f"/api/calls/{first.call_sid}").get_json()["ticket"] == 10001


def test_the_call_list_is_newest_first_and_paged(api: Api, session: Session, clock) -> None:
    for i in range(5):
        logged_call(session, f"CA{i:032d}", clock.now + timedelta(minutes=i))

    everything = api.get("/api/calls").get_json()
    second_page = api.get("/api/calls", limit=2, offset=2, total="true").get_json()

    assert [c["call_sid"] for c in everything["items"]] == [f"CA{i:032d}" for i in (4, 3, 2, 1, 0)]
    assert (everything["more"], everything["total"], everything["limit"], everything["offset"]) == (False, None, 50, 0)
    assert [c["call_sid"] for c in second_page["items"]] == [f"CA{i:032d}" for i in (2, 1)]
    assert (second_page["more"], second_page["total"], second_page["limit"], second_page["offset"]) == (True, 5, 2, 2)
    assert all(set(c) == CALL_FIELDS for c in everything["items"])
    assert [e["kind"] for e in everything["items"][0]["events"]] == ["call_started", "silence"]


def test_a_call_still_in_progress_shows_no_end(api: Api, session: Session, clock) -> None:
    logged_call(session, "CA" + "5" * 32, clock.now)
    shown = api.get("/api/calls/CA" + "5" * 32).get_json()
    assert shown["status"] == "in-progress"
    assert shown["ended_at"] is None and shown["duration"] is None and shown["outcome"] is None


def test_listing_calls_makes_no_query_per_call(app: Flask, api: Api, call, team: Team) -> None:
    call("1", "1", "1", engineers=["accept"])
    api.get("/api/calls")  # the token's first use saves its last_used_at; the pages below compare alike
    with counted_queries(app) as with_one:
        assert len(api.get("/api/calls").get_json()["items"]) == 1
    for _ in range(3):
        call("1", "2", "1", engineers=["accept"])
    with counted_queries(app) as with_four:
        page = api.get("/api/calls").get_json()

    assert [c["ticket"] for c in page["items"]] == [10004, 10003, 10002, 10001]
    assert all(len(c["events"]) > 5 for c in page["items"])
    assert len(with_four) == len(with_one)


@pytest.mark.parametrize(
    "call_sid", ["CA" + "0" * 32, "abc", "1" * 5000, "CA1' OR '1'='1", "CA1; DROP TABLE call_log", "%", "CA" + "9" * 63,
     "CA" + "1" * 31 + "\x00", "ca" + "1" * 32 + " "]
)
def test_an_unknown_or_garbage_call_sid_is_a_404(api: Api, session: Session, clock, call_sid: str) -> None:
    logged_call(session, "CA" + "1" * 32, clock.now)

    response = api.get(f"/api/calls/{quote(call_sid, safe='')}")

    assert response.status_code == 404
    error = response.get_json()["error"]
    assert "there is no call" in error and len(error) < 300
    assert api.get("/api/calls", total="true").get_json()["total"] == 1


@pytest.mark.parametrize(
    "query", [{"limit": 0}, {"limit": 501}, {"limit": "all"}, {"offset": -5}, {"offset": "9" * 20}]
)
def test_a_bad_page_of_calls_is_a_400(api: Api, session: Session, clock, query: dict[str, Any]) -> None:
    logged_call(session, "CA" + "1" * 32, clock.now)
    response = api.get("/api/calls", **query)
    assert response.status_code == 400
    assert response.get_json()["error"]


@pytest.mark.parametrize("path", ["/api/calls", "/api/calls/CA" + "1" * 32])
@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer sl_not-a-real-token", "Token sl_x"])
def test_the_call_log_needs_a_valid_bearer_token(
    api: Api, session: Session, clock, path: str, authorization: str | None
) -> None:
    logged_call(session, "CA" + "1" * 32, clock.now)
    headers = {} if authorization is None else {"Authorization": authorization}

    refused = api.client.get(path, headers=headers)
    allowed = api.get(path)

    assert refused.status_code == 401 and refused.get_json()["error"]
    assert allowed.status_code == 200
