"""The REST API for the call log (contract §7): read-only, one JSON object per call.

A call is the same JSON object in the list and on its own, its `events` included: the
list loads the events and tickets of a whole page in one extra query each
(selectinload), so it makes no query per call.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import db, rows_and_more
from core.limits import clipped
from ivr.models import CALL_SID, CallLog
from staff.tokens import api_token_required
from web.api import ApiError, count_of, handle_api_errors, page, page_args

bp = Blueprint("calls_api", __name__, url_prefix="/api")
handle_api_errors(bp)


def answered_by(call: CallLog) -> dict[str, Any] | None:
    """Who took the call, as a contact: `id` (null for the fallback number or a customer), `name`, `phone`."""
    if call.accepted_target is None or call.outcome not in ("connected", "fallback"):
        return None
    target = call.targets[call.accepted_target]
    return {"id": target.get("contact_id"), "name": target["name"], "phone": target["phone"]}


def call_json(call: CallLog) -> dict[str, Any]:
    """A call as the REST API shows it, its steps included."""
    return {
        "call_sid": call.call_sid,
        "from": call.from_number,
        "to": call.to_number,
        "status": call.status,
        "started_at": call.started_at.isoformat(),
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "duration": call.duration,
        "ticket": call.ticket.number if call.ticket else None,
        "answered_by": answered_by(call),
        "outcome": call.outcome,
        "events": [{"at": e.at.isoformat(), "kind": e.kind, "detail": e.detail} for e in call.events],
    }


def _with_details(query: Any) -> Any:
    return query.options(selectinload(CallLog.events), selectinload(CallLog.ticket))


@bp.get("/calls")
@api_token_required
def list_calls() -> Response:
    """Calls, newest first."""
    args = page_args()
    query = select(CallLog)
    calls, more = rows_and_more(
        db(), _with_details(query).order_by(CallLog.started_at.desc(), CallLog.id.desc()), args.limit, args.offset
    )
    return page([call_json(c) for c in calls], args, more, count_of(db(), query, args))


@bp.get("/calls/<call_sid>")
@api_token_required
def get_call(call_sid: str) -> Response:
    """One call with every step it took."""
    call = None
    # The webhooks log only well-formed CallSids; anything else is not worth a query.
    if CALL_SID.fullmatch(call_sid):
        call = db().scalar(_with_details(select(CallLog).where(CallLog.call_sid == call_sid)))
    if call is None:
        raise ApiError(404, f"there is no call {clipped(call_sid, 40)!r}")
    return jsonify(call_json(call))
