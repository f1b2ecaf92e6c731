"""The REST API for tickets (contract §7).

Thin views: parse the query or the JSON body, call one service function, answer JSON.
Bad query parameters are 400, a bad body 400 (not JSON, not an object) or 422 (a field
the ticket cannot take), an unknown ticket 404, a missing or wrong token 401.

A ticket is the same JSON object everywhere, its `events` included: the list loads the
events of a whole page in one extra query (selectinload), so it makes no query per ticket.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from people.models import Organization
from people.service import person_json

from core.clock import current_clock
from core.db import db, rows_and_more
from core.limits import clipped
from core.settings import current_settings
from oncall.service import duty_at
from tickets import scheduled_calls, service
from tickets.fields import InvalidTicketChange, TicketNotFound, parse_status
from tickets.mailing import identity_of
from tickets.models import STATUSES, Comment, Notification, Ticket
from tickets.report import Figures, InvalidReport, ReportOutOfBounds, SlaReport, report_query, sla_report
from tickets.sla import Severity, parse_severity
from staff.audit import current_actor
from staff.tokens import api_token_required
from web.api import ApiError, count_of, handle_api_errors, json_body, page, page_args, query_value

bp = Blueprint("tickets_api", __name__, url_prefix="/api")
handle_api_errors(bp, invalid=(InvalidTicketChange,), missing=(TicketNotFound,))

# Values a filter may list (`?status=open,acknowledged`); more is not a real query.
MAX_FILTER_VALUES = 10

T = TypeVar("T")


def query_filter(name: str, parse: Callable[[str], T], allowed: list[str]) -> list[T]:
    """The values of filter `name`: repeated (`?status=a&status=b`) or comma separated; empty means any."""
    raw = [part.strip() for value in request.args.getlist(name) for part in value.split(",")]
    raw = [part for part in raw if part]
    if len(raw) > MAX_FILTER_VALUES:
        raise ApiError(400, f"{name} takes at most {MAX_FILTER_VALUES} values")
    values: list[T] = []
    for part in raw:
        try:
            values.append(parse(part))
        except ValueError:
            raise ApiError(400, f"{name} {clipped(part, 40)!r} is not one of {', '.join(allowed)}") from None
    return values


@bp.get("/tickets")
@api_token_required
def list_tickets() -> Response:
    """Tickets, newest first; `?status=` and `?severity=` narrow the list (several values: comma separated)."""
    statuses = query_filter("status", parse_status, list(STATUSES))
    severities = query_filter("severity", parse_severity, [s.value for s in Severity])
    args = page_args()
    tickets, more, total = service.list_tickets(
        db(), statuses=statuses, severities=severities, limit=args.limit, offset=args.offset, with_total=args.with_total
    )
    return page([ticket_json(t) for t in tickets], args, more, total)


@bp.post("/tickets")
@api_token_required
def create_ticket() -> tuple[Response, int, dict[str, str]]:
    """Open a ticket (source "api") from `severity`, `description`, `caller_number`, `callback_number`;
    the engineer on duty gets the usual `new_ticket` text."""
    ticket = service.create_ticket(
        db(), json_body(), region=current_settings().phone_region, calendar=current_settings().calendar, now=current_clock(),
        actor=current_actor(), duty_at=lambda at: duty_at(db(), at),
    )
    location = url_for("tickets_api.get_ticket", number=str(ticket.number))
    return jsonify(ticket_json(ticket)), 201, {"Location": location}


@bp.get("/tickets/<number>")
@api_token_required
def get_ticket(number: str) -> Response:
    """One ticket with its timeline."""
    return jsonify(ticket_json(service.get_ticket(db(), number)))


@bp.patch("/tickets/<number>")
@api_token_required
def update_ticket(number: str) -> Response:
    """Change a ticket's `status`, `severity` (reclassify), `description` or `callback_number`."""
    ticket = service.update_ticket(
        db(), number, json_body(), region=current_settings().phone_region, calendar=current_settings().calendar, now=current_clock(),
        actor=current_actor(),
    )
    return jsonify(ticket_json(ticket))


