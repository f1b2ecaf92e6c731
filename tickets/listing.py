"""The admin ticket list's filters, shared by its page, its CSV download and the SLA report's links.

A filter the list cannot read (an unknown status, a date that is not one) is dropped and said, so
the page still shows tickets; each filter narrows the same index-backed, newest-first query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from core.limits import EARLIEST_YEAR, LATEST_YEAR, MAX_ROW_ID
from tickets.models import STATUSES, Ticket
from tickets.report import breached, start_instant
from tickets.sla import Severity

SEVERITIES = tuple(s.value for s in Severity)


@dataclass(frozen=True)
class TicketFilter:
    """Which tickets the list shows: by status, severity, breach, the local days they were opened, organisation."""

    status: str = ""
    severity: str = ""
    breached: bool = False
    first_day: date | None = None
    last_day: date | None = None
    organization_id: int | None = None

    def args(self) -> dict[str, str]:
        """The filter as query parameters (for links and the pager), empty ones left out."""
        values = {"status": self.status, "severity": self.severity, "breached": "yes" if self.breached else "",
                  "from": self.first_day.isoformat() if self.first_day else "",
                  "to": self.last_day.isoformat() if self.last_day else "",
                  "organization_id": str(self.organization_id) if self.organization_id else ""}
        return {name: value for name, value in values.items() if value}

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set."""
        return bool(self.args())


def _day(value: str, name: str, problems: list[str]) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(f"{name} {value[:40]!r} is not a date like 2026-11-30: showing tickets of any day.")
        return None
    if not EARLIEST_YEAR < day.year < LATEST_YEAR:
        problems.append(f"{name} must be in the years {EARLIEST_YEAR + 1} to {LATEST_YEAR - 1}: showing any day.")
        return None
    return day


def read_filter(args: Mapping[str, str]) -> tuple[TicketFilter, list[str]]:
    """The filter `args` ask for, and a sentence for each part that could not be read (and was dropped)."""
    problems: list[str] = []

    def choice(name: str, allowed: tuple[str, ...]) -> str:
        value = (args.get(name) or "").strip()
        if value and value not in allowed:
            problems.append(f"Unknown {name} {value[:40]!r}: showing every {name}. Choose one of {', '.join(allowed)}.")
            return ""
        return value

    status, severity = choice("status", STATUSES), choice("severity", SEVERITIES)
    flag = choice("breached", ("yes",))
    organization = (args.get("organization_id") or "").strip()
    if organization and not (organization.isdigit() and 0 < int(organization) <= MAX_ROW_ID):
        problems.append(f"organization_id {organization[:40]!r} is not an organisation's id: showing every organisation.")
        organization = ""
    return TicketFilter(status, severity, flag == "yes", _day((args.get("from") or "").strip(), "from", problems),
                        _day((args.get("to") or "").strip(), "to", problems),
                        int(organization) if organization else None), problems


def matching(wanted: TicketFilter, now: datetime, zone: ZoneInfo) -> Select[Any]:
    """The tickets `wanted` names, newest first."""
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if wanted.status:
        query = query.where(Ticket.status == wanted.status)
    if wanted.severity:
        query = query.where(Ticket.severity == wanted.severity)
    if wanted.breached:
        query = query.where(breached(now))
    if wanted.first_day:
        query = query.where(Ticket.created_at >= start_instant(wanted.first_day, zone))
    if wanted.last_day:
        query = query.where(Ticket.created_at < start_instant(wanted.last_day + timedelta(days=1), zone))
    if wanted.organization_id:
        query = query.where(Ticket.organization_id == wanted.organization_id)
    return query
