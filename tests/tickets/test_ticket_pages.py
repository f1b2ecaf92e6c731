"""The admin pages for tickets: the filtered list and each ticket's timeline, voicemail and calls."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from ivr.models import CallLog
from tests.conftest import FakeClock
from tests.oncall.test_admin_pages import admin, admin_user, text_of  # noqa: F401  (admin, admin_user: fixtures)
from tickets.models import Ticket, TicketEvent


def make_ticket(session: Session, number: int, *, severity: str = "normal", status: str = "open",
                created_at: datetime, **fields) -> Ticket:
    ticket = Ticket(number=number, severity=severity, status=status, source=fields.pop("source", "phone"),
                    created_at=created_at, response_due_at=created_at + timedelta(hours=12), **fields)
    ticket.events.append(TicketEvent(at=created_at, kind="created", detail=f"{severity} ticket from phone"))
    session.add(ticket)
    session.flush()
    return ticket


@pytest.fixture
def tickets(session: Session, clock: FakeClock) -> dict[int, Ticket]:
    """Three tickets an hour apart: 10001 critical open, 10002 low resolved, 10003 normal acknowledged."""
    now = clock.now
    made = [
        make_ticket(session, 10001, severity="critical", created_at=now - timedelta(hours=3),
                    caller_number="+14155550100", description="The checkout page is down"),
        make_ticket(session, 10002, severity="low", status="resolved", created_at=now - timedelta(hours=2),
                    resolved_at=now - timedelta(hours=1)),
        make_ticket(session, 10003, severity="normal", status="acknowledged", created_at=now - timedelta(hours=1),
                    first_response_at=now, responded_by="Priya Raman"),
    ]
    session.commit()
    return {t.number: t for t in made}


def listed_numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'/admin/tickets/(\d+)"', html)]


def test_the_ticket_list_shows_the_newest_first(admin, tickets) -> None:
    html = admin.get("/admin/tickets/").text
    assert listed_numbers(html) == [10003, 10002, 10001]
    assert "The checkout page is down" in html


@pytest.mark.parametrize(
    ("query", "numbers"),
    [
        ("status=open", [10001]),
        ("status=resolved", [10002]),
        ("severity=critical", [10001]),
        ("status=acknowledged&severity=normal", [10003]),
        ("status=open&severity=low", []),
    ],
)
def test_the_ticket_list_filters_by_status_and_severity(admin, tickets, query: str, numbers: list[int]) -> None:
    html = admin.get(f"/admin/tickets/?{query}").text
    assert listed_numbers(html) == numbers
    if not numbers:
        assert "No tickets match these filters." in text_of(html)


def test_an_unknown_filter_is_named_and_ignored(admin, tickets) -> None:
    response = admin.get("/admin/tickets/?status=lost")
    assert response.status_code == 200
    assert "Unknown status &#39;lost&#39;: showing every status." in response.text
    assert listed_numbers(response.text) == [10003, 10002, 10001]


def test_a_ticket_past_its_deadline_without_a_response_is_marked_overdue(admin, session, clock) -> None:
    make_ticket(session, 10009, created_at=clock.now - timedelta(hours=13))
    session.commit()
    assert "overdue" in admin.get("/admin/tickets/").text
    assert "overdue" in admin.get("/admin/tickets/10009").text


def test_the_ticket_list_is_paged(admin, session, clock) -> None:
    for i in range(51):
        make_ticket(session, 20000 + i, created_at=clock.now - timedelta(minutes=i))
    session.commit()
    first = admin.get("/admin/tickets/?severity=normal")
    assert len(listed_numbers(first.text)) == 50 and 20050 not in listed_numbers(first.text)
    assert "page=2" in first.text and "severity=normal" in first.text
    assert listed_numbers(admin.get("/admin/tickets/?severity=normal&page=2").text) == [20050]


def test_the_number_box_opens_a_ticket(admin, tickets) -> None:
    response = admin.get("/admin/tickets/?number=10002")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/tickets/10002"


def test_a_ticket_shows_its_details_and_its_event_timeline(admin, tickets, session, clock) -> None:
    ticket = tickets[10001]
    ticket.events.append(TicketEvent(at=clock.now, kind="first_response", detail="Tom Berg accepted the call"))
    session.commit()
    page = text_of(admin.get("/admin/tickets/10001").text)
    assert "Ticket 10001 critical open" in page
    assert "Opened Wed 25 Nov, 19:00 EST from phone" in page
    assert "First response due Thu 26 Nov, 07:00 EST" in page
    assert page.index("created critical ticket from phone") < page.index("first_response Tom Berg accepted the call")


def test_a_ticket_shows_its_recording_link_and_transcript(admin, tickets, session) -> None:
    ticket = tickets[10001]
    ticket.recording_url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
    ticket.transcript = "Hi, the checkout page has been down since nine."
    session.commit()
    html = admin.get("/admin/tickets/10001").text
    assert '<a href="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"' in html
    assert "Hi, the checkout page has been down since nine." in html


def test_a_recording_url_that_is_not_a_web_address_is_never_a_link(admin, tickets, session) -> None:
    tickets[10001].recording_url = "javascript:alert(1)"
    session.commit()
    html = admin.get("/admin/tickets/10001").text
    assert 'href="javascript:' not in html and "Recording: javascript:alert(1)" in html


def test_a_transcript_holding_a_script_tag_shows_as_text(admin, tickets, session, clock) -> None:
    tickets[10001].transcript = "<script>alert('hi')</script>"
    tickets[10001].events.append(TicketEvent(at=clock.now, kind="transcript", detail="<script>alert('hi')</script>"))
    tickets[10001].description = "<b>bold</b>"
    session.commit()
    for page in ("/admin/tickets/10001", "/admin/tickets/"):
        html = admin.get(page).text
        assert "<script>" not in html and "<b>bold" not in html, page
    assert "&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt;" in admin.get("/admin/tickets/10001").text


def test_a_ticket_links_to_the_calls_about_it(admin, tickets, session, clock) -> None:
    session.add(CallLog(call_sid="CA" + "a" * 32, from_number="+14155550100", started_at=clock.now, step="done",
                        status="completed", outcome="voicemail", ticket_id=tickets[10001].id))
    session.commit()
    assert f'href="/admin/calls/CA{"a" * 32}"' in admin.get("/admin/tickets/10001").text


@pytest.mark.parametrize("number", ["99999", "abc", "1" * 40])
def test_a_missing_ticket_is_a_404_with_a_message(admin, tickets, number: str) -> None:
    response = admin.get(f"/admin/tickets/{number}")
    assert response.status_code == 404
    assert f"There is no ticket {number}." in response.text
