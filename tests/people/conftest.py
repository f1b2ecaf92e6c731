"""Fixtures for organisations and people: an API client with a token, and a small customer base."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from people import service
from people.models import Organization, Person
from staff.tokens import issue_api_token
from tests.support import Api, FakeClock


@pytest.fixture
def api(client, session: Session, clock: FakeClock) -> Api:
    """The test client sending a valid bearer token."""
    return Api(client, issue_api_token(session, "people-tests", clock.now))


@dataclass
class Customers:
    """A partner (Northwind) managing one customer (Acme Corp), and Acme's Lena."""

    partner: Organization
    acme: Organization
    lena: Person


@pytest.fixture
def customers(session: Session, clock: FakeClock) -> Customers:
    partner = service.add_organization(session, {"name": "Northwind Partners", "kind": "partner"}, now=clock.now,
                                       actor="tests")
    acme = service.add_organization(session, {"name": "Acme Corp", "kind": "customer", "partner_id": partner.id},
                                    now=clock.now, actor="tests")
    lena = service.add_person(session, {"name": "Lena Fischer", "email": "Lena.Fischer@Acme.example",
                                        "phone": "+12125550147", "organization_id": acme.id},
                              region="US", now=clock.now, actor="tests")
    return Customers(partner, acme, lena)