@bp.post("/tickets/<number>/comments")
@api_token_required
def add_comment(number: str) -> tuple[Response, int]:
    """Add to a ticket's conversation: `body`, and `public` (default false): a public comment is mailed
    to the requester and is the ticket's first response if it had none; one that is not is an internal note."""
    fields = json_body()
    unknown = set(fields) - {"body", "public"}
    if unknown:
        raise ApiError(422, f"unknown fields: {', '.join(sorted(unknown))}; allowed fields: body, public")
    public = fields.get("public", False)
    if not isinstance(public, bool):
        raise ApiError(422, "public must be true or false")
    if public:
        _, comment, _ = service.reply_to_customer(db(), number, fields.get("body"), now=current_clock(),
                                                  actor=current_actor(), channel="api",
                                                  mail=identity_of(current_settings()))
    else:
        event = service.add_note(db(), number, fields.get("body"), now=current_clock(), actor=current_actor(),
                                 channel="api")
        comment = event.ticket.comments[-1]
    return jsonify(comment_json(comment)), 201


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """A ticket as the REST API shows it (contract §7), its timeline included."""
    return {
        "number": ticket.number,
        "severity": ticket.severity,
        "reported_severity": ticket.reported_severity,
        "status": ticket.status,
        "source": ticket.source,
        "caller_number": ticket.caller_number,
        "callback_number": ticket.callback_number,
        "description": ticket.description,
        "created_at": _iso(ticket.created_at),
        "response_due_at": _iso(ticket.response_due_at),
        "first_response_at": _iso(ticket.first_response_at),
        "responded_by": ticket.responded_by,
        "resolved_at": _iso(ticket.resolved_at),
        "call_sid": ticket.call_sid,
        "recording_url": ticket.recording_url,
        "transcript": ticket.transcript,
        "requester": person_json(ticket.requester) if ticket.requester is not None else None,
        "organization_id": ticket.organization_id,
        "subject": ticket.subject,
        "satisfaction": ({"answer": ticket.satisfaction, "comment": ticket.satisfaction_comment,
                          "at": _iso(ticket.satisfaction_at)} if ticket.satisfaction else None),
        "comments": conversation_json(ticket),
        "events": [{"at": _iso(e.at), "kind": e.kind, "detail": e.detail} for e in ticket.events],
    }


def conversation_json(ticket: Ticket) -> list[dict[str, Any]]:
    """The ticket's conversation in order, whatever channel each message came by: the call that opened it
    (with its voicemail), the comments, and the line's own mails (its replies are comments already)."""
    entries = [(c.at, comment_json(c)) for c in ticket.comments]
    if ticket.source == "phone":
        entries.append((ticket.created_at, {"at": _iso(ticket.created_at), "author": ticket.caller_number or
                        "a withheld number", "channel": "phone", "public": True, "body": _call_summary(ticket),
                        "attachments": []}))
    for mail in ticket.automatic_mails:
        entries.append((mail.created_at, {"at": _iso(mail.created_at), "author": "support", "channel": "email",
                                          "public": True, "body": f"{mail.subject}\n\n{mail.body}",
                                          "attachments": []}))
    return [entry for _, entry in sorted(entries, key=lambda pair: pair[0])]


def _call_summary(ticket: Ticket) -> str:
    summary = f"A call: {ticket.severity} ticket, callback {ticket.callback_number or 'none'}."
    if ticket.transcript:
        summary += f"\nVoicemail: {ticket.transcript}"
    if ticket.recording_url:
        summary += f"\nRecording: {ticket.recording_url}"
    return summary


def comment_json(comment: Comment) -> dict[str, Any]:
    """One message of a ticket's conversation (contract §8), its attachments named, not included."""
    return {"at": _iso(comment.at), "author": comment.author, "channel": comment.channel, "public": comment.public,
            "body": comment.body,
            "attachments": [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
                            for a in comment.attachments]}


def notification_json(notification: Notification) -> dict[str, Any]:
    """An outbox row as contract §7 shows it."""
    return {
        "id": notification.id,
        "ticket": notification.ticket.number if notification.ticket else None,
        "to": notification.to_number,
        "channel": notification.channel,
        "kind": notification.kind,
        "status": notification.status,
        "attempts": notification.attempts,
        "body": notification.body,
        "created_at": notification.created_at.isoformat(),
        "sent_at": notification.sent_at.isoformat() if notification.sent_at else None,
        "provider_sid": notification.provider_sid,
    }


@bp.get("/notifications")
@api_token_required
def list_notifications() -> Response:
    """Every message the line sent or will send, newest first; `?ticket=<number>` for one ticket's."""
    args = page_args()
    query = select(Notification)
    number = query_value("ticket")
    if number is not None:
        ticket = service.get_ticket(db(), number)
        query = query.where(Notification.ticket_id == ticket.id)
    ordered = query.options(selectinload(Notification.ticket)).order_by(Notification.created_at.desc(), Notification.id.desc())
    rows, more = rows_and_more(db(), ordered, args.limit, args.offset)
    return page([notification_json(n) for n in rows], args, more, count_of(db(), query, args))


