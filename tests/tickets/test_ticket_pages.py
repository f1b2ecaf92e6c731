"""The admin pages for tickets: the filtered list, each ticket's timeline, voicemail and calls, time left to the
deadline, the outbox rows about a ticket, and the engineer's actions on it (acknowledge, resolve, reopen, note,
callback), each posted with its CSRF token as a browser does."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.models import CallLog
from tests.support import ANA, PRIYA, TOM, FakeClock, Team, add_contact
from tests.support import AdminActions, FieldMarks, field_marks, fresh, text_of
from tickets.models import Notification, Ticket, TicketEvent
from web.pages import duration_words, time_left
from tickets.fields import MAX_NOTE_LENGTH


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


# ----------------------------------------------------------------------------- time left to the deadline


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (timedelta(hours=12), "due in 12 h"),
        (timedelta(hours=1, minutes=20), "due in 1 h 20 min"),
        (timedelta(hours=1, minutes=20, seconds=59), "due in 1 h 20 min"),
        (timedelta(minutes=7), "due in 7 min"),
        (timedelta(seconds=30), "due in less than a minute"),
        (timedelta(0), "due in less than a minute"),
        (timedelta(seconds=-30), "overdue by less than a minute"),
        (timedelta(minutes=-7), "overdue by 7 min"),
        (timedelta(hours=-3), "overdue by 3 h"),
        (timedelta(days=-2, hours=-5, minutes=-40), "overdue by 2 d 5 h"),
        (timedelta(days=3), "due in 3 d"),
    ],
)
def test_time_left_reads_at_a_glance(clock: FakeClock, left: timedelta, words: str) -> None:
    assert time_left(clock.now + left, clock.now) == words


def test_a_duration_is_said_in_days_hours_and_minutes() -> None:
    assert duration_words(timedelta(hours=1, minutes=30)) == "1 h 30 min"
    assert duration_words(timedelta(days=1, minutes=5)) == "1 d"
    assert duration_words(timedelta(seconds=59)) == "less than a minute"


@pytest.mark.parametrize(
    ("later", "words"),
    [
        (timedelta(0), "due in 12 h"),
        (timedelta(hours=10, minutes=40), "due in 1 h 20 min"),
        (timedelta(hours=11, minutes=59, seconds=30), "due in less than a minute"),
        (timedelta(hours=12, minutes=7), "overdue by 7 min"),
        (timedelta(hours=15), "overdue by 3 h"),
        (timedelta(days=2, hours=17), "overdue by 2 d 5 h"),
    ],
)
def test_every_open_ticket_shows_its_time_left_from_the_app_clock(admin, session, clock: FakeClock, later, words) -> None:
    make_ticket(session, 10001, created_at=clock.now)
    session.commit()
    clock.advance(seconds=later.total_seconds())
    assert words in text_of(admin.get("/admin/tickets/").text)
    assert f"First response due Thu 26 Nov, 10:00 EST · {words}" in text_of(admin.get("/admin/tickets/10001").text)


def test_an_answered_or_resolved_ticket_shows_how_it_went_not_a_countdown(admin, tickets, session, clock) -> None:
    late = make_ticket(session, 10004, created_at=clock.now - timedelta(hours=14),
                       first_response_at=clock.now - timedelta(hours=1), responded_by="Tom Berg", status="acknowledged")
    session.commit()
    listed = text_of(admin.get("/admin/tickets/").text)
    assert "answered in time" in listed and "answered late" in listed
    assert "resolved without a response" in listed
    assert listed.count("due in ") == 1  # 10001 only
    assert "answered late" in text_of(admin.get(f"/admin/tickets/{late.number}").text)


# ----------------------------------------------------------------------------- acting on a ticket


def post_on(admin: AdminActions, number: int | str, action: str, data: dict | None = None):
    """Post one of the ticket page's forms with the token the ticket page handed out."""
    return admin.post(f"/admin/tickets/{number}/{action}", data, page="/admin/tickets/10001")


def ticket_now(session: Session, number: int) -> Ticket:
    fresh(session)
    return session.scalar(select(Ticket).where(Ticket.number == number))


