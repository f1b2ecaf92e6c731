"""Fixtures for the customer portal: the line with a support address and a public URL, the
organisations and people of contract §9's cases, and a browser's way of signing in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from people.models import Organization, Person
from people.service import add_organization, add_person
from tests.support import FakeClock, csrf_token, fresh
from tickets.models import Notification

PORTAL_BASE = "http://support.example.test"
SUPPORT = "support@example.com"


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The line with its support address and public URL: its mail links to the portal."""
    return make_app(MAIL_FROM=SUPPORT, PUBLIC_URL=PORTAL_BASE)


@dataclass
class Cast:
    """Northwind is a partner managing Acme; Globex is on its own. Lena and Otto work at Acme (Otto is its
    organisation admin), Gus at Globex, Nina at Northwind."""

    northwind: Organization
    acme: Organization
    globex: Organization
    lena: Person
    otto: Person
    gus: Person
    nina: Person


@pytest.fixture
def cast(session: Session, clock: FakeClock) -> Cast:
    def org(name: str, kind: str, partner: Organization | None = None) -> Organization:
        return add_organization(session, {"name": name, "kind": kind, "partner_id": partner.id if partner else None},
                                now=clock.now, actor="tests")

    def person(name: str, email: str, organization: Organization, admin: bool = False, phone: str | None = None):
        return add_person(session, {"name": name, "email": email, "organization_id": organization.id,
                                    "organization_admin": admin, "phone": phone},
                          region="US", now=clock.now, actor="tests")

    northwind = org("Northwind Partners", "partner")
    acme = org("Acme Corp", "customer", northwind)
    globex = org("Globex", "customer")
    return Cast(northwind, acme, globex,
                lena=person("Lena Fischer", "lena@acme.example", acme, phone="+12125550147"),
                otto=person("Otto Brandt", "otto@acme.example", acme, admin=True),
                gus=person("Gus Grant", "gus@globex.example", globex),
                nina=person("Nina Patel", "nina@northwind.example", northwind))


def sign_in_path(session: Session, address: str) -> str:
    """The path of the newest sign-in link mailed to `address`."""
    fresh(session)
    body = session.scalar(select(Notification.body).where(Notification.kind == "sign_in",
                                                          Notification.to_number == address)
                          .order_by(Notification.id.desc()).limit(1))
    session.rollback()  # end the read: the test may write next, after the line did
    assert body is not None, f"no sign-in link was mailed to {address}"
    match = re.search(re.escape(PORTAL_BASE) + r"(/support/sign-in/\S+)", body)
    assert match, body
    return match.group(1)


class Visitor:
    """A browser on the portal: it posts forms with the CSRF token the page gave, and signs in by mailed link."""

    def __init__(self, client: FlaskClient, session: Session) -> None:
        self.client = client
        self.session = session

    def post(self, path: str, data: dict | None = None, *, page: str = "/support/new", **kwargs):
        token = csrf_token(self.client.get(page).text)
        return self.client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def ask_for_link(self, address: str, next: str = ""):
        return self.post("/support/sign-in", {"email": address, "next": next})

    def use(self, link_path: str):
        return self.post(link_path, page=link_path)

    def sign_in(self, person: Person) -> None:
        assert self.ask_for_link(person.email or "").status_code == 200
        answer = self.use(sign_in_path(self.session, person.email or ""))
        assert answer.status_code == 302, answer.text


@pytest.fixture
def visitor(app: Flask, session: Session) -> Callable[[], Visitor]:
    """A new browser (its own cookies) each call."""
    return lambda: Visitor(app.test_client(), session)


@pytest.fixture
def signed_in(visitor: Callable[[], Visitor]) -> Callable[[Person], Visitor]:
    """A new browser signed in as `person`."""
    def make(person: Person) -> Visitor:
        browser = visitor()
        browser.sign_in(person)
        return browser
    return make