# ----------------------------------------------------------------------------- the SLA report


def _seconds(span: Any) -> int | None:
    return None if span is None else int(span.total_seconds())


def figures_json(f: Figures) -> dict[str, Any]:
    """One severity's figures in one period."""
    return {"opened": f.opened, "answered": f.answered, "within_target": f.within,
            "within_target_share": f.within_share, "answered_late": f.late,
            "unanswered_past_due": f.unanswered_breached, "breaches": f.breaches, "waiting": f.waiting,
            "median_first_response_seconds": _seconds(f.median), "p90_first_response_seconds": _seconds(f.p90),
            "resolved": f.resolved, "satisfied": f.satisfied, "dissatisfied": f.dissatisfied}


def report_json(report: SlaReport) -> dict[str, Any]:
    """The SLA report: its query, each period's figures by severity, the tickets at risk, the newest breaches."""
    def listed(t: Any) -> dict[str, Any]:
        return {"number": t.number, "severity": t.severity, "status": t.status, "created_at": _iso(t.created_at),
                "response_due_at": _iso(t.response_due_at), "first_response_at": _iso(t.first_response_at),
                "url": url_for("tickets_api.get_ticket", number=t.number)}

    query = report.query
    return {
        "group": query.period, "from": query.first_day.isoformat(), "to": query.last_day.isoformat(),
        "organization_id": query.organization_id, "timezone": report.timezone, "as_of": _iso(report.as_of),
        "now": _iso(report.now),
        "periods": [{"start": p.start.isoformat(), "end": p.end.isoformat(),
                     "severities": {severity: figures_json(f) for severity, f in p.by_severity.items()}}
                    for p in report.periods],
        "at_risk": [listed(t) for t in report.at_risk],
        "breaches": {"total": report.breaches, "newest": [listed(t) for t in report.newest_breaches]},
    }


@bp.get("/reports/sla")
@api_token_required
def sla_report_json() -> Response:
    """The SLA report for `?group=month|week&from=&to=&organization_id=` (dates of the support time zone): 400 for a
    value that cannot be read, 422 for dates that make no report (from after to, more than MAX_PERIODS)."""
    zone = ZoneInfo(current_settings().support_timezone)
    now = current_clock()
    try:
        query = report_query(request.args, now.astimezone(zone).date())
    except ReportOutOfBounds as refusal:
        raise ApiError(422, str(refusal)) from None
    except InvalidReport as refusal:
        raise ApiError(400, str(refusal)) from None
    if query.organization_id is not None and db().get(Organization, query.organization_id) is None:
        raise ApiError(404, f"there is no organisation {query.organization_id}")
    return jsonify(report_json(sla_report(db(), query, now, zone)))


# ----------------------------------------------------------------------------- scheduled calls


@bp.get("/tickets/<number>/scheduled-calls")
@api_token_required
def list_scheduled_calls(number: str) -> Response:
    """A ticket's scheduled calls, soonest first."""
    ticket = service.get_ticket(db(), number)
    return jsonify({"items": [scheduled_calls.call_json(c) for c in scheduled_calls.calls_of(db(), ticket)]})


@bp.post("/tickets/<number>/scheduled-calls")
@api_token_required
def schedule_call(number: str) -> tuple[Response, int]:
    """Plan a call with the requester: `contact_id`, `local_time`, `timezone`, optional `minutes` and `phone`."""
    call = scheduled_calls.schedule_call(db(), number, json_body(), region=current_settings().phone_region,
                                         now=current_clock(), actor=current_actor(),
                                         identity=identity_of(current_settings()))
    return jsonify(scheduled_calls.call_json(call)), 201


@bp.patch("/tickets/<number>/scheduled-calls/<call_id>")
@api_token_required
def reschedule_call(number: str, call_id: str) -> Response:
    """Move a scheduled call (`local_time`, `timezone`, `minutes`); the updated invitations go out."""
    call = scheduled_calls.reschedule_call(db(), number, call_id, json_body(), now=current_clock(),
                                           actor=current_actor(), identity=identity_of(current_settings()))
    return jsonify(scheduled_calls.call_json(call))


@bp.delete("/tickets/<number>/scheduled-calls/<call_id>")
@api_token_required
def cancel_call(number: str, call_id: str) -> Response:
    """Call off a scheduled call; the cancellations go out."""
    call = scheduled_calls.cancel_call(db(), number, call_id, now=current_clock(), actor=current_actor(),
                                       identity=identity_of(current_settings()))
    return jsonify(scheduled_calls.call_json(call))
