"""CSV downloads: the SLA report, one row per period and severity; the ticket list, one row per ticket.

Written with the standard `csv` module. A cell of someone's words (a subject, a name, a comment) that a
spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a return) gets a leading
apostrophe (OWASP's advice on CSV injection): what a customer typed stays text when the manager opens
the file. The line's own values (numbers, E.164 phone numbers, ISO times) go as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from people.models import Organization, Person
from tickets.models import Ticket
from tickets.report import SlaReport

# Tickets read from the database at a time while a list streams out.
ROWS_AT_A_TIME = 500

REPORT_COLUMNS = (
    "period_start", "period_end", "severity", "opened", "answered", "within_target", "within_target_percent",
    "answered_late", "unanswered_past_due", "breaches", "waiting", "median_first_response_seconds",
    "p90_first_response_seconds", "resolved", "satisfied", "dissatisfied",
)

TICKET_COLUMNS = (
    "number", "severity", "reported_severity", "status", "source", "opened_at", "response_due_at",
    "first_response_at", "responded_by", "within_target", "resolved_at", "requester", "requester_email",
    "organization", "caller_number", "subject", "satisfaction", "satisfaction_comment",
)


def _words(value: str | None) -> str:
    """Someone's words as a cell that no spreadsheet runs as a formula."""
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_line(values: Iterable[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def csv_filename(what: str, now: datetime) -> str:
    """A download's file name, stamped with the day it was made: `tickets-2026-12-04.csv`."""
    return f"{what}-{now.date().isoformat()}.csv"


def _seconds(span: Any) -> int | str:
    return "" if span is None else int(span.total_seconds())


def _percent(share: float | None) -> str:
    return "" if share is None else f"{100 * share:.1f}"


def report_csv(report: SlaReport) -> str:
    """The report as CSV text: a header, then each period's severities and "all"."""
    lines = [_csv_line(REPORT_COLUMNS)]
    for period in report.periods:
        for severity, f in period.by_severity.items():
            lines.append(_csv_line((
                period.start.isoformat(), period.end.isoformat(), severity, f.opened, f.answered, f.within,
                _percent(f.within_share), f.late, f.unanswered_breached, f.breaches, f.waiting, _seconds(f.median),
                _seconds(f.p90), f.resolved, f.satisfied, f.dissatisfied)))
    return "".join(lines)


def _iso(at: datetime | None) -> str:
    return "" if at is None else at.isoformat()


def _within(ticket: Ticket, now: datetime) -> str:
    if ticket.first_response_at is not None:
        return "yes" if ticket.first_response_at <= ticket.response_due_at else "no"
    return "no" if ticket.response_due_at < now else ""


def ticket_csv_lines(session: Session, query: Select[Any], now: datetime) -> Iterator[str]:
    """The tickets of `query` (a select of Ticket) as CSV lines, header first, read ROWS_AT_A_TIME at a time."""
    yield _csv_line(TICKET_COLUMNS)
    wanted = query.subquery()
    rows = (select(Ticket, Person.name, Person.email, Organization.name)
            .join(wanted, wanted.c.id == Ticket.id)
            .outerjoin(Person, Person.id == Ticket.requester_id)
            .outerjoin(Organization, Organization.id == Ticket.organization_id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc()))
    for ticket, name, email, organization in session.execute(rows.execution_options(yield_per=ROWS_AT_A_TIME)):
        yield _csv_line((
            ticket.number, ticket.severity, ticket.reported_severity or "", ticket.status, ticket.source,
            _iso(ticket.created_at), _iso(ticket.response_due_at), _iso(ticket.first_response_at),
            _words(ticket.responded_by), _within(ticket, now), _iso(ticket.resolved_at), _words(name), _words(email),
            _words(organization), ticket.caller_number or "", _words(ticket.subject), ticket.satisfaction or "",
            _words(ticket.satisfaction_comment)))
