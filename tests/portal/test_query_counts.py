"""Query discipline on the portal: "My tickets" and a ticket's page run as many statements for 20
rows (tickets; comments with files) as for 1. Timings are `make bench`'s, never asserted here."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.portal.conftest import Cast
from tests.portal.test_tickets import _open_for
from tests.support import FakeClock, Team, counted_queries
from tickets import requesters


def _statements(app, browser, path: str) -> int:
    browser.get(path)
    with counted_queries(app) as statements:
        answer = browser.get(path)
    assert answer.status_code == 200, answer.text[:300]
    return len([s for s in statements if not s.lstrip().upper().startswith("BEGIN")])


def test_my_tickets_runs_as_many_statements_for_20_rows_as_for_1(app, signed_in, cast: Cast, team: Team,
                                                                session: Session, clock: FakeClock) -> None:
    nina = signed_in(cast.nina)  # a partner's person: every row names the customer and the requester
    _open_for(session, cast.lena, clock)
    with_one = _statements(app, nina, "/support/tickets")
    for n in range(19):
        _open_for(session, (cast.lena, cast.otto, cast.nina)[n % 3], clock, f"Ticket {n}")
    with_twenty = _statements(app, nina, "/support/tickets")
    assert with_twenty == with_one, f"My tickets: {with_one} statements for 1 row, {with_twenty} for 20"


def test_a_ticket_page_runs_as_many_statements_for_20_comments_as_for_1(app, signed_in, cast: Cast, team: Team,
                                                                       session: Session, clock: FakeClock) -> None:
    ticket = _open_for(session, cast.lena, clock)
    lena = signed_in(cast.lena)
    with_one = _statements(app, lena, "/support/tickets/10001")
    for n in range(19):
        requesters.comment(session, ticket, f"Comment {n}", [requesters.Upload(f"log{n}.txt", "text/plain", b"x")],
                           person=cast.lena, now=clock.now, max_bytes=10_000_000)
    with_twenty = _statements(app, lena, "/support/tickets/10001")
    assert with_twenty == with_one, f"ticket page: {with_one} statements for 1 comment, {with_twenty} for 20"
