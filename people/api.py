"""The REST API for organisations and people (contract §8), in §7's conventions.

Thin views: parse JSON, call one service function, answer JSON. A refused field is a 422
naming it, a state that does not allow the change a 409, an unknown id a 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from core.clock import current_clock
from core.db import db, rows_and_more
from core.settings import current_settings
from people import service
from people.models import Organization, Person
from people.service import AccountConflict, AccountNotFound, InvalidAccountChange, organization_json, person_json
from staff.audit import current_actor
from staff.tokens import api_token_required
from web.api import count_of, handle_api_errors, json_body, page, page_args, path_id

bp = Blueprint("people_api", __name__, url_prefix="/api")
handle_api_errors(bp, invalid=(InvalidAccountChange,), missing=(AccountNotFound,), conflict=(AccountConflict,))


@bp.get("/organizations")
@api_token_required
def list_organizations() -> Response:
    """Every organisation, active or not, by id."""
    args = page_args()
    query = select(Organization).order_by(Organization.id)
    rows, more = rows_and_more(db(), query, args.limit, args.offset)
    return page([organization_json(o) for o in rows], args, more, count_of(db(), query, args))


@bp.post("/organizations")
@api_token_required
def add_organization() -> tuple[Response, int]:
    """Add a customer or a partner."""
    organization = service.add_organization(db(), json_body(), now=current_clock(), actor=current_actor())
    return jsonify(organization_json(organization)), 201


@bp.get("/organizations/<raw_id>")
@api_token_required
def get_organization(raw_id: str) -> Response:
    """One organisation."""
    return jsonify(organization_json(service.get_organization(db(), path_id(raw_id, "organization"))))


@bp.patch("/organizations/<raw_id>")
@api_token_required
def update_organization(raw_id: str) -> Response:
    """Change an organisation's name, kind, partner or active flag."""
    organization = service.update_organization(db(), path_id(raw_id, "organization"), json_body(),
                                               now=current_clock(), actor=current_actor())
    return jsonify(organization_json(organization))


@bp.get("/people")
@api_token_required
def list_people() -> Response:
    """Every person, active or not, by id."""
    args = page_args()
    query = select(Person).order_by(Person.id)
    rows, more = rows_and_more(db(), query, args.limit, args.offset)
    return page([person_json(p) for p in rows], args, more, count_of(db(), query, args))


@bp.post("/people")
@api_token_required
def add_person() -> tuple[Response, int]:
    """Add a person."""
    person = service.add_person(db(), json_body(), region=current_settings().phone_region, now=current_clock(),
                                actor=current_actor())
    return jsonify(person_json(person)), 201


@bp.get("/people/<raw_id>")
@api_token_required
def get_person(raw_id: str) -> Response:
    """One person."""
    return jsonify(person_json(service.get_person(db(), path_id(raw_id, "person"))))


@bp.patch("/people/<raw_id>")
@api_token_required
def update_person(raw_id: str) -> Response:
    """Change a person's name, address, number, organisation or active flag."""
    person = service.update_person(db(), path_id(raw_id, "person"), json_body(),
                                   region=current_settings().phone_region, now=current_clock(), actor=current_actor())
    return jsonify(person_json(person))
