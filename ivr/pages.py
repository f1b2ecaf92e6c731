"""The admin pages for the call log: every call, and each call's steps from ringing to hang-up."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import db
from ivr.models import CallLog
from oncall.admin import current_page, login_required, page_of, protect_pages

bp = Blueprint("call_pages", __name__, url_prefix="/admin/calls", template_folder="templates")
protect_pages(bp)

OUTCOMES = ("connected", "voicemail", "status_lookup", "abandoned", "fallback")
MAX_CALL_SID_LENGTH = 64


@bp.app_template_filter("call_length")
def call_length(value: int | None) -> str:
    """A call's length for people: "1 min 28 s"."""
    if value is None:
        return "—"
    minutes, rest = divmod(value, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


@bp.get("/")
@login_required
def calls() -> str:
    """Calls, newest first; `?outcome=` narrows them."""
    outcome = request.args.get("outcome", "")
    if outcome and outcome not in OUTCOMES:
        flash(f"Unknown outcome {outcome!r}: showing every call. Choose one of {', '.join(OUTCOMES)}.", "error")
        outcome = ""
    query = select(CallLog).options(selectinload(CallLog.ticket)).order_by(CallLog.started_at.desc(), CallLog.id.desc())
    if outcome:
        query = query.where(CallLog.outcome == outcome)
    return render_template("ivr/calls.html", calls=page_of(db(), query, current_page()), outcome=outcome,
                           outcomes=OUTCOMES)


@bp.get("/<call_sid>")
@login_required
def call(call_sid: str) -> Any:
    """One call: who called, who was rung, how it ended, and every step on the way."""
    found = None
    if len(call_sid) <= MAX_CALL_SID_LENGTH:
        found = db().scalar(select(CallLog).where(CallLog.call_sid == call_sid))
    if found is None:
        flash(f"There is no call {call_sid}.", "error")
        return render_template("oncall/missing.html"), 404
    return render_template("ivr/call.html", call=found)