def test_acknowledging_an_open_ticket_is_its_first_response(admin, tickets, session, clock) -> None:
    response = post_on(admin, 10001, "acknowledge")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/tickets/10001"
    page = text_of(admin.get("/admin/tickets/10001").text)
    assert "Ticket 10001 acknowledged: first response recorded, the SLA reminders stop." in page
    ticket = ticket_now(session, 10001)
    assert (ticket.status, ticket.first_response_at, ticket.responded_by) == ("acknowledged", clock.now, "admin:maria")
    assert [e.kind for e in ticket.events][-2:] == ["first_response", "acknowledged"]
    assert "acknowledged open → acknowledged by admin:maria" in page


def test_acknowledging_a_reopened_ticket_keeps_its_first_response(admin, tickets, session, clock) -> None:
    tickets[10003].status = "open"
    session.commit()
    clock.advance(minutes=5)
    assert post_on(admin, 10003, "acknowledge").status_code == 302
    assert "Ticket 10003 acknowledged." in text_of(admin.get("/admin/tickets/10003").text)
    assert ticket_now(session, 10003).responded_by == "Priya Raman"


@pytest.mark.parametrize(
    ("number", "action", "message"),
    [
        (10002, "acknowledge", "Not acknowledged: ticket 10002 is resolved; reopen it first."),
        (10003, "acknowledge", "Not acknowledged: ticket 10003 was already acknowledged by Priya Raman."),
        (10002, "resolve", "Not resolved: ticket 10002 is already resolved."),
        (10001, "reopen", "Not reopened: ticket 10001 is not resolved, so there is nothing to reopen."),
    ],
)
def test_an_action_the_tickets_state_does_not_allow_is_refused_and_changes_nothing(
        admin, tickets, session, number: int, action: str, message: str) -> None:
    before = [e.kind for e in ticket_now(session, number).events]
    response = post_on(admin, number, action)
    assert response.status_code == 409
    assert message in text_of(response.text)
    assert f"Ticket {number}" in text_of(response.text)  # the ticket's page again, not a bare error
    assert [e.kind for e in ticket_now(session, number).events] == before


def test_resolving_a_ticket_nobody_answered_is_its_first_response_too(admin, tickets, session, clock) -> None:
    assert post_on(admin, 10001, "resolve").status_code == 302
    assert "Ticket 10001 resolved." in text_of(admin.get("/admin/tickets/10001").text)
    ticket = ticket_now(session, 10001)
    assert (ticket.status, ticket.resolved_at, ticket.first_response_at) == ("resolved", clock.now, clock.now)
    assert ticket.responded_by == "admin:maria"


def test_a_resolved_ticket_can_be_reopened(admin, tickets, session) -> None:
    assert post_on(admin, 10002, "reopen").status_code == 302
    assert "Ticket 10002 reopened." in text_of(admin.get("/admin/tickets/10002").text)
    ticket = ticket_now(session, 10002)
    assert (ticket.status, ticket.resolved_at, ticket.events[-1].kind) == ("open", None, "reopened")


def test_the_page_offers_only_the_actions_that_fit_the_tickets_state(admin, tickets) -> None:
    open_page, resolved_page = admin.get("/admin/tickets/10001").text, admin.get("/admin/tickets/10002").text
    assert "/10001/acknowledge" in open_page and "/10001/resolve" in open_page and "/10001/reopen" not in open_page
    assert "/10002/reopen" in resolved_page and "/10002/acknowledge" not in resolved_page
    assert "/10002/resolve" not in resolved_page


def test_an_engineer_adds_a_note_to_the_timeline(admin, tickets, session, clock) -> None:
    response = post_on(admin, 10001, "notes", {"note": "  Restarted the checkout service; watching it.  "})
    assert response.status_code == 302
    page = text_of(admin.get("/admin/tickets/10001").text)
    assert "Note added to ticket 10001." in page
    assert "note admin:maria: Restarted the checkout service; watching it." in page
    event = ticket_now(session, 10001).events[-1]
    assert (event.kind, event.at) == ("note", clock.now)
    assert ticket_now(session, 10001).status == "open"  # a note is not a response to the customer


