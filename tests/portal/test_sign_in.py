"""Signing in with a one-time mailed link: who gets one, what it opens, what refuses it, and the
portal's own session and throttles."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from itsdangerous import URLSafeSerializer

from people.service import update_person
from tests.portal.conftest import PORTAL_BASE, Cast, sign_in_path
from tests.support import FakeClock, fresh, text_of
from tickets.models import Notification


def _sign_in_mails(session: Session) -> int:
    fresh(session)
    return session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "sign_in")) or 0


def test_a_known_address_gets_a_link_that_signs_in_once(visitor, cast: Cast, session: Session) -> None:
    browser = visitor()
    answer = browser.ask_for_link("Lena@Acme.example")
    assert answer.status_code == 200 and "a sign-in link is on its way" in text_of(answer.text)
    path = sign_in_path(session, "lena@acme.example")
    mail = session.scalar(select(Notification).where(Notification.kind == "sign_in"))
    assert mail.channel == "email" and mail.ticket_id is None and "works once, within 15 minutes" in mail.body
    assert mail.subject == "Your sign-in link to support"
    assert mail.body.count(PORTAL_BASE) == 1

    # Opening the link only shows a button: a mail scanner that fetches links signs nobody in.
    page = browser.get(path)
    assert page.status_code == 200 and "Sign in as lena@acme.example" in text_of(page.text)
    assert browser.get("/support/tickets").status_code == 302
    signed = browser.use(path)
    assert signed.status_code == 302 and signed.headers["Location"] == "/support/tickets"
    mine = browser.get("/support/tickets")
    assert mine.status_code == 200 and "Lena Fischer · Acme Corp" in text_of(mine.text)

    again = visitor().use(path)
    assert again.status_code == 400 and "used already" in text_of(again.text)


def test_the_sign_in_mail_goes_out_marked_automatic(visitor, cast: Cast, session: Session, app, outgoing) -> None:
    from tickets.outbox import ConsoleSender, SmtpSender
    from tickets.worker import run_once

    server, url = outgoing
    visitor().ask_for_link("lena@acme.example")
    with app.app_context():
        run_once(ConsoleSender(lambda _: None), SmtpSender(url))
    [mail] = server.received
    assert (mail["To"], mail["Subject"], mail["Auto-Submitted"]) == (
        "Lena Fischer <lena@acme.example>", "Your sign-in link to support", "auto-generated")
    assert f"{PORTAL_BASE}/support/sign-in/" in mail.get_content()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(visitor, cast: Cast, session: Session) -> None:
    known = visitor().ask_for_link("lena@acme.example")
    unknown = visitor().ask_for_link("nobody@acme.example")
    assert unknown.status_code == known.status_code == 200
    assert text_of(unknown.text).replace("nobody@acme.example", "X") == text_of(known.text).replace(
        "lena@acme.example", "X")
    assert _sign_in_mails(session) == 1


def test_a_link_comes_back_to_the_page_that_asked_for_it(visitor, cast: Cast, session: Session) -> None:
    browser = visitor()
    asked = browser.get("/support/tickets/10001")
    assert asked.status_code == 302 and asked.headers["Location"] == "/support?next=/support/tickets/10001"
    browser.ask_for_link("lena@acme.example", next="/support/tickets/10001")
    assert browser.use(sign_in_path(session, "lena@acme.example")).headers["Location"] == "/support/tickets/10001"


def test_a_signed_in_person_asked_to_sign_in_goes_straight_where_they_were_going(signed_in, cast: Cast) -> None:
    lena = signed_in(cast.lena)
    assert lena.get("/support?next=/support/new").headers["Location"] == "/support/new"
    assert lena.get("/support?next=https://evil.example/").headers["Location"] == "/support/tickets"


def test_a_link_to_another_site_lands_on_my_tickets(visitor, cast: Cast, session: Session) -> None:
    browser = visitor()
    browser.ask_for_link("lena@acme.example", next="//evil.example/support/")
    assert browser.use(sign_in_path(session, "lena@acme.example")).headers["Location"] == "/support/tickets"


def test_an_expired_link_is_refused(visitor, cast: Cast, session: Session, clock: FakeClock) -> None:
    browser = visitor()
    browser.ask_for_link("lena@acme.example")
    clock.advance(minutes=15, seconds=1)
    refused = browser.use(sign_in_path(session, "lena@acme.example"))
    assert refused.status_code == 400 and "not valid" in text_of(refused.text)
    assert browser.get("/support/tickets").status_code == 302


def test_a_tampered_link_is_refused(visitor, cast: Cast, session: Session) -> None:
    browser = visitor()
    browser.ask_for_link("lena@acme.example")
    path = sign_in_path(session, "lena@acme.example")
    head, dot, signature = path.rpartition(".")
    tampered = f"{head}{dot}{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert browser.use(tampered).status_code == 400
    assert browser.get("/support/tickets").status_code == 302


def test_a_link_made_for_another_person_or_with_another_key_is_refused(visitor, cast: Cast, session: Session,
                                                                      clock: FakeClock) -> None:
    # Gus cannot turn his own link into Lena's: her id in a payload signed with any other key fails.
    forged = URLSafeSerializer("not-the-line's-key", salt="support-portal sign-in").dumps(
        [cast.lena.id, "lena@acme.example", 0, int(clock.now.timestamp()), "/support/tickets"])
    browser = visitor()
    assert browser.use(f"/support/sign-in/{forged}").status_code == 400
    # A link sent to Lena's old address stops working once the address is someone else's.
    browser.ask_for_link("lena@acme.example")
    path = sign_in_path(session, "lena@acme.example")
    update_person(session, cast.lena.id, {"email": "lena.fischer@acme.example"}, region="US", now=clock.now,
                  actor="tests")
    assert browser.use(path).status_code == 400
    assert browser.get("/support/tickets").status_code == 302


def test_a_newer_link_outdates_nothing_but_using_one_outdates_the_others(visitor, cast: Cast,
                                                                         session: Session) -> None:
    browser = visitor()
    browser.ask_for_link("lena@acme.example")
    first = sign_in_path(session, "lena@acme.example")
    browser.ask_for_link("lena@acme.example")
    second = sign_in_path(session, "lena@acme.example")
    assert browser.use(second).status_code == 302
    assert visitor().use(first).status_code == 400


def test_signing_out_ends_the_session_on_the_server(signed_in, cast: Cast, app) -> None:
    browser = signed_in(cast.lena)
    cookie = browser.client.get_cookie("support_session", path="/support")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("support_session", cookie.value, path="/support")
    assert copy.get("/support/tickets").status_code == 200
    assert browser.post("/support/sign-out", page="/support/tickets").status_code == 302
    assert browser.get("/support/tickets").status_code == 302
    assert copy.get("/support/tickets").status_code == 302, "a copy of the cookie stops working too"


def test_the_portal_and_the_admin_pages_keep_separate_sessions(signed_in, cast: Cast, admin_user, app) -> None:
    from tests.support import AdminActions

    browser = signed_in(cast.lena)
    assert browser.get("/admin/").status_code == 302, "a customer's session is no admin login"
    cookie = browser.client.get_cookie("support_session", path="/support")
    assert cookie is not None and cookie.path == "/support" and cookie.http_only

    admin_client = app.test_client()
    assert AdminActions(admin_client).login().status_code == 302
    assert admin_client.get("/support/tickets").status_code == 302, "an admin's session signs nobody in here"
    # An admin cookie put where the portal's goes is refused too: the two are signed differently.
    admin_cookie = admin_client.get_cookie("session")
    assert admin_cookie is not None
    stranger = app.test_client()
    stranger.set_cookie("support_session", admin_cookie.value, path="/support")
    assert stranger.get("/support/tickets").status_code == 302


def test_sign_in_links_are_throttled_per_address(visitor, cast: Cast, session: Session, clock: FakeClock) -> None:
    browser = visitor()
    for _ in range(5):
        assert browser.ask_for_link("lena@acme.example").status_code == 200
    held = browser.ask_for_link("LENA@acme.example")
    assert held.status_code == 429 and "Too many requests" in text_of(held.text)
    assert visitor().ask_for_link("lena@acme.example").status_code == 429, "held for every client"
    assert _sign_in_mails(session) == 5
    assert browser.ask_for_link("otto@acme.example").status_code == 200, "other addresses still go"
    clock.advance(minutes=15, seconds=1)
    assert browser.ask_for_link("lena@acme.example").status_code == 200


def test_sign_in_links_are_throttled_per_client(visitor, cast: Cast) -> None:
    browser = visitor()
    for n in range(30):
        assert browser.ask_for_link(f"someone{n}@acme.example").status_code == 200
    assert browser.ask_for_link("lena@acme.example").status_code == 429


def test_the_throttle_is_shared_by_every_web_process(make_app, cast: Cast, session: Session) -> None:
    from tests.portal.conftest import SUPPORT, Visitor

    first, second = (make_app(MAIL_FROM=SUPPORT, PUBLIC_URL=PORTAL_BASE) for _ in range(2))
    for n in range(5):
        browser = Visitor((first if n % 2 else second).test_client(), session)
        assert browser.ask_for_link("lena@acme.example").status_code == 200
    assert Visitor(first.test_client(), session).ask_for_link("lena@acme.example").status_code == 429
    assert Visitor(second.test_client(), session).ask_for_link("lena@acme.example").status_code == 429


def test_a_bad_address_is_answered_next_to_its_field(visitor, cast: Cast) -> None:
    from tests.support import field_marks

    answer = visitor().ask_for_link("not an address")
    assert answer.status_code == 422
    marks = field_marks(answer.text, "email")
    assert marks.invalid and "is not an e-mail address" in (marks.message or "")
