"""`/api/organizations` and `/api/people` (contract §8) in §7's conventions: pages, JSON errors, audit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from staff.models import AuditEntry
from tests.people.conftest import Customers
from tests.support import Api


def test_an_integrator_adds_a_partner_and_a_customer_it_manages(api: Api, session: Session) -> None:
    partner = api.post("/api/organizations", {"name": "Northwind Partners", "kind": "partner"})
    assert partner.status_code == 201
    customer = api.post("/api/organizations", {"name": "Acme Corp", "kind": "customer",
                                               "partner_id": partner.json["id"]})
    assert customer.status_code == 201
    assert customer.json == {"id": customer.json["id"], "name": "Acme Corp", "kind": "customer",
                             "partner_id": partner.json["id"], "active": True}
    assert api.get(f"/api/organizations/{customer.json['id']}").json == customer.json
    listed = api.get("/api/organizations", total="true").json
    assert [o["name"] for o in listed["items"]] == ["Northwind Partners", "Acme Corp"] and listed["total"] == 2
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action.startswith("organization."))
                              .order_by(AuditEntry.id)).all()
    assert [(e.actor, e.action) for e in entries] == [("api:people-tests", "organization.created")] * 2


def test_a_person_is_added_with_a_checked_address_and_number(api: Api, customers: Customers) -> None:
    response = api.post("/api/people", {"name": "Omar Haddad", "email": "Omar@Acme.Example", "phone": "(212) 555-0188",
                                        "organization_id": customers.acme.id})
    assert response.status_code == 201
    assert response.json == {"id": response.json["id"], "name": "Omar Haddad", "email": "omar@acme.example",
                             "phone": "+12125550188", "organization_id": customers.acme.id,
                             "organization_admin": False, "active": True}
    assert [p["name"] for p in api.get("/api/people").json["items"]] == ["Lena Fischer", "Omar Haddad"]


@pytest.mark.parametrize(
    ("body", "field_words"),
    [
        ({"name": "Omar", "email": "omar@", "organization_id": 1}, "email 'omar@' is not an e-mail address"),
        ({"name": "Omar", "phone": "555", "organization_id": 1}, "phone '555' is not a valid phone number"),
        ({"name": "Omar", "phone": "+1 212 555 0188 x12"}, "has an extension (12)"),
        ({"name": "Omar"}, "give an e-mail address or a phone number"),
        ({"name": "", "email": "omar@acme.example"}, "name must be text of 1 to 120 characters"),
        ({"name": "Omar", "email": "omar@acme.example", "organization_id": 999}, "there is no organization 999"),
        ({"name": "Omar", "email": "omar@acme.example", "organization_id": "1"}, "organization_id must be an"),
        ({"name": "Omar", "email": "omar@acme.example", "role": "admin"}, "unknown fields: role"),
    ],
)
def test_a_bad_person_is_a_422_that_names_the_field(api: Api, customers: Customers, body, field_words: str) -> None:
    response = api.post("/api/people", body)
    assert response.status_code == 422
    assert field_words in response.json["error"]


def test_an_address_or_number_already_an_active_persons_is_refused_whatever_its_case(api: Api,
                                                                                     customers: Customers) -> None:
    taken = api.post("/api/people", {"name": "Impostor", "email": "LENA.fischer@acme.EXAMPLE"})
    assert taken.status_code == 422
    assert "lena.fischer@acme.example is already Lena Fischer's" in taken.json["error"]
    number = api.post("/api/people", {"name": "Impostor", "phone": "+1 212 555 0147"})
    assert number.status_code == 422 and "is already Lena Fischer's" in number.json["error"]
    # Once Lena is inactive, her address may be somebody else's (she left; her successor took the mailbox).
    assert api.patch(f"/api/people/{customers.lena.id}", {"active": False}).json["active"] is False
    assert api.post("/api/people", {"name": "Successor", "email": "lena.fischer@acme.example"}).status_code == 201
    back = api.patch(f"/api/people/{customers.lena.id}", {"active": True})
    assert back.status_code == 422 and "is already Successor's" in back.json["error"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"name": "Acme Corp", "kind": "customer"}, 422, "there is an active organization called Acme Corp already"),
        ({"name": "acme corp", "kind": "customer"}, 422, "there is an active organization called Acme Corp already"),
        ({"name": "Globex", "kind": "vendor"}, 422, "kind must be one of customer, partner"),
        ({"name": "Globex"}, 422, "kind must be one of customer, partner"),
        ({"name": "Globex", "kind": "partner", "partner_id": 1}, 422, "only a customer can be managed by a partner"),
    ],
)
def test_a_bad_organization_is_a_422_that_says_why(api: Api, customers: Customers, body, status: int, words: str) -> None:
    response = api.post("/api/organizations", body)
    assert response.status_code == status and words in response.json["error"]


def test_a_customer_cannot_be_managed_by_another_customer(api: Api, customers: Customers) -> None:
    response = api.post("/api/organizations", {"name": "Globex", "kind": "customer", "partner_id": customers.acme.id})
    assert response.status_code == 422 and response.json["error"] == "Acme Corp is a customer, not a partner"


def test_a_partner_that_manages_customers_cannot_become_a_customer(api: Api, customers: Customers) -> None:
    response = api.patch(f"/api/organizations/{customers.partner.id}", {"kind": "customer"})
    assert response.status_code == 409
    assert response.json["error"] == "Northwind Partners manages 1 customer; give them another partner first"


def test_deactivating_an_organization_is_audited_with_before_and_after(api: Api, customers: Customers,
                                                                      session: Session) -> None:
    response = api.patch(f"/api/organizations/{customers.acme.id}", {"active": False})
    assert response.status_code == 200 and response.json["active"] is False
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.subject) == ("organization.updated", f"organization {customers.acme.id}")
    assert (json.loads(entry.before)["active"], json.loads(entry.after)["active"]) == (True, False)
    joining = api.post("/api/people", {"name": "Omar", "email": "omar@acme.example",
                                       "organization_id": customers.acme.id})
    assert joining.status_code == 422 and "Acme Corp is inactive" in joining.json["error"]


def test_unknown_ids_are_404_and_lists_page(api: Api, customers: Customers) -> None:
    assert api.get("/api/people/999").status_code == 404
    assert api.get("/api/organizations/x").json == {"error": "there is no organization x"}
    first = api.get("/api/organizations", limit=1).json
    assert (len(first["items"]), first["more"]) == (1, True)
    assert api.get("/api/people", limit=0).status_code == 400


def test_the_people_api_needs_a_token(client) -> None:
    assert client.get("/api/people").status_code == 401
    assert client.post("/api/organizations", json={"name": "Acme", "kind": "customer"}).status_code == 401