def test_a_refused_note_is_marked_invalid_with_its_reason_next_to_it(admin, tickets) -> None:
    html = post_on(admin, 10001, "notes", {"note": "   "}).text
    assert field_marks(html, "note") == FieldMarks(True, ["note-hint", "note-error"],
                                                   "The note is empty; write what was done or found.")


def test_a_note_holding_a_script_tag_shows_as_text(admin, tickets) -> None:
    post_on(admin, 10001, "notes", {"note": "<script>alert('x')</script>"})
    html = admin.get("/admin/tickets/10001").text
    assert "<script>" not in html
    assert "admin:maria: &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("", "Note not added: the note is empty; write what was done or found."),
        ("   \n ", "Note not added: the note is empty; write what was done or found."),
        ("x" * (MAX_NOTE_LENGTH + 1), f"Note not added: a note may be at most {MAX_NOTE_LENGTH} characters; "
                                      f"this one has {MAX_NOTE_LENGTH + 1}."),
        ("a\x00b", "Note not added: the note must not contain NUL characters or unpaired surrogates."),
    ],
)
def test_an_empty_or_too_long_note_is_refused_and_kept_in_the_box(admin, tickets, session, note: str, message) -> None:
    response = post_on(admin, 10001, "notes", {"note": note})
    assert response.status_code == 422
    assert message in text_of(response.text)
    assert "note" not in [e.kind for e in ticket_now(session, 10001).events]
    if note.strip() and "\x00" not in note:
        assert f">{note}</textarea>" in response.text


def test_a_note_on_a_resolved_ticket_is_welcome(admin, tickets, session) -> None:
    assert post_on(admin, 10002, "notes", {"note": "Root cause: expired certificate."}).status_code == 302
    assert ticket_now(session, 10002).events[-1].detail == "admin:maria: Root cause: expired certificate."


# ----------------------------------------------------------------------------- engineer callback


CUSTOMER = "+14155550100"


@pytest.fixture
def callback_ticket(tickets, session) -> Ticket:
    """Ticket 10001 with a number to call back."""
    tickets[10001].callback_number = CUSTOMER
    session.commit()
    return tickets[10001]


def callbacks(session: Session) -> list[Notification]:
    fresh(session)
    return session.scalars(select(Notification).where(Notification.kind == "callback")).all()


def test_the_callback_form_rings_the_engineer_on_duty_by_default(admin, callback_ticket, team: Team) -> None:
    html = admin.get("/admin/tickets/10001").text
    assert re.search(rf'<option value="{team.priya.id}"\s+selected>Priya Raman \(\+14155550101\)</option>', html)
    assert f"it calls the customer at {CUSTOMER} from the support number" in text_of(html)


def test_starting_a_callback_queues_a_call_to_the_chosen_engineer(admin, callback_ticket, team: Team, session,
                                                                  clock) -> None:
    response = post_on(admin, 10001, "callback", {"contact_id": str(team.tom.id)})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/tickets/10001"
    page = text_of(admin.get("/admin/tickets/10001").text)
    assert f"Callback queued: the line will ring Tom Berg at {TOM}, then the customer at {CUSTOMER}." in page
    [call] = callbacks(session)
    assert (call.to_number, call.recipient, call.channel, call.status, call.created_at) == (
        TOM, "Tom Berg", "call", "pending", clock.now)
    assert call.ticket_id == callback_ticket.id
    assert f"callback Tom Berg {TOM} call queued 0" in page, "the notifications list: queued, not yet a call"
    assert (f"callback_requested admin:maria asked the line to ring Tom Berg at {TOM}, then the customer at "
            f"{CUSTOMER}") in page
    ticket = ticket_now(session, 10001)
    assert (ticket.status, ticket.first_response_at) == ("open", None)  # the customer is not reached yet


