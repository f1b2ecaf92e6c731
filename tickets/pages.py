"""The admin pages for tickets: a list filtered by status and severity, and each ticket's timeline."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app import current_clock, db
from ivr.models import CallLog
from oncall.admin import current_page, login_required, page_of, protect_pages
from tickets.models import Ticket
from tickets.service import find_ticket
from tickets.sla import Severity

bp = Blueprint("ticket_pages", __name__, url_prefix="/admin/tickets", template_folder="templates")
protect_pages(bp)

STATUSES = ("open", "acknowledged", "resolved")
SEVERITIES = tuple(s.value for s in Severity)


def _filter(name: str, allowed: tuple[str, ...]) -> str:
    value = request.args.get(name, "")
    if value and value not in allowed:
        flash(f"Unknown {name} {value!r}: showing every {name}. Choose one of {', '.join(allowed)}.", "error")
        return ""
    return value


@bp.get("/")
@login_required
def tickets() -> Any:
    """Tickets, newest first, filtered by `?status=` and `?severity=`; `?number=` opens one."""
    number = request.args.get("number", "").strip()
    if number:
        return redirect(url_for("ticket_pages.ticket", number=number))
    status, severity = _filter("status", STATUSES), _filter("severity", SEVERITIES)
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if status:
        query = query.where(Ticket.status == status)
    if severity:
        query = query.where(Ticket.severity == severity)
    return render_template(
        "tickets/list.html",
        tickets=page_of(db(), query, current_page()),
        status=status,
        severity=severity,
        statuses=STATUSES,
        severities=SEVERITIES,
        now=current_clock(),
    )


@bp.get("/<number>")
@login_required
def ticket(number: str) -> Any:
    """One ticket: its details, its event timeline, the voicemail recording and transcript, its calls."""
    found = find_ticket(db(), number)
    if found is None:
        flash(f"There is no ticket {number}.", "error")
        return render_template("oncall/missing.html"), 404
    calls = db().scalars(select(CallLog).where(CallLog.ticket_id == found.id).order_by(CallLog.started_at)).all()
    recording_url = found.recording_url if (found.recording_url or "").startswith(("https://", "http://")) else None
    return render_template("tickets/ticket.html", ticket=found, calls=calls, recording_url=recording_url,
                           now=current_clock())
