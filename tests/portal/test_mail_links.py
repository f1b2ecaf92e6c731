"""The links in the line's mail: each mail about a ticket links to its page, and the resolution mail
carries one link per answer to "resolved to your satisfaction?", which needs no sign-in."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.portal.conftest import PORTAL_BASE, SUPPORT, Cast
from tests.portal.test_tickets import _open_for, _ticket
from tests.support import FakeClock, Team, fresh, text_of
from tickets import service
from tickets.mailing import MailIdentity, queue_acknowledgements, queue_status_mails
from tickets.models import Notification

IDENTITY = MailIdentity(SUPPORT, "test-secret-key", PORTAL_BASE)


def _mail(session: Session, kind: str) -> Notification:
    fresh(session)
    found = session.scalar(select(Notification).where(Notification.kind == kind).order_by(Notification.id.desc()))
    assert found is not None, f"no {kind} mail"
    return found


def _rating_path(body: str, answer: str) -> str:
    match = re.search(rf"{answer.capitalize()}:\s+{re.escape(PORTAL_BASE)}(/support/rate/\S+)", body)
    assert match, body
    return match.group(1)


def _resolved_with_mail(session: Session, cast: Cast, clock: FakeClock) -> Notification:
    _open_for(session, cast.lena, clock)
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    assert queue_status_mails(session, clock.now, timezone="America/New_York", identity=IDENTITY) == 1
    return _mail(session, "status")


def test_every_mail_about_a_ticket_links_to_its_page(cast: Cast, team: Team, session: Session,
                                                    clock: FakeClock) -> None:
    _open_for(session, cast.lena, clock)
    queue_acknowledgements(session, clock.now, timezone="America/New_York", secret="test-secret-key",
                           support_address=SUPPORT, portal_base=PORTAL_BASE)
    service.reply_to_customer(session, "10001", "Which version?", now=clock.now, actor="admin:maria", channel="web",
                              mail=IDENTITY)
    page = f"Follow it on the web: {PORTAL_BASE}/support/tickets/10001"
    assert page in _mail(session, "acknowledgement").body
    assert page in _mail(session, "reply").body
    assert page in _resolved_with_mail_again(session, clock).body


def _resolved_with_mail_again(session: Session, clock: FakeClock) -> Notification:
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    queue_status_mails(session, clock.now, timezone="America/New_York", identity=IDENTITY)
    return _mail(session, "status")


def test_without_a_public_address_mail_carries_no_links(cast: Cast, team: Team, session: Session,
                                                       clock: FakeClock) -> None:
    _open_for(session, cast.lena, clock)
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    queue_status_mails(session, clock.now, timezone="America/New_York", identity=MailIdentity(SUPPORT, "k"))
    body = _mail(session, "status").body
    assert "http" not in body and "satisfaction" not in body


def test_a_mailed_answer_is_recorded_without_signing_in(visitor, cast: Cast, team: Team, session: Session,
                                                       clock: FakeClock) -> None:
    body = _resolved_with_mail(session, cast, clock).body
    assert "Was it resolved to your satisfaction? One click answers:" in body
    browser = visitor()
    path = _rating_path(body, "no")
    shown = browser.get(path)
    assert shown.status_code == 200 and 'value="no" checked' in shown.text
    clock.advance(hours=1)
    done = browser.post(path, {"answer": "no", "remark": "It came back after a day."}, page=path)
    assert done.status_code == 200 and "resolved to your satisfaction: no" in text_of(done.text)
    ticket = _ticket(session, 10001)
    assert (ticket.satisfaction, ticket.satisfaction_comment) == ("no", "It came back after a day.")
    assert "Lena Fischer <lena@acme.example>: resolved to their satisfaction: no" in ticket.events[-1].detail
    # The link signs nobody in: it answers, and that is all.
    assert browser.get("/support/tickets").status_code == 302


def test_the_other_answers_link_changes_the_answer(visitor, cast: Cast, team: Team, session: Session,
                                                  clock: FakeClock) -> None:
    body = _resolved_with_mail(session, cast, clock).body
    browser = visitor()
    browser.post(_rating_path(body, "no"), {"answer": "no"}, page=_rating_path(body, "no"))
    browser.post(_rating_path(body, "yes"), {"answer": "yes"}, page=_rating_path(body, "yes"))
    assert _ticket(session, 10001).satisfaction == "yes"


def test_a_mailed_answer_stops_working_once_the_ticket_is_reopened(visitor, cast: Cast, team: Team,
                                                                  session: Session, clock: FakeClock) -> None:
    body = _resolved_with_mail(session, cast, clock).body
    service.reopen_ticket(session, "10001", now=clock.now, actor="admin:maria")
    refused = visitor().get(_rating_path(body, "yes"))
    assert refused.status_code == 400 and "no longer asks anything" in text_of(refused.text)
    assert _ticket(session, 10001).satisfaction is None


def test_a_tampered_or_stale_answer_link_is_refused(visitor, cast: Cast, team: Team, session: Session,
                                                   clock: FakeClock) -> None:
    body = _resolved_with_mail(session, cast, clock).body
    path = _rating_path(body, "yes")
    head, dot, signature = path.rpartition(".")
    browser = visitor()
    assert browser.get(f"{head}{dot}{'A' if signature[0] != 'A' else 'B'}{signature[1:]}").status_code == 400
    assert browser.get(path.replace("rate/", "rate/x")).status_code == 400
    clock.advance(days=31)
    assert browser.get(path).status_code == 400


def test_a_reply_by_mail_to_a_closed_ticket_opens_a_follow_up(cast: Cast, team: Team, session: Session,
                                                             clock: FakeClock) -> None:
    from functools import partial

    from core.calendar import business_calendar
    from mail.filing import MailRules, receive
    from oncall.service import duty_at

    _open_for(session, cast.lena, clock, "First")
    service.resolve_ticket(session, "10001", now=clock.now, actor="admin:maria")
    service.update_ticket(session, "10001", {"status": "closed"}, region="US",
                          calendar=business_calendar("America/New_York", "US"), now=clock.now, actor="api")
    raw = (b"From: Lena Fischer <lena@acme.example>\r\nTo: support@example.com\r\n"
           b"Subject: Re: [#10001] First\r\nMessage-ID: <late@acme.example>\r\n\r\nIt is back.\r\n")
    rules = MailRules(support_address=SUPPORT, max_message_bytes=10_000_000,
                      calendar=business_calendar("America/New_York", "US"), secret="test-secret-key")
    receive(session, raw, now=clock.now, via="smtp", rules=rules, duty_at=partial(duty_at, session))
    assert _ticket(session, 10001).status == "closed" and len(_ticket(session, 10001).comments) == 1
    follow_up = _ticket(session, 10002)
    assert follow_up.requester_id == cast.lena.id and follow_up.comments[0].body == "It is back."
    assert any(e.kind == "follow_up" and "ticket 10001, which is closed" in e.detail for e in follow_up.events)
