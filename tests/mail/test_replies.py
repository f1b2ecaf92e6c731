"""Support's side of the conversation: public replies mailed to the requester, internal notes that never
leave the line, by the ticket page and by `POST /api/tickets/<n>/comments`."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from people.models import Person
from staff.tokens import issue_api_token
from tests.mail.conftest import SUPPORT, message
from tests.support import Api, FakeClock, FieldMarks, field_marks, fresh, text_of
from tickets.mailing import ticket_of_message_id
from tickets.models import Notification, Ticket


@pytest.fixture
def mailing_app(make_app):
    """The line with a support address, as production has it."""
    return make_app(MAIL_FROM=SUPPORT)


@pytest.fixture
def api(mailing_app, session: Session, clock: FakeClock) -> Api:
    return Api(mailing_app.test_client(), issue_api_token(session, "replies", clock.now))


def the_ticket(session: Session) -> Ticket:
    fresh(session)
    return session.scalar(select(Ticket))


def test_a_public_comment_is_mailed_to_the_requester_and_is_the_first_response(
    deliver, api: Api, session: Session, lena: Person
) -> None:
    deliver(message("plain"))
    answer = api.post("/api/tickets/10001/comments", {"body": "Please retry with --batch-size 500.", "public": True})
    assert answer.status_code == 201
    assert (answer.json["public"], answer.json["channel"], answer.json["author"]) == (True, "api", "api:replies")
    ticket = the_ticket(session)
    assert (ticket.first_response_at is not None, ticket.responded_by) == (True, "api:replies")
    mail = session.scalar(select(Notification).where(Notification.kind == "reply"))
    assert (mail.channel, mail.to_number, mail.subject) == ("email", "lena@acme.example",
                                                            "[#10001] Nightly export fails since the upgrade")
    assert mail.in_reply_to == "<CAF3x9k2=plain@mail.acme.example>"
    assert mail.body.startswith("Please retry with --batch-size 500.")
    assert ticket.comments[-1].message_id == mail.message_id


def test_an_internal_note_is_in_the_conversation_but_never_mailed(deliver, api: Api, session: Session,
                                                                  lena: Person) -> None:
    deliver(message("plain"))
    answer = api.post("/api/tickets/10001/comments", {"body": "Looks like the proxy timeout."})
    assert answer.status_code == 201 and answer.json["public"] is False
    ticket = the_ticket(session)
    assert ticket.comments[-1].public is False and ticket.first_response_at is None
    assert session.scalar(select(Notification).where(Notification.channel == "email")) is None


def test_the_customers_answer_to_a_reply_lands_on_the_ticket(deliver, api: Api, session: Session,
                                                              lena: Person) -> None:
    deliver(message("plain"))
    api.post("/api/tickets/10001/comments", {"body": "Does it fail at 02:00 every night?", "public": True})
    reply_id = the_ticket(session).comments[-1].message_id
    assert ticket_of_message_id(reply_id, "test-secret-key") == 10001
    deliver((f"From: Lena <lena@acme.example>\r\nTo: {SUPPORT}\r\nSubject: Re: export\r\nMessage-ID: <a1@acme.example>"
             f"\r\nIn-Reply-To: {reply_id}\r\n\r\nYes, every night at 02:00.\r\n").encode())
    assert the_ticket(session).comments[-1].body == "Yes, every night at 02:00."


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"body": "", "public": True}, 422, "the reply is empty"),
    ({"body": "hi", "public": "yes"}, 422, "public must be true or false"),
    ({"body": "hi", "to": "x"}, 422, "unknown fields: to"),
])
def test_a_bad_comment_is_refused_with_the_reason(deliver, api: Api, lena: Person, body, status: int,
                                                  words: str) -> None:
    deliver(message("plain"))
    answer = api.post("/api/tickets/10001/comments", body)
    assert answer.status_code == status and words in answer.json["error"]


def test_a_comment_on_no_ticket_is_a_404(api: Api) -> None:
    assert api.post("/api/tickets/99999/comments", {"body": "hi"}).status_code == 404


def test_an_engineer_replies_on_the_ticket_page(deliver, mailing_app, session: Session, lena: Person,
                                                admin_user) -> None:
    from tests.support import AdminActions

    deliver(message("plain"))
    admin = AdminActions(mailing_app.test_client())
    admin.login()
    page = "/admin/tickets/10001"
    sent = admin.post(f"{page}/replies", {"reply": "We are on it."}, page=page, follow_redirects=True)
    shown = text_of(sent.text)
    assert "Reply added to ticket 10001 and mailed to lena@acme.example." in shown
    assert "We are on it." in shown
    empty = admin.post(f"{page}/replies", {"reply": "  "}, page=page)
    assert empty.status_code == 422
    assert field_marks(empty.text, "reply") == FieldMarks(True, ["reply-hint", "reply-error"],
                                                          "The reply is empty; write what the customer should read.")
