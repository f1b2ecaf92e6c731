"""The admin pages for organisations and people: add, edit, deactivate, and refusals next to their field."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from people.models import Organization, Person
from tests.people.conftest import Customers
from tests.support import AdminActions, FieldMarks, field_marks, fresh, text_of


def test_an_admin_adds_a_customer_then_a_person_of_it(admin: AdminActions, session: Session) -> None:
    added = admin.post("/admin/organizations", {"name": "Acme Corp", "kind": "customer", "partner_id": ""},
                       page="/admin/organizations")
    assert added.status_code == 302
    acme = session.scalar(select(Organization))
    assert added.headers["Location"] == f"/admin/organizations/{acme.id}"
    page = text_of(admin.get(added.headers["Location"]).text)
    assert "Added Acme Corp (customer)." in page and "Nobody yet." in page
    form = admin.get(f"/admin/people?organization={acme.id}").text
    assert f'<option value="{acme.id}" selected>Acme Corp (customer)</option>' in form
    person = admin.post("/admin/people", {"name": "Lena Fischer", "email": "lena@acme.example", "phone": "",
                                          "organization_id": str(acme.id)}, page="/admin/people")
    assert person.status_code == 302
    assert "Added Lena Fischer of Acme Corp." in text_of(admin.get("/admin/people").text)
    fresh(session)
    lena = session.scalar(select(Person))
    assert (lena.email, lena.phone, lena.organization_id) == ("lena@acme.example", None, acme.id)
    assert "Lena Fischer lena@acme.example" in text_of(admin.get(f"/admin/organizations/{acme.id}").text)


def test_a_taken_address_is_refused_next_to_the_email_field(admin: AdminActions, customers: Customers) -> None:
    response = admin.post("/admin/people", {"name": "Impostor", "email": "lena.fischer@acme.example", "phone": "",
                                            "organization_id": ""}, page="/admin/people")
    assert response.status_code == 422
    email = field_marks(response.text, "email")
    assert email.invalid and email.described_by == ["reach-hint", "email-error"]
    assert email.message.startswith("Lena.fischer@acme.example is already Lena Fischer's (person")
    assert field_marks(response.text, "phone") == FieldMarks(False, ["reach-hint"], None)
    assert 'value="Impostor"' in response.text, "what was typed stays in the form"


def test_a_partner_is_offered_to_customers_and_lists_the_ones_it_manages(admin: AdminActions,
                                                                         customers: Customers) -> None:
    form = admin.get("/admin/organizations").text
    assert f'<option value="{customers.partner.id}" >Northwind Partners</option>' in form
    partner_page = text_of(admin.get(f"/admin/organizations/{customers.partner.id}").text)
    assert "Customers it manages Acme Corp" in partner_page
    assert "Managed by Northwind Partners" in text_of(admin.get(f"/admin/organizations/{customers.acme.id}").text)


def test_turning_a_managing_partner_into_a_customer_is_refused_on_the_kind(admin: AdminActions,
                                                                          customers: Customers) -> None:
    response = admin.post(f"/admin/organizations/{customers.partner.id}",
                          {"name": "Northwind Partners", "kind": "customer", "partner_id": ""}, page="/admin/organizations")
    assert response.status_code == 409
    assert field_marks(response.text, "kind").message == ("Northwind Partners manages 1 customer; "
                                                          "give them another partner first.")


def test_an_admin_deactivates_and_reactivates_a_person(admin: AdminActions, customers: Customers,
                                                       session: Session) -> None:
    path = f"/admin/people/{customers.lena.id}"
    assert admin.post(f"{path}/active", {"active": "no"}, page=path).status_code == 302
    fresh(session)
    assert session.get(Person, customers.lena.id).active is False
    assert "Lena Fischer is inactive." in text_of(admin.get(path).text)
    fresh(session)
    assert admin.post(f"{path}/active", {"active": "yes"}, page=path).status_code == 302
    fresh(session)
    assert session.get(Person, customers.lena.id).active is True


def test_a_form_that_names_no_listed_organization_is_refused_on_that_field(admin: AdminActions) -> None:
    response = admin.post("/admin/people", {"name": "Omar", "email": "omar@acme.example", "phone": "",
                                            "organization_id": "abc"}, page="/admin/people")
    assert response.status_code == 422
    assert field_marks(response.text, "organization_id").message == "Choose one of the listed organizations, not 'abc'."


def test_an_unknown_person_or_organization_is_a_404_page(admin: AdminActions) -> None:
    assert admin.get("/admin/people/999").status_code == 404
    assert "There is no organization 999." in text_of(admin.get("/admin/organizations/999").text)


def test_an_admin_makes_a_person_their_organisations_admin_and_back(admin: AdminActions, customers: Customers,
                                                                  session: Session) -> None:
    path = f"/admin/people/{customers.lena.id}"
    assert 'id="organization_admin"' in admin.get(path).text
    fields = {"name": "Lena Fischer", "email": "lena.fischer@acme.example", "phone": "+12125550147",
              "organization_id": str(customers.acme.id)}
    assert admin.post(path, {**fields, "organization_admin": "yes"}, page=path).status_code == 302
    fresh(session)
    assert session.get(Person, customers.lena.id).organization_admin is True
    assert 'value="yes" checked' in admin.get(path).text
    assert admin.post(path, fields, page=path).status_code == 302, "an unticked box sends nothing: not an admin"
    fresh(session)
    assert session.get(Person, customers.lena.id).organization_admin is False
