"""The admin pages for tickets: a list filtered by status and severity, each ticket's timeline
with what an engineer does about it, and how the first-response targets were kept.

On a ticket's page an engineer acknowledges, resolves or reopens it, adds a note, and
starts an engineer callback (the SMS `ACK`, `RESOLVE` and `CALL` of the same line). Each
action is a small form with a CSRF token; the view calls one `tickets.service`
function and redirects back with a message. A refusal (a resolved ticket, no callback
number, an empty note, an unknown contact) is shown above the ticket with a 4xx status
and nothing changes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, g, redirect, render_template, request, send_file, stream_with_context, url_for
from sqlalchemy import select

from core.clock import current_clock
from core.db import db
from core.settings import current_settings
from staff.admins import login_required
from web.pages import current_page, field_errors, missing, page_of, protect_pages
from oncall.models import Contact
from oncall.service import duty_at
from tickets import scheduled_calls, service
from tickets.mailing import identity_of
from tickets.models import STATUSES, Attachment, Ticket
from tickets.outbox import fate_of
from tickets.records import find_ticket
from tickets.fields import MAX_NOTE_LENGTH, InvalidTicketChange, TicketConflict, TicketNotFound
from tickets.exports import csv_filename, ticket_csv_lines
from tickets.listing import SEVERITIES, TicketFilter, matching, read_filter
from tickets.messages import short_time
from tickets.sla import Severity, target_description

bp = Blueprint("ticket_pages", __name__, url_prefix="/admin/tickets", template_folder="templates")
protect_pages(bp)
bp.add_app_template_global(fate_of, "fate_of")


# ----------------------------------------------------------------------------- the list and the SLA summary


def _wanted() -> TicketFilter:
    wanted, problems = read_filter(request.args)
    for problem in problems:
        flash(problem, "error")
    return wanted


@bp.get("/")
@login_required
def tickets() -> Any:
    """Tickets, newest first, filtered by `?status=`, `?severity=`, `?breached=yes`, `?from=` and `?to=` (local days
    they were opened) and `?organization_id=`; `?number=` opens one."""
    number = request.args.get("number", "").strip()
    if number:
        return redirect(url_for("ticket_pages.ticket", number=number))
    wanted, now = _wanted(), current_clock()
    return render_template(
        "tickets/list.html",
        tickets=page_of(db(), matching(wanted, now, _zone()), current_page()),
        wanted=wanted,
        statuses=STATUSES,
        severities=SEVERITIES,
        now=now,
    )


@bp.get("/tickets.csv")
@login_required
def tickets_csv() -> Response:
    """Every ticket the list's filters name, as CSV (one row a ticket, newest first), streamed."""
    wanted, now = _wanted(), current_clock()

    def lines() -> Iterator[str]:
        yield from ticket_csv_lines(db(), matching(wanted, now, _zone()), now)
        # The read ends with its last line, not whenever the server closes the response.
        db().rollback()

    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{csv_filename("tickets", now)}"'})


@bp.get("/sla")
@login_required
def sla() -> Any:
    """Where the SLA summary was: the report has its figures now."""
    return redirect(url_for("report_pages.report"), 301)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_settings().support_timezone)


# ----------------------------------------------------------------------------- one ticket


def _missing(number: str) -> tuple[str, int]:
    return missing(f"There is no ticket {number}.")


def _ticket_page(number: str, status: int = 200, form: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None) -> tuple[str, int]:
    found = find_ticket(db(), number)
    if found is None:
        return _missing(number)
    now = current_clock()
    recording_url = found.recording_url if (found.recording_url or "").startswith(("https://", "http://")) else None
    contacts = db().scalars(select(Contact).where(Contact.active.is_(True)).order_by(Contact.name, Contact.id)).all()
    form = form or {}
    if "contact_id" not in form:
        on_duty = duty_at(db(), now).on_duty
        form["contact_id"] = str(on_duty.contact_id) if on_duty else ""
    return render_template(
        "tickets/ticket.html",
        ticket=found,
        recording_url=recording_url,
        notifications=service.ticket_notifications(db(), found),
        contacts=contacts,
        form=form,
        max_note_length=MAX_NOTE_LENGTH,
        now=now,
        errors=errors or {},
        severities=SEVERITIES,
        target_description=lambda severity: target_description(Severity(severity)),
        scheduled=scheduled_calls.calls_of(db(), found),
        when_of=scheduled_calls.when_of,
        support_zone=current_settings().support_timezone,
        call_phone=found.callback_number or (found.requester.phone if found.requester else None),
    ), status


