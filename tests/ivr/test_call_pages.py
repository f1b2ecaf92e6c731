"""The admin pages for the call log: every call, and each call's steps."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from ivr.models import CallEvent, CallLog
from tests.support import FakeClock
from tests.support import text_of
from tickets.models import Ticket

CONNECTED = "CA" + "1" * 32
VOICEMAIL = "CA" + "2" * 32


def make_call(session: Session, call_sid: str, *, started_at: datetime, outcome: str | None, **fields) -> CallLog:
    call = CallLog(call_sid=call_sid, started_at=started_at, step="done", outcome=outcome,
                   status=fields.pop("status", "completed"), **fields)
    session.add(call)
    session.flush()
    return call


@pytest.fixture
def calls(session: Session, clock: FakeClock) -> dict[str, CallLog]:
    """A call an engineer answered, then a later one that ended in voicemail on ticket 10001."""
    now = clock.now
    ticket = Ticket(number=10001, severity="high", status="open", source="phone", created_at=now,
                    response_due_at=now + timedelta(hours=6))
    session.add(ticket)
    connected = make_call(session, CONNECTED, started_at=now - timedelta(hours=1), outcome="connected",
                          from_number="+14155550100", to_number="+18005550199", duration=88,
                          answered_by="Priya Raman", ended_at=now - timedelta(minutes=58))
    connected.targets = [{"contact_id": 1, "name": "Priya Raman", "phone": "+14155550101"},
                         {"contact_id": None, "name": "the fallback line", "phone": "+14155550999"}]
    connected.accepted_target = 0
    for at, kind, detail in [(0, "call_started", "from +14155550100"), (10, "keys", "main_menu: pressed '1'"),
                             (40, "dial", "ringing Priya Raman +14155550101"), (55, "whisper", "Priya Raman: accepted")]:
        connected.events.append(CallEvent(at=connected.started_at + timedelta(seconds=at), kind=kind, detail=detail))
    voicemail = make_call(session, VOICEMAIL, started_at=now, outcome="voicemail", from_number="anonymous",
                          ticket=ticket, status="in-progress")
    voicemail.events.append(CallEvent(at=now, kind="voicemail", detail="recording https://api.twilio.com/RE1 (30 s)"))
    session.commit()
    return {"connected": connected, "voicemail": voicemail}


def listed_calls(html: str) -> list[str]:
    return re.findall(r'href="/admin/calls/(CA\w+)"', html)


def test_the_call_list_shows_the_newest_first_with_outcome_and_ticket(admin, calls) -> None:
    html = admin.get("/admin/calls/").text
    assert listed_calls(html) == [VOICEMAIL, CONNECTED]
    page = text_of(html)
    assert "+14155550100 completed 1 min 28 s connected Priya Raman —" in page
    assert "anonymous in-progress — voicemail — 10001" in page
    assert 'href="/admin/tickets/10001"' in html


@pytest.mark.parametrize(("outcome", "expected"), [("connected", [CONNECTED]), ("voicemail", [VOICEMAIL]),
                                                   ("missed", []), ("abandoned", [])])
def test_the_call_list_filters_by_outcome(admin, calls, outcome: str, expected: list[str]) -> None:
    assert listed_calls(admin.get(f"/admin/calls/?outcome={outcome}").text) == expected


MISSED = "CA" + "3" * 32


def test_the_oncall_panel_lists_todays_missed_calls_and_the_calls_page_filters_them(admin, calls, session: Session,
                                                                                     clock: FakeClock) -> None:
    make_call(session, MISSED, started_at=clock.now - timedelta(minutes=5), outcome="missed", from_number="+12125550147")
    make_call(session, "CA" + "4" * 32, started_at=clock.now - timedelta(days=1), outcome="missed",
              from_number="+12125550148")
    session.commit()
    panel = admin.get("/admin/").text
    assert re.findall(r'id="missed-today".*?</section>', panel, re.S)[0].count("/admin/calls/CA") == 1
    assert "from +12125550147" in text_of(panel) and "+12125550148" not in text_of(panel), "today's only"
    assert listed_calls(admin.get("/admin/calls/?outcome=missed").text) == [MISSED, "CA" + "4" * 32]


def test_the_oncall_panel_says_when_no_call_was_missed_today(admin, calls) -> None:
    assert "No missed calls today." in text_of(admin.get("/admin/").text)


def test_an_unknown_outcome_is_named_and_ignored(admin, calls) -> None:
    response = admin.get("/admin/calls/?outcome=<b>")
    assert "Unknown outcome &#39;&lt;b&gt;&#39;: showing every call." in response.text
    assert listed_calls(response.text) == [VOICEMAIL, CONNECTED]


def test_a_call_shows_every_step_and_who_the_line_rang(admin, calls) -> None:
    page = text_of(admin.get(f"/admin/calls/{CONNECTED}").text)
    assert "Call from +14155550100" in page
    assert "Length 1 min 28 s" in page and "Outcome connected" in page and "Answered by Priya Raman" in page
    assert "Who the line rang, in order Priya Raman +14155550101 accepted the fallback line +14155550999" in page
    steps = ["call_started from +14155550100", "keys main_menu: pressed '1'", "dial ringing Priya Raman +14155550101",
             "whisper Priya Raman: accepted"]
    positions = [page.index(step.replace("'", "&#39;")) for step in steps]
    assert positions == sorted(positions)
    assert "Started Wed 25 Nov, 21:00 EST" in page
    assert "Wed 25 Nov, 21:00:40 EST dial ringing Priya Raman" in page


def test_a_call_links_to_its_ticket(admin, calls) -> None:
    assert 'href="/admin/tickets/10001"' in admin.get(f"/admin/calls/{VOICEMAIL}").text


def test_a_caller_name_holding_a_script_tag_shows_as_text(admin, session, clock) -> None:
    make_call(session, CONNECTED, started_at=clock.now, outcome=None, caller_name="<script>x()</script>",
              from_number="<script>y()</script>")
    session.commit()
    for page in ("/admin/calls/", f"/admin/calls/{CONNECTED}"):
        html = admin.get(page).text
        assert "<script>" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html, page


@pytest.mark.parametrize("call_sid", ["CA404", "x" * 100])
def test_a_missing_call_is_a_404_with_a_message(admin, calls, call_sid: str) -> None:
    response = admin.get(f"/admin/calls/{call_sid}")
    assert response.status_code == 404 and f"There is no call {call_sid}." in response.text
