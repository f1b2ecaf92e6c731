"""The admin pages for organisations and people: list, add, edit, deactivate.

Each change goes through `people.service`, which checks it, audits it as `admin:<username>`
and commits it; a refused field is shown next to that field with a 422 and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from core.clock import current_clock
from core.db import db
from core.limits import row_id
from core.settings import current_settings
from people import service
from people.models import ORGANIZATION_KINDS, Organization, Person
from people.service import AccountNotFound, InvalidAccountChange
from staff.admins import login_required
from web.pages import current_page, field_errors, missing, page_of, protect_pages

bp = Blueprint("people", __name__, url_prefix="/admin", template_folder="templates")
protect_pages(bp)

ORGANIZATION_FORM = ("name", "kind", "partner_id")
PERSON_FORM = ("name", "email", "phone", "organization_id", "organization_admin")


def _form(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in names}


def _chosen_id(raw: str, field: str) -> int | None:
    """The id a form's select chose: None for "none", and a refusal for what no option sends."""
    if not raw:
        return None
    number = row_id(raw)
    if number is None:
        raise InvalidAccountChange(f"choose one of the listed organizations, not {raw[:40]!r}", field)
    return number


def _organization_fields(form: dict[str, str]) -> dict[str, Any]:
    return {"name": form["name"], "kind": form["kind"], "partner_id": _chosen_id(form["partner_id"], "partner_id")}


def _person_fields(form: dict[str, str]) -> dict[str, Any]:
    return {"name": form["name"], "email": form["email"], "phone": form["phone"],
            "organization_id": _chosen_id(form["organization_id"], "organization_id"),
            "organization_admin": form["organization_admin"] == "yes"}


# ----------------------------------------------------------------------------- organisations


def _organizations_page(form: dict[str, str], status: int = 200,
                        errors: dict[str, str] | None = None) -> tuple[str, int]:
    query = select(Organization).order_by(Organization.active.desc(), Organization.name, Organization.id)
    listed = page_of(db(), query, current_page())
    people = {organization_id: count for organization_id, count in db().execute(
        select(Person.organization_id, func.count()).where(Person.active).group_by(Person.organization_id))}
    return render_template("people/organizations.html", organizations=listed, people=people, form=form,
                           kinds=ORGANIZATION_KINDS, partners=service.active_partners(db()),
                           errors=errors or {}), status


@bp.get("/organizations")
@login_required
def organizations() -> tuple[str, int]:
    """Every organisation, with a form to add one."""
    return _organizations_page({"name": "", "kind": "customer", "partner_id": ""})


@bp.post("/organizations")
@login_required
def add_organization() -> Any:
    """Add a customer or a partner."""
    form = _form(ORGANIZATION_FORM)
    try:
        organization = service.add_organization(db(), _organization_fields(form), now=current_clock(), actor=g.actor)
    except InvalidAccountChange as error:
        db().rollback()
        flash(f"Not added: {error}.", "error")
        return _organizations_page(form, 422, field_errors(error))
    flash(f"Added {organization.name} ({organization.kind}). Add its people below.", "ok")
    return redirect(url_for("people.organization", organization_id=organization.id))


def _organization_page(organization: Organization, form: dict[str, str], status: int = 200,
                       errors: dict[str, str] | None = None) -> tuple[str, int]:
    members = db().scalars(select(Person).where(Person.organization_id == organization.id)
                           .order_by(Person.active.desc(), Person.name, Person.id)).all()
    managed = db().scalars(select(Organization).where(Organization.partner_id == organization.id)
                           .order_by(Organization.name, Organization.id)).all()
    partners = [p for p in service.active_partners(db()) if p.id != organization.id]
    return render_template("people/organization.html", organization=organization, form=form, members=members,
                           managed=managed, kinds=ORGANIZATION_KINDS, partners=partners,
                           errors=errors or {}), status


@bp.get("/organizations/<int(max=2147483647):organization_id>")
@login_required
def organization(organization_id: int) -> tuple[str, int]:
    """One organisation: its edit form, its people, and the customers it manages."""
    found = service.get_organization(db(), organization_id)
    form = {"name": found.name, "kind": found.kind, "partner_id": str(found.partner_id or "")}
    return _organization_page(found, form)


@bp.post("/organizations/<int(max=2147483647):organization_id>")
@login_required
def update_organization(organization_id: int) -> Any:
    """Change an organisation's name, kind or partner."""
    form = _form(ORGANIZATION_FORM)
    try:
        changed = service.update_organization(db(), organization_id, _organization_fields(form), now=current_clock(),
                                              actor=g.actor)
    except InvalidAccountChange as error:
        db().rollback()
        flash(f"Not saved: {error}.", "error")
        return _organization_page(service.get_organization(db(), organization_id), form,
                                  409 if isinstance(error, service.AccountConflict) else 422, field_errors(error))
    flash(f"Saved {changed.name}.", "ok")
    return redirect(url_for("people.organization", organization_id=organization_id))


