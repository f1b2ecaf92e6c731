"""Logging and following tickets on the portal: what a person files, sees and does, and what they
never see (contract §9: another's ticket is a 404, internal notes never show)."""

from __future__ import annotations

import io
import re

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from oncall.service import duty_at
from people.models import Person
from tests.portal.conftest import Cast, sign_in_path
from tests.support import PRIYA, FakeClock, Team, csrf_token, field_marks, fresh, text_of
from tickets import requesters, service
from tickets.models import Comment, Notification, Ticket
from tickets.sla import BusinessCalendar

REQUEST = {"severity": "high", "subject": "Exports fail", "description": "Every CSV export stops at 99 %.",
           "callback_number": "(212) 555-0147"}


def _file(visitor, data: dict, files: list[tuple[bytes, str]] = (), page: str = "/support/new"):
    payload = {**data}
    if files:
        payload["files"] = [(io.BytesIO(content), name) for content, name in files]
    return visitor.post("/support/new", payload, page=page, content_type="multipart/form-data")


def _ticket(session: Session, number: int) -> Ticket:
    fresh(session)
    found = session.scalar(select(Ticket).where(Ticket.number == number))
    assert found is not None
    return found


def _open_for(session: Session, person: Person, clock: FakeClock, subject: str = "Login page is slow",
              **changes) -> Ticket:
    """A ticket `person` filed, as the portal files it."""
    calendar = BusinessCalendar("America/New_York", "US")
    ticket = requesters.log_request(session, {"severity": "normal", "subject": subject, "description": "It is.",
                                              **changes}, [], requester=person,
                                    organization_id=person.organization_id, region="US", calendar=calendar,
                                    now=clock.now, duty=duty_at(session, clock.now), max_bytes=10_000_000)
    return ticket