@bp.get("/<number>")
@login_required
def ticket(number: str) -> Any:
    """One ticket: details, time left, what to do about it, timeline, voicemail, calls and notifications."""
    return _ticket_page(number)


def _carry_out(number: str, refused: str, action: Callable[[], tuple[Ticket, str]],
               form: dict[str, str] | None = None) -> Any:
    """Run one change to a ticket: on success back to its page with `action`'s message;
    on a refusal the page again, with the reason, the form as typed and a 4xx status."""
    try:
        changed, message = action()
    except TicketNotFound:
        db().rollback()
        return _missing(number)
    except InvalidTicketChange as error:
        db().rollback()
        flash(f"{refused}: {error}.", "error")
        return _ticket_page(number, 409 if isinstance(error, TicketConflict) else 422, form, field_errors(error))
    flash(message, "ok")
    return redirect(url_for("ticket_pages.ticket", number=changed.number))


@bp.get("/<number>/attachments/<int(max=2147483647):attachment_id>")
@login_required
def attachment(number: str, attachment_id: int) -> Any:
    """A file that came with a ticket's message, as a download: never shown inline, whatever it claims to be."""
    found = find_ticket(db(), number)
    kept = db().get(Attachment, attachment_id)
    if found is None or kept is None or kept.comment.ticket_id != found.id:
        return missing(f"Ticket {number} has no attachment {attachment_id}.")
    download = send_file(io.BytesIO(kept.data), mimetype="application/octet-stream", as_attachment=True,
                         download_name=kept.filename)
    download.headers["X-Content-Type-Options"] = "nosniff"
    return download


@bp.post("/<number>/acknowledge")
@login_required
def acknowledge(number: str) -> Any:
    """Acknowledge an open ticket; if nobody had answered it yet, this is its first response."""

    def act() -> tuple[Ticket, str]:
        now = current_clock()
        ticket = service.acknowledge_ticket(db(), number, now=now, actor=g.actor)
        if ticket.first_response_at == now and ticket.responded_by == g.actor:
            return ticket, f"Ticket {ticket.number} acknowledged: first response recorded, the SLA reminders stop."
        return ticket, f"Ticket {ticket.number} acknowledged."

    return _carry_out(number, "Not acknowledged", act)


@bp.post("/<number>/resolve")
@login_required
def resolve(number: str) -> Any:
    """Resolve a ticket (its first response too, if nobody had answered it)."""

    def act() -> tuple[Ticket, str]:
        ticket = service.resolve_ticket(db(), number, now=current_clock(), actor=g.actor)
        return ticket, f"Ticket {ticket.number} resolved."

    return _carry_out(number, "Not resolved", act)


@bp.post("/<number>/reopen")
@login_required
def reopen(number: str) -> Any:
    """Open a resolved ticket again."""

    def act() -> tuple[Ticket, str]:
        ticket = service.reopen_ticket(db(), number, now=current_clock(), actor=g.actor)
        return ticket, f"Ticket {ticket.number} reopened."

    return _carry_out(number, "Not reopened", act)


@bp.post("/<number>/notes")
@login_required
def add_note(number: str) -> Any:
    """Add a note to the ticket's timeline; a refused note stays in the box to be fixed."""
    text = request.form.get("note", "")

    def act() -> tuple[Ticket, str]:
        event = service.add_note(db(), number, text, now=current_clock(), actor=g.actor)
        return event.ticket, f"Note added to ticket {event.ticket.number}."

    return _carry_out(number, "Note not added", act, {"note": text})


