"""Every portal form carries its CSRF token and is refused without it, with nothing written; and the
pages take nothing but what their forms send."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.portal.conftest import Cast, sign_in_path
from tests.portal.test_mail_links import _rating_path, _resolved_with_mail
from tests.support import FakeClock, Team, fresh, text_of
from tickets.models import Comment, Notification, Ticket, TicketEvent


def _written(session: Session) -> tuple[int, ...]:
    fresh(session)
    return tuple(session.scalar(select(func.count()).select_from(model)) or 0
                 for model in (Ticket, Comment, TicketEvent, Notification))


@pytest.mark.parametrize("path, data", [
    ("/support/sign-in", {"email": "lena@acme.example"}),
    ("/support/new", {"severity": "high", "subject": "s", "description": "d", "name": "R", "email": "r@x.example"}),
    ("/support/tickets/10001/comments", {"body": "more"}),
    ("/support/tickets/10001/resolution", {"answer": "confirm"}),
    ("/support/tickets/10001/resolution", {"answer": "reopen", "why": "no"}),
    ("/support/tickets/10001/satisfaction", {"answer": "yes"}),
    ("/support/sign-out", {}),
    ("RATING", {"answer": "yes"}),
    ("SIGN_IN", {}),
])
def test_a_portal_form_without_its_csrf_token_is_refused(signed_in, cast: Cast, team: Team, session: Session,
                                                        clock: FakeClock, path: str, data: dict) -> None:
    body = _resolved_with_mail(session, cast, clock).body
    lena = signed_in(cast.lena)
    lena.ask_for_link("lena@acme.example")
    targets = {"RATING": _rating_path(body, "yes"), "SIGN_IN": sign_in_path(session, "lena@acme.example")}
    before = _written(session)
    refused = lena.client.post(targets.get(path, path), data=data)
    assert refused.status_code == 400 and "This form was refused" in text_of(refused.text)
    assert _written(session) == before
    assert lena.get("/support/tickets").status_code == 200, "still signed in: the sign-out was refused too"
