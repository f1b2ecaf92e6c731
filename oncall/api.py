"""The REST API for contacts, the rotation, overrides and who is on call (contract §7).

Thin views: parse JSON, call one service function, answer JSON. Domain errors become
`{"error": "..."}` with 404 or 422; a bad body is 400; a missing token 401.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for
from sqlalchemy import select

from core.clock import current_clock
from core.db import db, rows_and_more
from core.settings import current_settings
from oncall import service
from oncall.models import Contact, Override
from oncall.openapi import document
from oncall.schedule import Member
from oncall.service import ChangeConflict, InvalidChange, NotFound, contact_json, override_json, parse_instant, rotation_json
from staff.audit import current_actor
from staff.tokens import api_token_required
from web.api import ApiError, count_of, handle_api_errors, json_body, page, page_args, path_id, query_value

bp = Blueprint("oncall_api", __name__, url_prefix="/api")
handle_api_errors(bp, invalid=(InvalidChange,), missing=(NotFound,), conflict=(ChangeConflict,))

def _calendar_url(contact_id: int | None) -> str:
    return _feed_url(service.feed_secret(db(), contact_id, current_clock()))


def _feed_url(secret: str) -> str:
    return url_for("oncall_feeds.calendar", secret=secret, _external=True)


def _contacts(contacts: list[Contact]) -> list[dict[str, Any]]:
    """Contacts as the API shows them, with their calendar feeds (one query for the lot)."""
    secrets = service.feed_secrets(db(), [c.id for c in contacts], current_clock())
    return [{**contact_json(c), "calendar_url": _feed_url(secrets[c.id])} for c in contacts]


def _contact(contact: Contact) -> dict[str, Any]:
    return _contacts([contact])[0]


def _member(member: Member | None) -> dict[str, Any] | None:
    if member is None:
        return None
    return {"id": member.contact_id, "name": member.name, "phone": member.phone, "email": member.email,
            "active": member.active}


def _contact_id(raw: str) -> int:
    return path_id(raw, "contact")


@bp.get("/contacts")
@api_token_required
def list_contacts() -> Response:
    """Every contact, active or not, by id."""
    args = page_args()
    query = select(Contact).order_by(Contact.id)
    contacts, more = rows_and_more(db(), query, args.limit, args.offset)
    return page(_contacts(contacts), args, more, count_of(db(), query, args))


@bp.post("/contacts")
@api_token_required
def add_contact() -> tuple[Response, int]:
    """Add a contact."""
    contact = service.add_contact(db(), json_body(), region=current_settings().phone_region, now=current_clock(),
                                  actor=current_actor())
    return jsonify(_contact(contact)), 201


@bp.get("/contacts/<raw_id>")
@api_token_required
def get_contact(raw_id: str) -> Response:
    """One contact."""
    return jsonify(_contact(service.get_contact(db(), _contact_id(raw_id))))


@bp.patch("/contacts/<raw_id>")
@api_token_required
def update_contact(raw_id: str) -> Response:
    """Change a contact's name, phone, email or active flag."""
    contact = service.update_contact(db(), _contact_id(raw_id), json_body(), region=current_settings().phone_region,
                                     now=current_clock(), actor=current_actor())
    return jsonify(_contact(contact))


@bp.get("/rotation")
@api_token_required
def get_rotation() -> Response:
    """The rotation in force now, with its secret calendar feed."""
    rotation = service.rotation_in_force(db(), current_clock())
    return jsonify({**rotation_json(rotation), "calendar_url": _calendar_url(None)})


@bp.put("/rotation")
@api_token_required
def put_rotation() -> Response:
    """Save a new rotation version (from now, or from `effective_from`)."""
    rotation = service.save_rotation(db(), json_body(), now=current_clock(), actor=current_actor())
    return jsonify({**rotation_json(rotation), "calendar_url": _calendar_url(None)})


@bp.get("/overrides")
@api_token_required
def list_overrides() -> Response:
    """Overrides, soonest first; `?all=1` includes those that have ended."""
    args = page_args()
    query = select(Override)
    every = (query_value("all") or "false").lower()
    if every not in {"1", "true", "0", "false"}:
        raise ApiError(400, "all must be true or false (1 or 0)")
    if every in {"0", "false"}:
        query = query.where(Override.end > current_clock())
    rows, more = rows_and_more(db(), query.order_by(Override.start, Override.id), args.limit, args.offset)
    return page([override_json(o) for o in rows], args, more, count_of(db(), query, args))


@bp.post("/overrides")
@api_token_required
def add_override() -> tuple[Response, int]:
    """Put a contact on duty for a while."""
    override = service.add_override(db(), json_body(), now=current_clock(), actor=current_actor())
    return jsonify(override_json(override)), 201


@bp.delete("/overrides/<raw_id>")
@api_token_required
def delete_override(raw_id: str) -> tuple[str, int]:
    """Remove an override that has not started; end one in progress now (its record stays)."""
    service.withdraw_override(db(), path_id(raw_id, "override"), now=current_clock(), actor=current_actor())
    return "", 204


@bp.get("/oncall")
@api_token_required
def oncall() -> Response:
    """Who is on duty at `at` (default now), since and until when, who is rung after them, and who takes over."""
    asked = query_value("at")
    at = parse_instant(asked, "at") if asked is not None else current_clock()
    outlook = service.duty_outlook(db(), at)
    duty = outlook.duty
    return jsonify(
        at=at.isoformat(),
        on_duty=_member(duty.on_duty),
        escalation=[_member(m) for m in duty.escalation],
        shift_start=duty.shift_start.isoformat() if duty.shift_start else None,
        shift_end=duty.shift_end.isoformat() if duty.shift_end else None,
        override=duty.override,
        next=_member(outlook.next),
    )


@bp.get("/openapi.json")
def openapi() -> Response:
    """The API's OpenAPI 3.1 description (no token needed)."""
    return jsonify(document())