def test_a_signed_in_person_logs_a_request_with_a_file(signed_in, cast: Cast, team: Team, session: Session,
                                                       clock: FakeClock) -> None:
    lena = signed_in(cast.lena)
    form = lena.get("/support/new").text
    assert "Major functionality issue that impacts Customer business operation and no workaround is available." in form
    assert "response within 6 hours" in text_of(form) and "response within 2 business days" in text_of(form)

    answer = _file(lena, REQUEST, [(b"2026-11-26 export aborted\n", "export.log")])
    assert answer.status_code == 200, answer.text
    page = text_of(answer.text)
    assert "Your ticket number is 10001" in page
    assert "support responds within 6 hours, by Thu 26 Nov, 04:00 EST" in page  # 09:00 UTC + 6 h, in New York

    ticket = _ticket(session, 10001)
    assert (ticket.source, ticket.severity, ticket.reported_severity, ticket.subject) == ("web", "high", "high",
                                                                                          "Exports fail")
    assert ticket.requester_id == cast.lena.id and ticket.organization_id == cast.acme.id
    assert ticket.callback_number == "+12125550147"
    first = ticket.comments[0]
    assert (first.channel, first.public, first.body) == ("web", True, "Every CSV export stops at 99 %.")
    assert [(a.filename, a.size) for a in first.attachments] == [("export.log", 26)]
    text = session.scalar(select(Notification).where(Notification.kind == "new_ticket"))
    assert text.to_number == PRIYA and "New high ticket 10001 opened via web" in text.body

    mine = text_of(lena.get("/support/tickets").text)
    assert "10001 Exports fail" in mine
    shown = lena.get("/support/tickets/10001")
    assert "export.log" in shown.text
    link = re.search(r'href="(/support/tickets/10001/attachments/\d+)"', shown.text).group(1)
    download = lena.get(link)
    assert download.data == b"2026-11-26 export aborted\n"
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_a_request_with_what_is_missing_is_answered_next_to_each_field(signed_in, cast: Cast, team: Team,
                                                                       session: Session) -> None:
    lena = signed_in(cast.lena)
    for change, field, words in [({"severity": ""}, "severity-critical", "severity"),
                                 ({"subject": " "}, "subject", "the subject is empty"),
                                 ({"description": ""}, "description", "the description is empty"),
                                 ({"callback_number": "555"}, "callback_number", "not a valid phone number")]:
        answer = _file(lena, {**REQUEST, **change})
        assert answer.status_code == 422, change
        if field == "severity-critical":
            assert "severity" in text_of(answer.text).lower()
        else:
            marks = field_marks(answer.text, field)
            assert marks.invalid and words in (marks.message or "").lower(), (change, marks)
        assert "Exports fail" in answer.text or change.get("subject"), "what they typed stays in the form"
    fresh(session)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_files_past_the_mail_limit_are_refused_with_the_limit(make_app, cast: Cast, team: Team, session: Session,
                                                              visitor) -> None:
    from tests.portal.conftest import PORTAL_BASE, SUPPORT, Visitor

    small = make_app(MAIL_FROM=SUPPORT, PUBLIC_URL=PORTAL_BASE, MAIL_MAX_MESSAGE_BYTES="1000")
    lena = Visitor(small.test_client(), session)
    lena.sign_in(cast.lena)
    answer = _file(lena, REQUEST, [(b"x" * 1500, "big.bin")])
    assert answer.status_code == 422
    assert field_marks(answer.text, "files").message == ("The files add up to 1.5 kB; at most 1 kB go with one "
                                                         "message.")
    assert "up to 10 files, 1 kB in all" in text_of(answer.text)
    # Built here as bytes: the test client would spool a large form to a temporary file the refusal never reads.
    boundary, body = encode_multipart({**REQUEST, "csrf_token": csrf_token(lena.get("/support/new").text),
                                       "files": FileStorage(io.BytesIO(b"x" * 1_200_000), "huge.bin")})
    huge = lena.client.post("/support/new", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert huge.status_code == 413 and "too large" in text_of(huge.text)
    fresh(session)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_visitor_logs_a_request_and_follows_it_by_the_mailed_link(visitor, cast: Cast, team: Team,
                                                                     session: Session) -> None:
    guest = visitor()
    answer = _file(guest, {**REQUEST, "name": "Rosa Diaz", "email": "rosa@initech.example"})
    assert answer.status_code == 200
    page = text_of(answer.text)
    assert "Your ticket number is 10001" in page and "mailed to rosa@initech.example" in page
    assert "Every CSV export" not in page
    rosa = session.scalar(select(Person).where(Person.email == "rosa@initech.example"))
    assert rosa.flagged and rosa.organization_id is None and rosa.name == "Rosa Diaz"
    assert _ticket(session, 10001).requester_id == rosa.id

    # Nobody reads it by knowing the address: the link goes to the address.
    assert guest.get("/support/tickets/10001").status_code == 302
    followed = guest.use(sign_in_path(session, "rosa@initech.example"))
    assert followed.headers["Location"] == "/support/tickets/10001"
    assert "Every CSV export stops at 99 %." in guest.get("/support/tickets/10001").text


def test_a_visitor_must_give_a_name_and_an_address(visitor, cast: Cast, team: Team, session: Session) -> None:
    answer = _file(visitor(), {**REQUEST, "name": "", "email": "rosa@initech.example"})
    assert answer.status_code == 422 and field_marks(answer.text, "name").invalid
    answer = _file(visitor(), {**REQUEST, "name": "Rosa", "email": "rosa"})
    assert answer.status_code == 422 and field_marks(answer.text, "email").invalid
    fresh(session)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_visitors_requests_are_throttled(visitor, cast: Cast, team: Team) -> None:
    guest = visitor()
    for n in range(5):
        assert _file(guest, {**REQUEST, "name": "Rosa", "email": "rosa@initech.example"}).status_code == 200, n
    held = _file(guest, {**REQUEST, "name": "Rosa", "email": "rosa@initech.example"})
    assert held.status_code == 429 and "Too many requests" in text_of(held.text)
    assert 'value="Exports fail"' in held.text, "what they typed stays in the form"


def test_a_partner_files_for_a_customer_it_manages_and_sees_whom_each_is_for(signed_in, cast: Cast, team: Team,
                                                                             session: Session) -> None:
    nina = signed_in(cast.nina)
    form = nina.get("/support/new").text
    assert "Acme Corp" in form and "Globex" not in form
    assert _file(nina, {**REQUEST, "organization_id": str(cast.acme.id)}).status_code == 200
    assert _ticket(session, 10001).organization_id == cast.acme.id
    refused = _file(nina, {**REQUEST, "organization_id": str(cast.globex.id)})
    assert refused.status_code == 422 and field_marks(refused.text, "organization_id").invalid
    assert _file(nina, REQUEST).status_code == 200
    assert _ticket(session, 10002).organization_id == cast.northwind.id

    listing = text_of(nina.get("/support/tickets").text)
    assert "For" in listing and "Acme Corp" in listing and "Northwind Partners" in listing
    # The customer's organisation admin sees the ticket the partner filed for them.
    assert "Exports fail" in signed_in(cast.otto).get("/support/tickets/10001").text


@pytest.mark.parametrize("who, sees", [
    ("lena", {"LenaT", "Copied"}),
    ("otto", {"LenaT", "OttoT", "Copied"}),
    ("gus", {"GusT"}),
    ("nina", {"LenaT", "OttoT", "Copied"}),
])
def test_each_person_sees_the_tickets_contract_9_gives_them(signed_in, cast: Cast, team: Team, session: Session,
                                                           clock: FakeClock, who: str, sees: set[str]) -> None:
    from mail.models import InboundMail

    _open_for(session, cast.lena, clock, "LenaT")
    _open_for(session, cast.otto, clock, "OttoT")
    _open_for(session, cast.gus, clock, "GusT")
    copied = _open_for(session, cast.otto, clock, "Copied")
    session.add(InboundMail(message_key="c" * 64, message_id="<c@acme.example>", received_via="smtp", raw=b"",
                            received_at=clock.now, status="filed", ticket_id=copied.id,
                            addresses="\notto@acme.example\nlena@acme.example\n"))
    session.commit()
    person = getattr(cast, who)
    browser = signed_in(person)
    listing = text_of(browser.get("/support/tickets").text)
    subjects = {"LenaT", "OttoT", "GusT", "Copied"}
    assert {s for s in subjects if f" {s} " in f" {listing} "} == sees
    for number, subject in zip(range(10001, 10005), ["LenaT", "OttoT", "GusT", "Copied"]):
        assert browser.get(f"/support/tickets/{number}").status_code == (200 if subject in sees else 404)


def test_another_organisations_ticket_is_a_404_to_read_comment_rate_or_download(
        signed_in, cast: Cast, team: Team, session: Session, clock: FakeClock) -> None:
    lena = signed_in(cast.lena)
    assert _file(lena, REQUEST, [(b"secret log", "secret.log")]).status_code == 200
    attachment = _ticket(session, 10001).comments[0].attachments[0].id
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    gus = signed_in(cast.gus)
    missing = gus.get("/support/tickets/10001")
    assert missing.status_code == 404 and "Exports fail" not in missing.text
    assert gus.get("/support/tickets/10099").text == missing.text, "another's ticket looks like none"
    assert gus.get(f"/support/tickets/10001/attachments/{attachment}").status_code == 404
    for path, data in [("/support/tickets/10001/comments", {"body": "mine now"}),
                       ("/support/tickets/10001/resolution", {"answer": "confirm"}),
                       ("/support/tickets/10001/resolution", {"answer": "reopen", "why": "no"}),
                       ("/support/tickets/10001/satisfaction", {"answer": "no", "remark": "bad"})]:
        assert gus.post(path, data, page="/support/tickets").status_code == 404, path
    ticket = _ticket(session, 10001)
    assert ticket.status == "resolved" and ticket.satisfaction is None and len(ticket.comments) == 1


def test_markup_in_every_field_shows_as_text(signed_in, visitor, cast: Cast, team: Team, session: Session,
                                             clock: FakeClock) -> None:
    lena = signed_in(cast.lena)
    script = "<script>alert(1)</script><b>x</b>"
    assert _file(lena, {**REQUEST, "subject": script, "description": script},
                 [(b"x", f"{script}.txt")]).status_code == 200
    lena.post("/support/tickets/10001/comments", {"body": script}, page="/support/tickets/10001")
    fresh(session)
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    lena.post("/support/tickets/10001/satisfaction", {"answer": "no", "remark": script}, page="/support/tickets/10001")
    # A visitor's name shows on the tickets of their organisation's admin once they are placed in it.
    guest = visitor()
    _file(guest, {**REQUEST, "name": script, "email": "mallory@acme.example"})
    fresh(session)
    mallory = session.scalar(select(Person).where(Person.email == "mallory@acme.example"))
    mallory.organization_id = cast.acme.id
    session.execute(update(Ticket).where(Ticket.requester_id == mallory.id).values(organization_id=cast.acme.id))
    session.commit()
    pages = [(lena, "/support/tickets"), (lena, "/support/tickets/10001"), (signed_in(cast.otto), "/support/tickets"),
             (signed_in(cast.otto), "/support/tickets/10002")]
    for browser, path in pages:
        html = browser.get(path).text
        assert "<script>alert(1)" not in html and "<b>x</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


def test_the_conversation_shows_replies_but_never_internal_notes(signed_in, cast: Cast, team: Team,
                                                                 session: Session, clock: FakeClock) -> None:
    _open_for(session, cast.lena, clock)
    service.add_note(session, "10001", "Customer is on the old build; do not tell them yet.", now=clock.now,
                     actor="admin:maria")
    service.reply_to_customer(session, "10001", "Please send us the server log.", now=clock.now, actor="admin:maria",
                              channel="web", mail=None)
    page = text_of(signed_in(cast.lena).get("/support/tickets/10001").text)
    assert "Please send us the server log." in page and "Support (maria)" in page
    assert "old build" not in page
    assert "Met: maria responded" in page


def test_a_phone_tickets_summary_shows_and_its_recording_only_to_the_caller(signed_in, cast: Cast, team: Team,
                                                                            session: Session,
                                                                            clock: FakeClock) -> None:
    from tickets.records import open_ticket
    from tickets.sla import Severity

    ticket = open_ticket(session, severity=Severity.HIGH, source="phone", now=clock.now,
                         calendar=BusinessCalendar("America/New_York", "US"), caller_number="+12125550147",
                         callback_number="+12125550147", call_sid="CA" + "1" * 32, requester_id=cast.lena.id)
    ticket.recording_url = "https://api.twilio.com/recordings/RE1"
    ticket.transcript = "The export is broken again."
    session.commit()
    lena_page = signed_in(cast.lena).get("/support/tickets/10001").text
    assert "Voicemail: The export is broken again." in lena_page and "RE1" in lena_page
    otto_page = signed_in(cast.otto).get("/support/tickets/10001").text
    assert "Voicemail: The export is broken again." in otto_page and "RE1" not in otto_page


def test_the_requester_confirms_a_resolution_and_the_ticket_closes(signed_in, cast: Cast, team: Team,
                                                                   session: Session, clock: FakeClock) -> None:
    _open_for(session, cast.lena, clock)
    lena = signed_in(cast.lena)
    assert "Is it resolved for you?" not in lena.get("/support/tickets/10001").text
    fresh(session)
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    assert "Is it resolved for you?" in lena.get("/support/tickets/10001").text
    answer = lena.post("/support/tickets/10001/resolution", {"answer": "confirm"}, page="/support/tickets/10001")
    assert answer.status_code == 302
    ticket = _ticket(session, 10001)
    assert ticket.status == "closed" and ticket.resolved_at is not None
    assert ticket.events[-1].kind == "closed" and "confirmed" in ticket.events[-1].detail
    page = text_of(lena.get("/support/tickets/10001").text)
    assert "This ticket is closed" in page
    late = lena.post("/support/tickets/10001/comments", {"body": "one more thing"}, page="/support/tickets/10001")
    assert late.status_code == 409 and "log a new request" in text_of(late.text)


def test_saying_it_is_not_resolved_reopens_it_and_texts_the_engineer(signed_in, cast: Cast, team: Team,
                                                                    session: Session, clock: FakeClock) -> None:
    _open_for(session, cast.lena, clock)
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    lena = signed_in(cast.lena)
    answer = lena.post("/support/tickets/10001/resolution", {"answer": "reopen", "why": "Still fails at 99 %."},
                       page="/support/tickets/10001")
    assert answer.status_code == 302
    ticket = _ticket(session, 10001)
    assert ticket.status == "open" and ticket.resolved_at is None
    assert ticket.comments[-1].body == "Still fails at 99 %." and ticket.comments[-1].channel == "web"
    text = session.scalar(select(Notification).where(Notification.kind == "reopened"))
    assert text.to_number == PRIYA
    assert text.body == ('Ticket 10001 (normal) reopened: Lena Fischer says it is not resolved. "Still fails at 99 %." '
                         'Reply ACK 10001 or CALL 10001.')
    twice = lena.post("/support/tickets/10001/resolution", {"answer": "reopen"}, page="/support/tickets/10001")
    assert twice.status_code == 409


def test_the_requester_rates_a_resolved_ticket_on_its_page(signed_in, cast: Cast, team: Team, session: Session,
                                                          clock: FakeClock) -> None:
    _open_for(session, cast.lena, clock)
    lena = signed_in(cast.lena)
    early = lena.post("/support/tickets/10001/satisfaction", {"answer": "yes"}, page="/support/tickets/10001")
    assert early.status_code == 409
    fresh(session)
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    assert "Was it resolved to your satisfaction?" in lena.get("/support/tickets/10001").text
    assert "Was it resolved to your satisfaction?" not in signed_in(cast.otto).get("/support/tickets/10001").text
    refused = lena.post("/support/tickets/10001/satisfaction", {"answer": "maybe"}, page="/support/tickets/10001")
    assert refused.status_code == 422
    lena.post("/support/tickets/10001/satisfaction", {"answer": "no", "remark": "Took three days."},
              page="/support/tickets/10001")
    ticket = _ticket(session, 10001)
    assert (ticket.satisfaction, ticket.satisfaction_comment, ticket.satisfaction_at) == ("no", "Took three days.",
                                                                                          clock.now)
    assert "Satisfied no: Took three days." in text_of(lena.get("/support/tickets/10001").text)


def test_my_tickets_lists_open_ones_first_and_filters_by_status(signed_in, cast: Cast, team: Team,
                                                               session: Session, clock: FakeClock) -> None:
    _open_for(session, cast.lena, clock, "Oldest, open")
    clock.advance(hours=1)
    _open_for(session, cast.lena, clock, "Resolved one")
    service.resolve_ticket(session, "10002", now=clock.now, actor="admin:maria")
    clock.advance(hours=1)
    _open_for(session, cast.lena, clock, "Newest, open")
    lena = signed_in(cast.lena)
    listing = text_of(lena.get("/support/tickets").text)
    assert listing.index("Newest, open") < listing.index("Oldest, open") < listing.index("Resolved one")
    only = text_of(lena.get("/support/tickets?status=resolved").text)
    assert "Resolved one" in only and "open" not in only.split("Opened", 1)[1].replace("Resolved one", "")
    bad = lena.get("/support/tickets?status=pending")
    assert bad.status_code == 200 and "There is no status" in text_of(bad.text)


def test_a_resolved_ticket_nobody_answers_is_closed_after_auto_close_days(cast: Cast, team: Team, session: Session,
                                                                         clock: FakeClock) -> None:
    _open_for(session, cast.lena, clock, "Old")
    _open_for(session, cast.lena, clock, "Recent")
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    clock.advance(days=2)
    service.resolve_ticket(session, "10002", now=clock.now, actor="admin:maria")
    clock.advance(days=5, seconds=1)
    assert requesters.close_unanswered(session, clock.now, 7) == 1
    assert _ticket(session, 10001).status == "closed" and _ticket(session, 10002).status == "resolved"
    assert "nobody answered in the 7 days" in _ticket(session, 10001).events[-1].detail


def test_the_worker_closes_by_the_configured_auto_close_days(make_app, cast: Cast, team: Team, session: Session,
                                                            clock: FakeClock) -> None:
    from tickets.outbox import ConsoleMailSender, ConsoleSender
    from tickets.worker import run_once

    app = make_app(AUTO_CLOSE_DAYS="2")
    _open_for(session, cast.lena, clock)
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    clock.advance(days=2, minutes=1)
    with app.app_context():
        run_once(ConsoleSender(lambda _: None), ConsoleMailSender(lambda _: None))
    assert _ticket(session, 10001).status == "closed"


def test_engineers_cannot_change_a_closed_ticket(cast: Cast, team: Team, session: Session, clock: FakeClock) -> None:
    from tickets.fields import TicketConflict

    _open_for(session, cast.lena, clock)
    with pytest.raises(TicketConflict, match="only a resolved ticket can be closed"):
        service.update_ticket(session, "10001", {"status": "closed"}, region="US",
                              calendar=BusinessCalendar("America/New_York", "US"), now=clock.now, actor="api")
    session.rollback()
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    service.update_ticket(session, "10001", {"status": "closed"}, region="US",
                          calendar=BusinessCalendar("America/New_York", "US"), now=clock.now, actor="api")
    for act in (lambda: service.reopen_ticket(session, "10001", now=clock.now, actor="x"),
                lambda: service.resolve_ticket(session, "10001", now=clock.now, actor="x")):
        with pytest.raises(TicketConflict, match="is closed"):
            act()
        session.rollback()
    assert _ticket(session, 10001).status == "closed"
    assert session.scalar(select(func.count()).select_from(Comment)) == 1


def test_my_tickets_pages_through_the_open_then_the_rest(signed_in, cast: Cast, team: Team, session: Session,
                                                        clock: FakeClock) -> None:
    for n in range(25):
        clock.advance(minutes=1)
        _open_for(session, cast.lena, clock, f"T{n:02d}")
        if n % 2:
            service.resolve_ticket(session, str(10001 + n), now=clock.now, actor="admin:maria")
    lena = signed_in(cast.lena)
    first, second = (text_of(lena.get(f"/support/tickets?page={p}").text) for p in (1, 2))
    shown = [re.findall(r"\bT\d\d\b", page) for page in (first, second)]
    still_open = [f"T{n:02d}" for n in range(24, -1, -1) if n % 2 == 0]
    resolved = [f"T{n:02d}" for n in range(24, -1, -1) if n % 2]
    assert shown[0] + shown[1] == still_open + resolved
    assert len(shown[0]) == 20 and "Older →" in first and "← Newer" in second and "Older →" not in second