def test_a_second_click_while_the_callback_waits_queues_nothing_more(admin, callback_ticket, team: Team, session) -> None:
    assert post_on(admin, 10001, "callback", {"contact_id": str(team.priya.id)}).status_code == 302
    again = post_on(admin, 10001, "callback", {"contact_id": str(team.priya.id)})
    assert again.status_code == 409
    assert ("No callback: a callback to Priya Raman for ticket 10001 is already waiting to be placed"
            in text_of(again.text))
    assert len(callbacks(session)) == 1
    # Another engineer may still be rung.
    assert post_on(admin, 10001, "callback", {"contact_id": str(team.ana.id)}).status_code == 302
    assert sorted(c.to_number for c in callbacks(session)) == [PRIYA, ANA]


def test_a_ticket_without_a_callback_number_cannot_be_called_back(admin, tickets, team: Team, session) -> None:
    page = text_of(admin.get("/admin/tickets/10001").text)
    assert "No callback number on this ticket, so there is nobody to call back." in page
    response = post_on(admin, 10001, "callback", {"contact_id": str(team.priya.id)})
    assert response.status_code == 409
    assert "No callback: ticket 10001 has no callback number, so there is nobody to call back." in text_of(response.text)
    assert callbacks(session) == []


def test_a_resolved_ticket_cannot_be_called_back(admin, tickets, team: Team, session) -> None:
    tickets[10002].callback_number = CUSTOMER
    session.commit()
    response = post_on(admin, 10002, "callback", {"contact_id": str(team.priya.id)})
    assert response.status_code == 409
    assert "No callback: ticket 10002 is resolved; reopen it first." in text_of(response.text)
    assert callbacks(session) == []


@pytest.mark.parametrize("contact", ["", "99999", "abc", "1" * 40, "inactive"])
def test_an_unknown_or_inactive_contact_is_refused(admin, callback_ticket, team: Team, session, contact: str) -> None:
    if contact == "inactive":
        contact = str(add_contact(session, "Old Hand", "+14155550109", active=False).id)
        session.commit()
    response = post_on(admin, 10001, "callback", {"contact_id": contact})
    assert response.status_code == 422
    expected = "choose the engineer the line should ring first" if not contact else "there is no active contact"
    assert f"No callback: {expected}" in text_of(response.text)
    assert callbacks(session) == []


def test_a_contact_whose_phone_cannot_be_called_is_refused(admin, callback_ticket, session) -> None:
    broken = add_contact(session, "Sam Broken", "555-01")
    session.commit()
    response = post_on(admin, 10001, "callback", {"contact_id": str(broken.id)})
    assert response.status_code == 422
    assert "No callback: Sam Broken&#39;s phone number &#39;555-01&#39; cannot be called" in response.text
    assert callbacks(session) == []


# ----------------------------------------------------------------------------- refusals before any action


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "reopen", "notes", "callback"])
def test_an_action_on_an_unknown_ticket_is_a_404(admin, tickets, action: str) -> None:
    for number in ("99999", "abc"):
        response = post_on(admin, number, action, {"note": "hello", "contact_id": "1"})
        assert response.status_code == 404
        assert f"There is no ticket {number}." in response.text


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "notes", "callback"])
def test_an_action_posted_without_its_csrf_token_is_refused_and_changes_nothing(admin, callback_ticket, team,
                                                                               session, action: str) -> None:
    for token in ({}, {"csrf_token": "forged"}):
        response = admin.client.post(f"/admin/tickets/10001/{action}",
                                     data={**token, "note": "hi", "contact_id": str(team.priya.id)})
        assert response.status_code == 400
        assert "This form was refused" in response.text
    ticket = ticket_now(session, 10001)
    assert (ticket.status, [e.kind for e in ticket.events]) == ("open", ["created"])
    assert callbacks(session) == []


def test_an_action_by_a_visitor_who_is_not_logged_in_goes_to_the_login_page(client, admin_user, tickets, session) -> None:
    response = AdminActions(client).post("/admin/tickets/10001/resolve")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
    assert ticket_now(session, 10001).status == "open"


# ----------------------------------------------------------------------------- the ticket's notifications


