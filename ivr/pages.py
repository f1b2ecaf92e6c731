"""The admin pages for the call log: every call, and each call's steps from ringing to hang-up.

The ticket page shows a ticket's calls through `calls_of_ticket`, and the on-call panel today's
missed calls through `missed_calls_today`, offered here as template globals: tickets and the
rotation know nothing of the call log, the call log knows them.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any

from flask import Blueprint, flash, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.clock import current_clock
from core.db import db
from ivr.models import CallLog
from staff.admins import login_required
from web.pages import current_page, home_zone, missing, page_of, protect_pages

bp = Blueprint("call_pages", __name__, url_prefix="/admin/calls", template_folder="templates")
protect_pages(bp)

OUTCOMES = ("connected", "voicemail", "missed", "status_lookup", "abandoned", "fallback")
MISSED_SHOWN = 10  # on the on-call panel; the calls page lists them all
MAX_CALL_SID_LENGTH = 64


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
        return missing(f"There is no call {call_sid}.")
    return render_template("ivr/call.html", call=found)


@bp.app_template_global("missed_calls_today")
def missed_calls_today(limit: int = MISSED_SHOWN) -> list[CallLog]:
    """Calls nobody took since midnight in the rotation's zone, newest first: the call log offers
    them to the on-call panel, which knows no calls."""
    now = current_clock()
    midnight = datetime.combine(now.astimezone(home_zone()).date(), time(0), tzinfo=home_zone())
    return list(db().scalars(select(CallLog).options(selectinload(CallLog.ticket))
                             .where(CallLog.outcome == "missed", CallLog.started_at >= midnight.astimezone(timezone.utc))
                             .order_by(CallLog.started_at.desc(), CallLog.id.desc()).limit(limit)))


@bp.app_template_global("calls_of_ticket")
def calls_of_ticket(ticket_id: int) -> list[CallLog]:
    """The calls about a ticket, oldest first: the call log offers them to the ticket's page."""
    return list(db().scalars(select(CallLog).where(CallLog.ticket_id == ticket_id).order_by(CallLog.started_at)))
