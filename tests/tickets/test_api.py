"""The tickets REST API (contract §7): every call, its filters and pages, and what it refuses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from staff.tokens import issue_api_token
from tests.support import PRIYA, Api, Team, at, counted_queries
from tickets.models import Notification, Ticket, TicketEvent
from tickets.records import open_ticket, record_first_response
from core.calendar import business_calendar
from tickets.sla import Severity

TICKET_FIELDS = {
    "number", "severity", "status", "source", "caller_number", "callback_number", "description", "created_at",
    "response_due_at", "first_response_at", "responded_by", "resolved_at", "call_sid", "recording_url", "transcript",
    "events", "requester", "organization_id", "subject", "comments", "reported_severity",  # §8
    "satisfaction",  # the portal's question: resolved to the requester's satisfaction?
}
# The tests' clock starts at Thursday 2026-11-26 03:00 UTC: Wednesday 22:00 in New York, the
# eve of Thanksgiving. A low ticket opened then is due at 22:00 New York time on the second
# business day after Wednesday, skipping Thanksgiving and the weekend: Monday, 03:00 UTC Tuesday.
LOW_DUE_FROM_THE_START = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)
GARBAGE_NUMBERS = ["abc", "1" * 5000, "2147483648", "999999999999", "10001; DROP TABLE tickets", "10001' OR '1'='1", "-10001", "١٠٠٠١", "10001.0"]
ALLOWED_SEVERITIES = "critical, high, normal, low"
ALLOWED_STATUSES = "open, acknowledged, resolved, closed"


@pytest.fixture
def api(client: FlaskClient, session: Session, clock) -> Api:
    return Api(client, issue_api_token(session, "tests", clock.now))


def opened(api: Api, **fields: Any) -> dict[str, Any]:
    """Open a ticket through the API and return its JSON."""
    response = api.post("/api/tickets", {"severity": "normal", **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def kinds(ticket: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in ticket["events"]]


def saved_tickets(session: Session) -> list[Ticket]:
    session.commit()
    session.expire_all()
    return list(session.scalars(select(Ticket).order_by(Ticket.number)))


def event_count(session: Session) -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(TicketEvent))


# ----------------------------------------------------------------------------- opening tickets


@pytest.mark.parametrize(
    ("severity", "due"),
    [
        ("critical", datetime(2026, 11, 26, 5, 0, tzinfo=timezone.utc)),
        ("high", datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)),
        ("normal", datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc)),
        ("low", LOW_DUE_FROM_THE_START),
    ],
)
def test_an_integrator_opens_a_ticket_numbered_and_due_by_its_severity(
    api: Api, session: Session, clock, severity: str, due: datetime
) -> None:
    response = api.post("/api/tickets", {"severity": severity, "description": "  The VPN is down  "})

    assert response.status_code == 201
    ticket = response.get_json()
    assert response.headers["Location"].endswith("/api/tickets/10001")
    assert ticket["number"] == 10001 and ticket["severity"] == severity
    assert ticket["status"] == "open" and ticket["source"] == "api"
    assert ticket["description"] == "The VPN is down"
    assert at(ticket["created_at"]) == clock.now
    assert at(ticket["response_due_at"]) == due
    assert ticket["first_response_at"] is None and ticket["resolved_at"] is None and ticket["call_sid"] is None
    assert kinds(ticket) == ["created", "opened_by"]
    assert "api:tests" in ticket["events"][1]["detail"]
    [saved] = saved_tickets(session)
    assert (saved.number, saved.source, saved.response_due_at) == (10001, "api", due)


def outbox(session: Session) -> list[tuple[str, str, str]]:
    session.commit()
    session.expire_all()
    return [(n.kind, n.to_number, n.body) for n in session.scalars(select(Notification).order_by(Notification.id))]


def test_a_ticket_opened_through_the_api_texts_the_engineer_on_duty_once(api: Api, session: Session, team: Team) -> None:
    opened(api, severity="critical", caller_number="+12125550147", callback_number="+12125550147")
    api.patch("/api/tickets/10001", {"severity": "high", "description": "changed"})

    assert outbox(session) == [(
        "new_ticket", PRIYA,
        "New critical ticket 10001 from +12125550147. Respond by Thu 26 Nov 12:00 AM EST. "
        "Reply ACK 10001 or CALL 10001.",
    )]


def test_a_ticket_is_opened_even_with_nobody_on_duty_to_text(api: Api, session: Session) -> None:
    assert opened(api)["number"] == 10001
    assert outbox(session) == []
    assert len(saved_tickets(session)) == 1


def test_tickets_opened_one_after_another_get_the_next_numbers(api: Api) -> None:
    assert [opened(api)["number"] for _ in range(3)] == [10001, 10002, 10003]


def test_a_ticket_shows_exactly_the_fields_of_the_contract(api: Api) -> None:
    ticket = opened(api)
    assert set(ticket) == TICKET_FIELDS
    assert set(api.get("/api/tickets/10001").get_json()) == TICKET_FIELDS
    assert set(api.get("/api/tickets").get_json()["items"][0]) == TICKET_FIELDS
    assert set(ticket["events"][0]) == {"at", "kind", "detail"}
    at(ticket["events"][0]["at"])


def test_severity_is_read_whatever_its_case_and_spaces(api: Api) -> None:
    assert opened(api, severity=" High ")["severity"] == "high"


@pytest.mark.parametrize(
    ("given", "stored"),
    [("(415) 555-0123", "+14155550123"), ("+44 20 7946 0000", "+442079460000"), ("1-415-555-0124", "+14155550124")],
)
def test_phone_numbers_of_a_new_ticket_are_stored_in_e164(api: Api, session: Session, given: str, stored: str) -> None:
    ticket = opened(api, caller_number=given, callback_number=given)
    assert ticket["caller_number"] == stored and ticket["callback_number"] == stored
    assert saved_tickets(session)[0].callback_number == stored


def test_phone_numbers_of_a_new_ticket_may_be_left_out_or_null(api: Api) -> None:
    ticket = opened(api, caller_number=None, callback_number="")
    assert ticket["caller_number"] is None and ticket["callback_number"] is None


@pytest.mark.parametrize("field", ["caller_number", "callback_number"])
@pytest.mark.parametrize("bad", ["12345", "anonymous", "call me", "+266696687", 4155550123, ["+14155550123"], "1" * 5000])
def test_a_new_ticket_with_an_invalid_phone_number_is_refused_and_takes_no_number(
    api: Api, session: Session, field: str, bad: Any
) -> None:
    response = api.post("/api/tickets", {"severity": "high", field: bad})

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert field in error and "not a valid phone number" in error and "E.164" in error
    assert len(error) < 300, "garbage is not echoed back whole"
    assert saved_tickets(session) == []
    assert opened(api)["number"] == 10001, "the refused ticket did not use up a number"


@pytest.mark.parametrize("body", [{}, {"severity": None}, {"severity": "urgent"}, {"severity": ""}, {"severity": 2},
                                  {"severity": ["high"]}, {"description": "no severity"}])
def test_a_new_ticket_needs_a_known_severity(api: Api, session: Session, body: dict[str, Any]) -> None:
    response = api.post("/api/tickets", body)
    assert response.status_code == 422
    assert ALLOWED_SEVERITIES in response.get_json()["error"]
    assert saved_tickets(session) == []


@pytest.mark.parametrize("field", ["number", "status", "source", "created_at", "response_due_at", "Severity"])
def test_a_new_ticket_refuses_unknown_and_read_only_fields(api: Api, session: Session, field: str) -> None:
    response = api.post("/api/tickets", {"severity": "high", field: "x"})
    assert response.status_code == 422
    assert repr(field) in response.get_json()["error"]
    assert saved_tickets(session) == []


@pytest.mark.parametrize("description", [7, ["text"], {"a": 1}, "x" * 10_001, "printer\x00on fire"])
def test_a_new_ticket_refuses_a_description_that_is_not_text_or_is_too_long(
    api: Api, session: Session, description: Any
) -> None:
    response = api.post("/api/tickets", {"severity": "high", "description": description})
    assert response.status_code == 422
    assert "description" in response.get_json()["error"]
    assert saved_tickets(session) == []


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("body", [b"", b"{", b"severity=high", b"\xff\xfe{}", b"{'severity': 'high'}"])
def test_a_body_that_is_not_json_is_refused_with_400(api: Api, session: Session, method: str, body: bytes) -> None:
    opened(api)
    path = "/api/tickets" if method == "POST" else "/api/tickets/10001"

    response = api.send(method, path, body)

    assert response.status_code == 400
    assert response.get_json()["error"]
    assert len(saved_tickets(session)) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("body", [b"[]", b'["severity", "high"]', b'"high"', b"null", b"42", b"true"])
def test_json_that_is_not_an_object_is_refused_with_400(api: Api, session: Session, method: str, body: bytes) -> None:
    opened(api)
    path = "/api/tickets" if method == "POST" else "/api/tickets/10001"

    response = api.send(method, path, body)

    assert response.status_code == 400
    assert "JSON object" in response.get_json()["error"]
    assert len(saved_tickets(session)) == 1


# ----------------------------------------------------------------------------- listing and reading


def test_the_list_is_newest_first_and_paged_with_limit_and_offset(api: Api, clock) -> None:
    for _ in range(5):
        opened(api)
        clock.advance(minutes=1)

    everything = api.get("/api/tickets").get_json()
    second_page = api.get("/api/tickets", limit=2, offset=2, total="true").get_json()
    last_page = api.get("/api/tickets", limit=2, offset=4).get_json()
    past_the_end = api.get("/api/tickets", limit=2, offset=5, total="1").get_json()

    assert [t["number"] for t in everything["items"]] == [10005, 10004, 10003, 10002, 10001]
    assert (everything["more"], everything["total"], everything["limit"], everything["offset"]) == (False, None, 50, 0)
    assert [t["number"] for t in second_page["items"]] == [10003, 10002]
    assert (second_page["more"], second_page["total"], second_page["limit"], second_page["offset"]) == (True, 5, 2, 2)
    assert [t["number"] for t in last_page["items"]] == [10001] and last_page["more"] is False
    assert past_the_end["items"] == [] and past_the_end["more"] is False and past_the_end["total"] == 5


def test_tickets_opened_in_the_same_instant_list_by_number_newest_first(api: Api) -> None:
    for _ in range(3):
        opened(api)
    assert [t["number"] for t in api.get("/api/tickets").get_json()["items"]] == [10003, 10002, 10001]


@pytest.fixture
def mixed_tickets(api: Api) -> None:
    """10001 critical open, 10002 low resolved, 10003 critical acknowledged, 10004 high open."""
    opened(api, severity="critical")
    opened(api, severity="low")
    opened(api, severity="critical")
    opened(api, severity="high")
    assert api.patch("/api/tickets/10002", {"status": "resolved"}).status_code == 200
    assert api.patch("/api/tickets/10003", {"status": "acknowledged"}).status_code == 200


@pytest.mark.parametrize(
    ("query", "numbers"),
    [
        ({}, [10004, 10003, 10002, 10001]),
        ({"status": ""}, [10004, 10003, 10002, 10001]),
        ({"status": "open"}, [10004, 10001]),
        ({"status": "Resolved"}, [10002]),
        ({"status": "open,acknowledged"}, [10004, 10003, 10001]),
        ({"severity": "critical"}, [10003, 10001]),
        ({"severity": "critical, low"}, [10003, 10002, 10001]),
        ({"status": "open", "severity": "critical"}, [10001]),
        ({"status": "resolved", "severity": "high"}, []),
    ],
)
def test_the_list_can_be_narrowed_by_status_and_severity(
    api: Api, mixed_tickets: None, query: dict[str, str], numbers: list[int]
) -> None:
    page = api.get("/api/tickets", **query, total="true").get_json()
    assert [t["number"] for t in page["items"]] == numbers
    assert page["total"] == len(numbers)


def test_a_filter_may_be_repeated_in_the_query_string(api: Api, mixed_tickets: None) -> None:
    response = api.client.get("/api/tickets?status=open&status=resolved", headers=api.headers)
    assert [t["number"] for t in response.get_json()["items"]] == [10004, 10002, 10001]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"status": "pending"}, ALLOWED_STATUSES),
        ({"status": "open,pending"}, ALLOWED_STATUSES),
        ({"status": "' OR 1=1 --"}, ALLOWED_STATUSES),
        ({"severity": "urgent"}, ALLOWED_SEVERITIES),
        ({"severity": "x" * 5000}, ALLOWED_SEVERITIES),
    ],
)
def test_an_unknown_status_or_severity_filter_is_a_400_naming_the_allowed_values(
    api: Api, query: dict[str, str], named: str
) -> None:
    opened(api)
    response = api.get("/api/tickets", **query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert named in error and len(error) < 300


@pytest.mark.parametrize(
    "query",
    [{"limit": 0}, {"limit": 501}, {"limit": "ten"}, {"offset": -1}, {"offset": "1.5"},
     {"offset": "9" * 20}, {"limit": "9" * 5000}],
)
def test_a_bad_page_is_a_400(api: Api, query: dict[str, Any]) -> None:
    opened(api)
    response = api.get("/api/tickets", **query)
    assert response.status_code == 400
    assert "limit" in response.get_json()["error"] or "offset" in response.get_json()["error"]


def test_listing_tickets_makes_no_query_per_ticket(app: Flask, api: Api) -> None:
    opened(api)
    with counted_queries(app) as with_one:
        assert len(api.get("/api/tickets").get_json()["items"]) == 1
    for _ in range(5):
        opened(api)
    with counted_queries(app) as with_six:
        page = api.get("/api/tickets").get_json()

    assert len(page["items"]) == 6 and all(len(t["events"]) == 2 for t in page["items"])
    assert len(with_six) == len(with_one)


def test_a_ticket_is_read_by_its_number_with_its_timeline(api: Api) -> None:
    opened(api, severity="high", description="Printer on fire", callback_number="+14155550123")
    opened(api, severity="low")

    response = api.get("/api/tickets/10001")

    assert response.status_code == 200
    ticket = response.get_json()
    assert ticket["number"] == 10001 and ticket["severity"] == "high"
    assert ticket["description"] == "Printer on fire" and ticket["callback_number"] == "+14155550123"
    assert kinds(ticket) == ["created", "opened_by"]


def test_a_ticket_opened_by_phone_shows_its_call_and_voicemail(api: Api, session: Session, clock) -> None:
    calendar = business_calendar("America/New_York", "US")
    ticket = open_ticket(session, severity=Severity.HIGH, source="phone", now=clock.now, calendar=calendar,
                         caller_number="+12125550147", call_sid="CA" + "7" * 32)
    ticket.recording_url = "https://api.twilio.com/rec/RE1"
    ticket.transcript = "my printer is on fire"
    session.commit()

    shown = api.get(f"/api/tickets/{ticket.number}").get_json()

    assert shown["source"] == "phone" and shown["call_sid"] == "CA" + "7" * 32
    assert shown["recording_url"] == "https://api.twilio.com/rec/RE1" and shown["transcript"] == "my printer is on fire"
    assert shown["caller_number"] == "+12125550147"


@pytest.mark.parametrize("number", ["10002", "99999", *GARBAGE_NUMBERS])
def test_an_unknown_or_garbage_ticket_number_is_a_404(api: Api, session: Session, number: str) -> None:
    opened(api)
    path = f"/api/tickets/{quote(number, safe='')}"

    read = api.get(path)
    changed = api.patch(path, {"status": "resolved"})

    assert read.status_code == 404 and changed.status_code == 404
    assert "there is no ticket" in read.get_json()["error"] and len(read.get_json()["error"]) < 300
    [ticket] = saved_tickets(session)
    assert ticket.status == "open"


# ----------------------------------------------------------------------------- changing tickets


def test_resolving_a_ticket_sets_resolved_at_and_records_who(api: Api, session: Session, clock) -> None:
    opened(api)
    clock.advance(hours=1)

    response = api.patch("/api/tickets/10001", {"status": "resolved"})

    assert response.status_code == 200
    ticket = response.get_json()
    assert ticket["status"] == "resolved" and at(ticket["resolved_at"]) == clock.now
    assert kinds(ticket)[-2:] == ["first_response", "resolved"]
    assert ticket["events"][-1]["detail"] == "open → resolved by api:tests"
    [saved] = saved_tickets(session)
    assert saved.status == "resolved" and saved.resolved_at == clock.now


def test_resolving_a_ticket_nobody_answered_is_its_first_response(api: Api, clock) -> None:
    opened(api, severity="critical")
    clock.advance(minutes=40)

    ticket = api.patch("/api/tickets/10001", {"status": "resolved"}).get_json()

    assert at(ticket["first_response_at"]) == clock.now and ticket["responded_by"] == "api:tests"
    assert ticket["status"] == "resolved"


def test_resolving_an_acknowledged_ticket_keeps_its_first_response(api: Api, clock) -> None:
    opened(api)
    acknowledged = clock.advance(minutes=5)
    api.patch("/api/tickets/10001", {"status": "acknowledged"})
    clock.advance(minutes=30)

    ticket = api.patch("/api/tickets/10001", {"status": "resolved"}).get_json()

    assert at(ticket["first_response_at"]) == acknowledged and at(ticket["resolved_at"]) == clock.now
    assert kinds(ticket).count("first_response") == 1
    assert ticket["events"][-1]["detail"] == "acknowledged → resolved by api:tests"


def test_reopening_a_resolved_ticket_clears_resolved_at(api: Api, clock) -> None:
    opened(api)
    api.patch("/api/tickets/10001", {"status": "resolved"})
    clock.advance(minutes=10)

    ticket = api.patch("/api/tickets/10001", {"status": "open"}).get_json()

    assert ticket["status"] == "open" and ticket["resolved_at"] is None
    assert kinds(ticket)[-2:] == ["resolved", "reopened"]


def test_acknowledging_a_ticket_is_its_first_response_by_the_tokens_holder(api: Api, session: Session, clock) -> None:
    opened(api, severity="critical")
    clock.advance(minutes=20)

    ticket = api.patch("/api/tickets/10001", {"status": "acknowledged"}).get_json()

    assert ticket["status"] == "acknowledged"
    assert at(ticket["first_response_at"]) == clock.now and ticket["responded_by"] == "api:tests"
    assert kinds(ticket)[-2:] == ["first_response", "acknowledged"]
    assert saved_tickets(session)[0].responded_by == "api:tests"


def test_the_first_response_is_recorded_only_once(api: Api, client: FlaskClient, session: Session, clock) -> None:
    opened(api)
    first = clock.advance(minutes=5)
    api.patch("/api/tickets/10001", {"status": "acknowledged"})
    clock.advance(minutes=5)
    api.patch("/api/tickets/10001", {"status": "open"})
    clock.advance(minutes=5)
    other = Api(client, issue_api_token(session, "another", clock.now))

    ticket = other.patch("/api/tickets/10001", {"status": "acknowledged"}).get_json()

    assert ticket["status"] == "acknowledged"
    assert at(ticket["first_response_at"]) == first and ticket["responded_by"] == "api:tests"
    assert kinds(ticket).count("first_response") == 1
    assert ticket["events"][-1]["detail"] == "open → acknowledged by api:another"


def test_acknowledging_a_ticket_an_engineer_already_answered_keeps_the_engineer(
    api: Api, session: Session, clock
) -> None:
    ticket = open_ticket(session, severity=Severity.HIGH, source="phone", now=clock.now,
                         calendar=business_calendar("America/New_York", "US"))
    record_first_response(ticket, clock.now, "Priya Raman", "accepted the call")
    session.commit()
    clock.advance(minutes=30)

    response = api.patch(f"/api/tickets/{ticket.number}", {"status": "resolved"})
    reopened = api.patch(f"/api/tickets/{ticket.number}", {"status": "acknowledged"}).get_json()

    assert response.status_code == 200 and response.get_json()["status"] == "resolved"
    assert reopened["status"] == "acknowledged" and reopened["resolved_at"] is None
    assert reopened["responded_by"] == "Priya Raman"
    assert kinds(reopened).count("first_response") == 1


def test_setting_the_status_a_ticket_already_has_changes_nothing(api: Api, session: Session) -> None:
    opened(api)
    events_before = event_count(session)

    ticket = api.patch("/api/tickets/10001", {"status": "open", "severity": "normal"}).get_json()

    assert ticket["status"] == "open" and event_count(session) == events_before == 2


def test_reclassifying_to_low_counts_business_days_from_when_the_ticket_was_opened(
    api: Api, session: Session, clock
) -> None:
    opened(api, severity="critical")
    # Saturday: counted from now, a low ticket would be due Wednesday 00:00 in New York.
    clock.advance(days=3)

    response = api.patch("/api/tickets/10001", {"severity": "low"})

    assert response.status_code == 200
    ticket = response.get_json()
    assert ticket["severity"] == "low"
    assert at(ticket["response_due_at"]) == LOW_DUE_FROM_THE_START
    assert ticket["events"][-1]["kind"] == "reclassified"
    assert ticket["events"][-1]["detail"].startswith("critical → low by api:tests")
    assert at(ticket["events"][-1]["at"]) == clock.now
    assert saved_tickets(session)[0].response_due_at == LOW_DUE_FROM_THE_START


def test_reclassifying_to_critical_can_put_the_deadline_in_the_past(api: Api, clock) -> None:
    created = clock.now
    opened(api, severity="low")
    clock.advance(hours=5)

    ticket = api.patch("/api/tickets/10001", {"severity": "CRITICAL"}).get_json()

    assert at(ticket["response_due_at"]) == created + timedelta(hours=2)
    assert "low → critical" in ticket["events"][-1]["detail"]


def test_description_and_callback_number_changes_are_each_an_event(api: Api, session: Session) -> None:
    opened(api, callback_number="+14155550123")

    ticket = api.patch(
        "/api/tickets/10001", {"description": "Printer on fire", "callback_number": "(212) 555-0147"}
    ).get_json()

    assert ticket["description"] == "Printer on fire" and ticket["callback_number"] == "+12125550147"
    assert kinds(ticket)[-2:] == ["description", "callback_number"]
    assert ticket["events"][-2]["detail"] == "changed by api:tests: Printer on fire"
    assert ticket["events"][-1]["detail"] == "+14155550123 → +12125550147 by api:tests"
    saved = saved_tickets(session)[0]
    assert saved.callback_number == "+12125550147" and saved.description == "Printer on fire"


def test_a_callback_number_and_description_can_be_cleared(api: Api) -> None:
    opened(api, callback_number="+14155550123", description="x")
    ticket = api.patch("/api/tickets/10001", {"callback_number": None, "description": ""}).get_json()
    assert ticket["callback_number"] is None and ticket["description"] is None
    assert ticket["events"][-1]["detail"] == "+14155550123 → none by api:tests"


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({"status": "pending"}, ALLOWED_STATUSES),
        ({"status": None}, ALLOWED_STATUSES),
        ({"status": 1}, ALLOWED_STATUSES),
        ({"severity": "urgent"}, ALLOWED_SEVERITIES),
        ({"severity": None}, ALLOWED_SEVERITIES),
        ({"callback_number": "12345"}, "not a valid phone number"),
        ({"callback_number": 4155550123}, "not a valid phone number"),
        ({"description": 5}, "description"),
        ({"description": "nul\x00byte"}, "NUL"),
        ({"number": 10002}, "'number'"),
        ({"resolved_at": "2026-11-26T03:00:00+00:00"}, "'resolved_at'"),
        ({"caller_number": "+14155550123"}, "'caller_number'"),
    ],
)
def test_a_change_a_ticket_cannot_take_is_a_422_and_changes_nothing(
    api: Api, session: Session, body: dict[str, Any], mentions: str
) -> None:
    opened(api)
    events_before = event_count(session)

    # Valid changes in the same body are not saved either: a change is all or nothing.
    response = api.patch("/api/tickets/10001", {"status": "resolved", "description": "done", **body})

    assert response.status_code == 422
    assert mentions in response.get_json()["error"]
    [ticket] = saved_tickets(session)
    assert ticket.status == "open" and ticket.description is None and ticket.resolved_at is None
    assert event_count(session) == events_before == 2


def test_an_empty_change_leaves_the_ticket_as_it_was(api: Api, session: Session) -> None:
    before = opened(api)
    response = api.patch("/api/tickets/10001", {})
    assert response.status_code == 200 and response.get_json() == before


# ----------------------------------------------------------------------------- tokens


CALLS = [
    ("GET", "/api/tickets", None),
    ("POST", "/api/tickets", {"severity": "high"}),
    ("GET", "/api/tickets/10001", None),
    ("PATCH", "/api/tickets/10001", {"status": "resolved"}),
]


@pytest.mark.parametrize(("method", "path", "body"), CALLS)
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer sl_not-a-real-token", "Basic dGVzdHM6dGVzdHM=", "sl_token-without-scheme",
     "Bearer " + "x" * 5000],
)
def test_every_ticket_call_needs_a_valid_bearer_token(
    api: Api, session: Session, method: str, path: str, body: Any, authorization: str | None
) -> None:
    opened(api)
    headers = {} if authorization is None else {"Authorization": authorization}

    response = api.client.open(path, method=method, json=body, headers=headers)

    assert response.status_code == 401
    assert response.get_json()["error"]
    [ticket] = saved_tickets(session)
    assert ticket.status == "open"


def test_the_same_request_with_a_valid_token_is_served(api: Api) -> None:
    opened(api)
    response = api.client.open("/api/tickets/10001", method="PATCH", json={"status": "resolved"}, headers=api.headers)
    assert response.status_code == 200