def test_the_ticket_lists_every_message_about_it_with_a_failure_and_its_error(admin, tickets, session, clock) -> None:
    now = clock.now
    session.add_all([
        Notification(ticket_id=tickets[10001].id, to_number=PRIYA, recipient="Priya Raman", channel="sms",
                     kind="new_ticket", status="sent", attempts=1, body="New critical ticket 10001",
                     created_at=now - timedelta(hours=3), next_attempt_at=now - timedelta(hours=3),
                     sent_at=now - timedelta(hours=3) + timedelta(seconds=4), provider_sid="SM" + "f" * 32),
        Notification(ticket_id=tickets[10001].id, to_number="+14155550666", recipient="Tom Berg", channel="sms",
                     kind="sla_50", status="failed", attempts=1, body="Ticket 10001 has had no response",
                     created_at=now - timedelta(hours=2), next_attempt_at=now - timedelta(hours=2),
                     last_error="Twilio answered 400: The 'To' number +14155550666 is not a valid mobile number"),
        Notification(ticket_id=tickets[10003].id, to_number=ANA, recipient="Ana Souza", channel="sms",
                     kind="new_ticket", status="sent", attempts=1, body="New normal ticket 10003",
                     created_at=now, next_attempt_at=now),
    ])
    session.commit()
    html = admin.get("/admin/tickets/10001").text
    section = text_of(html[html.index('id="notifications"'):])
    assert (f"new_ticket Priya Raman {PRIYA} sms sent 1 Wed 25 Nov, 19:00:00 EST Wed 25 Nov, 19:00:04 EST "
            f"SM{'f' * 32} —") in section
    assert ("sla_50 Tom Berg +14155550666 sms failed 1 Wed 25 Nov, 20:00:00 EST — — "
            "Twilio answered 400: The &#39;To&#39; number +14155550666 is not a valid mobile number") in section
    assert '<span class="badge problem">failed</span>' in html
    assert "Ana Souza" not in section  # another ticket's message


def test_a_ticket_without_messages_says_so(admin, tickets) -> None:
    assert "No message about this ticket has been queued." in text_of(admin.get("/admin/tickets/10002").text)


def test_a_message_waiting_for_a_retry_shows_when_it_is_tried_next(admin, tickets, session, clock) -> None:
    session.add(Notification(ticket_id=tickets[10001].id, to_number=PRIYA, recipient="Priya Raman", channel="sms",
                             kind="sla_80", status="pending", attempts=2, body="…", created_at=clock.now,
                             next_attempt_at=clock.now + timedelta(minutes=1), last_error="Twilio answered 503"))
    session.commit()
    section = text_of(admin.get("/admin/tickets/10001").text)
    assert "pending next try Wed 25 Nov, 22:01 EST 2" in section and "Twilio answered 503" in section


def test_a_text_printed_without_twilio_and_one_not_needed_are_not_shown_as_failures(admin, callback_ticket,
                                                                                     session, clock) -> None:
    from tickets.models import Notification
    from tickets.outbox import NOT_SENT_ANSWERED, NOT_SENT_WITHOUT_TWILIO

    for kind, error in [("new_ticket", NOT_SENT_WITHOUT_TWILIO), ("sla_50", NOT_SENT_ANSWERED),
                        ("sla_80", "Twilio refused: 21211 invalid 'To' number")]:
        session.add(Notification(ticket_id=callback_ticket.id, to_number=TOM, recipient="Tom Berg", channel="sms",
                                 kind=kind, body="…", status="failed", attempts=1, last_error=error,
                                 created_at=clock.now, next_attempt_at=clock.now))
    session.commit()
    html = admin.get("/admin/tickets/10001").text
    page = text_of(html)
    assert "new_ticket Tom Berg +14155550102 sms printed (no Twilio account)" in page
    assert "sla_50 Tom Berg +14155550102 sms not needed (answered)" in page
    assert "sla_80 Tom Berg +14155550102 sms failed" in page
    assert html.count('class="badge problem">failed<') == 1, "only the real failure is marked as a problem"
