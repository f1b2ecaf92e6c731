"""Callers the line knows (contract §8): a person's phone number names them and their organisation.

The greeting names the organisation, the ticket gets them as requester, and the status branch
offers their open tickets before asking for a number. Unknown and withheld numbers go through
the menu as before.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from people.models import Organization, Person
from people.service import add_organization, add_person, update_person
from phonesim import CallRecord, FlaskClientTransport, ScriptedCaller, place_call
from staff.tokens import issue_api_token
from tests.support import AUTH_TOKEN, PUBLIC_BASE, Api, FakeClock, Team, call_params, fresh, signed_post
from tickets.models import Ticket

LENA = "+12125550147"
STRANGER = "+13125550100"


@pytest.fixture
def acme(session: Session, clock: FakeClock) -> Organization:
    return add_organization(session, {"name": "Acme Corp", "kind": "customer"}, now=clock.now, actor="tests")


@pytest.fixture
def lena(session: Session, clock: FakeClock, acme: Organization) -> Person:
    return add_person(session, {"name": "Lena Fischer", "phone": LENA, "email": "lena@acme.example",
                                "organization_id": acme.id}, region="US", now=clock.now, actor="tests")


@pytest.fixture
def api_client(client, session: Session, clock: FakeClock) -> Api:
    return Api(client, issue_api_token(session, "known-callers", clock.now))


@pytest.fixture
def call(client, team: Team) -> Callable[..., CallRecord]:
    """Place a call from `from_number`, answered as scripted; every engineer accepts."""

    def place(*answers: str, from_number: str = LENA) -> CallRecord:
        return place_call(voice_url=f"{PUBLIC_BASE}/ivr/voice", status_callback_url=f"{PUBLIC_BASE}/ivr/status",
                          auth_token=AUTH_TOKEN, transport=FlaskClientTransport(client),
                          caller=ScriptedCaller(list(answers), hang_up_when_done=True),
                          engineers=["accept"] * 3, from_number=from_number)

    return place


def tickets_by_number(session: Session) -> dict[int, Ticket]:
    fresh(session)
    return {t.number: t for t in session.scalars(select(Ticket))}


def test_a_known_caller_hears_their_organisation_and_is_the_tickets_requester(call, session: Session,
                                                                              lena: Person, acme: Organization,
                                                                              api_client) -> None:
    record = call("1", "1", "1")
    assert record.heard[0] == "Thank you for calling support, Acme Corp."
    ticket = tickets_by_number(session)[10001]
    assert (ticket.requester_id, ticket.organization_id) == (lena.id, acme.id)
    shown = api_client.get("/api/tickets/10001").json
    assert shown["requester"] == {"id": lena.id, "name": "Lena Fischer", "email": "lena@acme.example",
                                  "phone": LENA, "organization_id": acme.id,
                                  "organization_admin": False, "active": True}
    assert shown["organization_id"] == acme.id


def test_a_known_person_without_an_organisation_is_greeted_by_name(call, session: Session, clock: FakeClock) -> None:
    add_person(session, {"name": "Sam Okafor", "phone": STRANGER}, region="US", now=clock.now, actor="tests")
    assert call("1", "1", "1", from_number=STRANGER).heard[0] == "Thank you for calling support, Sam Okafor."


def test_an_unknown_caller_goes_through_the_menu_as_before(call, session: Session, lena: Person) -> None:
    record = call("1", "1", "1", from_number=STRANGER)
    assert record.heard[0] == "Thank you for calling support."
    ticket = tickets_by_number(session)[10001]
    assert (ticket.requester_id, ticket.organization_id) == (None, None)


def test_an_inactive_persons_number_is_no_longer_recognised(call, session: Session, lena: Person,
                                                            clock: FakeClock) -> None:
    update_person(session, lena.id, {"active": False}, region="US", now=clock.now, actor="tests")
    assert call("1", "1", "1").heard[0] == "Thank you for calling support."


def test_a_known_caller_hears_their_open_tickets_newest_first_and_picks_one(call, session: Session, lena: Person,
                                                                          clock: FakeClock) -> None:
    call("1", "1", "1")          # 10001, critical
    clock.advance(minutes=5)
    call("1", "3", "1")          # 10002, normal
    clock.advance(minutes=5)
    call("1", "4", "1")          # 10003, low: resolved below, so not offered
    tickets = tickets_by_number(session)
    tickets[10003].status = "resolved"
    session.commit()
    clock.advance(minutes=5)

    record = call("2", "2")
    said = " ".join(record.heard)
    assert ("You have two open tickets. For ticket 1 0 0 0 2, normal, press 1. For ticket 1 0 0 0 1, critical, "
            "press 2. For another ticket, press 0.") in said
    assert "Ticket 1 0 0 0 1 is a critical ticket" in said


def test_pressing_a_tickets_key_reads_its_status(call, session: Session, lena: Person, clock: FakeClock) -> None:
    call("1", "1", "1")
    clock.advance(minutes=5)
    record = call("2", "1")
    said = " ".join(record.heard)
    assert "You have one open ticket. For ticket 1 0 0 0 1, critical, press 1." in said
    assert "Ticket 1 0 0 0 1 is a critical ticket, and it is acknowledged." in said


def test_zero_asks_for_another_tickets_number(call, session: Session, lena: Person, clock: FakeClock) -> None:
    call("1", "1", "1")
    clock.advance(minutes=5)
    record = call("2", "0", "10001#")
    said = " ".join(record.heard)
    assert "Please enter your ticket number, then press the pound key." in said
    assert "Ticket 1 0 0 0 1 is a critical ticket" in said


def test_a_known_caller_without_open_tickets_is_asked_for_the_number(call, lena: Person) -> None:
    record = call("2", "10001#")
    said = " ".join(record.heard)
    assert "open ticket" not in said and "Please enter your ticket number" in said


def test_a_repeated_first_webhook_greets_the_known_caller_again(client, lena: Person) -> None:
    first = signed_post(client, "/ivr/voice", call_params(From=LENA))
    again = signed_post(client, "/ivr/voice", call_params(From=LENA))
    assert "Thank you for calling support, Acme Corp." in first.text
    assert again.text == first.text