@bp.post("/<number>/replies")
@login_required
def reply(number: str) -> Any:
    """Reply to the customer: in the conversation and, when they have an address, by mail."""
    text = request.form.get("reply", "")

    def act() -> tuple[Ticket, str]:
        ticket, _, mailed = service.reply_to_customer(db(), number, text, now=current_clock(), actor=g.actor,
                                                      channel="web", mail=identity_of(current_settings()))
        if mailed:
            return ticket, f"Reply added to ticket {ticket.number} and mailed to {ticket.requester.email}."
        return ticket, (f"Reply added to ticket {ticket.number}; not mailed: "
                        + ("MAIL_FROM is not set." if ticket.requester and ticket.requester.email
                           else "the ticket's requester has no e-mail address."))

    return _carry_out(number, "Reply not added", act, {"reply": text})


@bp.post("/<number>/reclassify")
@login_required
def reclassify(number: str) -> Any:
    """Change the ticket's severity, with the reason the requester will read (required here)."""
    form = {"severity": request.form.get("severity", ""), "reason": request.form.get("reason", "")}

    def act() -> tuple[Ticket, str]:
        if not form["reason"].strip():
            raise InvalidTicketChange("give the reason for the new severity: the requester reads it", "reason")
        settings = current_settings()
        ticket = service.update_ticket(db(), number, dict(form), region=settings.phone_region,
                                       calendar=settings.calendar, now=current_clock(), actor=g.actor)
        return ticket, f"Ticket {ticket.number} is {ticket.severity}: first response due by {short_time(ticket.response_due_at, settings.support_timezone)}."

    return _carry_out(number, "Not reclassified", act, form)


@bp.post("/<number>/callback")
@login_required
def start_callback(number: str) -> Any:
    """Queue an engineer callback: the line rings the chosen engineer, then the customer."""
    contact_id = request.form.get("contact_id", "")

    def act() -> tuple[Ticket, str]:
        ticket, call = service.start_callback(db(), number, contact_id, region=current_settings().phone_region,
                                              now=current_clock(), actor=g.actor)
        return ticket, (f"Callback queued: the line will ring {call.recipient} at {call.to_number}, then the customer "
                        f"at {ticket.callback_number}. Its outcome shows under Notifications and Calls below.")

    return _carry_out(number, "No callback", act, {"contact_id": contact_id})


# ----------------------------------------------------------------------------- scheduled calls


def _scheduled_fields(*names: str) -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in names if request.form.get(name, "").strip()}


@bp.post("/<number>/scheduled-calls")
@login_required
def schedule_call(number: str) -> Any:
    """Plan a call with the requester: the engineer, a local time in a zone, how long, which number."""
    fields = _scheduled_fields("contact_id", "local_time", "timezone", "minutes", "phone")
    settings = current_settings()

    def act() -> tuple[Ticket, str]:
        call = scheduled_calls.schedule_call(db(), number, fields, region=settings.phone_region, now=current_clock(),
                                             actor=g.actor, identity=identity_of(settings))
        invited = "; the invitations are on their way" if identity_of(settings) else (
            "; no invitations: MAIL_FROM is not set")
        return call.ticket, f"Call planned {scheduled_calls.when_of(call)}{invited}."

    return _carry_out(number, "No call planned", act, {f"schedule_{k}": v for k, v in fields.items()})


@bp.post("/<number>/scheduled-calls/<call_id>/move")
@login_required
def reschedule_call(number: str, call_id: str) -> Any:
    """Move a planned call to another local time; the updated invitations go out."""
    fields = _scheduled_fields("local_time", "timezone")

    def act() -> tuple[Ticket, str]:
        call = scheduled_calls.reschedule_call(db(), number, call_id, fields, now=current_clock(), actor=g.actor,
                                               identity=identity_of(current_settings()))
        return call.ticket, f"Call moved: now {scheduled_calls.when_of(call)}."

    return _carry_out(number, "Not moved", act)


@bp.post("/<number>/scheduled-calls/<call_id>/cancel")
@login_required
def cancel_call(number: str, call_id: str) -> Any:
    """Call off a planned call; the cancellations go out."""
    def act() -> tuple[Ticket, str]:
        call = scheduled_calls.cancel_call(db(), number, call_id, now=current_clock(), actor=g.actor,
                                           identity=identity_of(current_settings()))
        return call.ticket, f"Call {scheduled_calls.when_of(call)} called off."

    return _carry_out(number, "Not called off", act)