@bp.post("/organizations/<int(max=2147483647):organization_id>/active")
@login_required
def set_organization_active(organization_id: int) -> Response:
    """Deactivate an organisation (its people keep their tickets) or bring it back."""
    active = request.form.get("active") == "yes"
    try:
        changed = service.update_organization(db(), organization_id, {"active": active}, now=current_clock(),
                                              actor=g.actor)
    except InvalidAccountChange as error:
        db().rollback()
        flash(f"Not changed: {error}.", "error")
        return redirect(url_for("people.organization", organization_id=organization_id))
    flash(f"{changed.name} is {'active again' if active else 'inactive'}.", "ok")
    return redirect(url_for("people.organization", organization_id=organization_id))


# ----------------------------------------------------------------------------- people


def _choices() -> list[Organization]:
    return list(db().scalars(select(Organization).where(Organization.active)
                             .order_by(Organization.name, Organization.id)))


def _people_page(form: dict[str, str], status: int = 200, errors: dict[str, str] | None = None) -> tuple[str, int]:
    query = select(Person).order_by(Person.active.desc(), Person.name, Person.id)
    return render_template("people/people.html", people=page_of(db(), query, current_page()), form=form,
                           organizations=_choices(), errors=errors or {}), status


@bp.get("/people")
@login_required
def people() -> tuple[str, int]:
    """Everyone who may ask for support, with a form to add a person (`?organization=` preselects theirs)."""
    return _people_page({"name": "", "email": "", "phone": "", "organization_id": request.args.get("organization", "")})


@bp.post("/people")
@login_required
def add_person() -> Any:
    """Add a person."""
    form = _form(PERSON_FORM)
    try:
        person = service.add_person(db(), _person_fields(form), region=current_settings().phone_region,
                                    now=current_clock(), actor=g.actor)
    except InvalidAccountChange as error:
        db().rollback()
        flash(f"Not added: {error}.", "error")
        return _people_page(form, 422, field_errors(error))
    where = f" of {person.organization.name}" if person.organization else ""
    flash(f"Added {person.name}{where}.", "ok")
    return redirect(url_for("people.people"))


def _person_page(person: Person, form: dict[str, str], status: int = 200,
                 errors: dict[str, str] | None = None) -> tuple[str, int]:
    return render_template("people/person.html", person=person, form=form, organizations=_choices(),
                           errors=errors or {}), status


@bp.get("/people/<int(max=2147483647):person_id>")
@login_required
def person(person_id: int) -> tuple[str, int]:
    """One person's edit form."""
    found = service.get_person(db(), person_id)
    form = {"name": found.name, "email": found.email or "", "phone": found.phone or "",
            "organization_id": str(found.organization_id or ""),
            "organization_admin": "yes" if found.organization_admin else ""}
    return _person_page(found, form)


@bp.post("/people/<int(max=2147483647):person_id>")
@login_required
def update_person(person_id: int) -> Any:
    """Change a person's name, address, number or organisation."""
    form = _form(PERSON_FORM)
    try:
        changed = service.update_person(db(), person_id, _person_fields(form), region=current_settings().phone_region,
                                        now=current_clock(), actor=g.actor)
    except InvalidAccountChange as error:
        db().rollback()
        flash(f"Not saved: {error}.", "error")
        return _person_page(service.get_person(db(), person_id), form, 422, field_errors(error))
    flash(f"Saved {changed.name}.", "ok")
    return redirect(url_for("people.person", person_id=person_id))


@bp.post("/people/<int(max=2147483647):person_id>/active")
@login_required
def set_person_active(person_id: int) -> Response:
    """Deactivate a person (mail and calls from them are no longer theirs) or bring them back."""
    active = request.form.get("active") == "yes"
    try:
        changed = service.update_person(db(), person_id, {"active": active}, region=current_settings().phone_region,
                                        now=current_clock(), actor=g.actor)
    except InvalidAccountChange as error:
        db().rollback()
        flash(f"Not changed: {error}.", "error")
        return redirect(url_for("people.person", person_id=person_id))
    flash(f"{changed.name} is {'active again' if active else 'inactive'}.", "ok")
    return redirect(url_for("people.person", person_id=person_id))


@bp.errorhandler(AccountNotFound)
def _not_found(error: AccountNotFound) -> tuple[str, int]:
    return missing(f"{str(error)[:1].upper()}{str(error)[1:]}.")
