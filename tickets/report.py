"""The SLA report: how tickets kept their first-response target, per severity; and per month, how
requesters answered "resolved to your satisfaction?"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tickets.models import Ticket
from tickets.sla import Severity

# The report looks this far back.
SLA_SUMMARY_DAYS = 30


@dataclass(frozen=True)
class SeveritySummary:
    """How one severity's tickets (or all of them, `severity` "all") kept the first-response target.

    `met`: answered at or before the deadline; `breached`: answered after it, or not
    answered and the deadline has passed; `waiting`: not answered, deadline still ahead.
    `median_response` is over the answered tickets (None when none was answered).
    """

    severity: str
    tickets: int
    met: int
    breached: int
    waiting: int
    median_response: timedelta | None

    @property
    def met_share(self) -> float | None:
        """Met as a share of the tickets whose outcome is known (met or breached), or None."""
        decided = self.met + self.breached
        return self.met / decided if decided else None


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _summarise(severity: str, rows: list[Any], now: datetime) -> SeveritySummary:
    answered = [r for r in rows if r.first_response_at is not None]
    met = sum(1 for r in answered if r.first_response_at <= r.response_due_at)
    waiting = sum(1 for r in rows if r.first_response_at is None and r.response_due_at >= now)
    return SeveritySummary(
        severity=severity,
        tickets=len(rows),
        met=met,
        breached=len(rows) - met - waiting,
        waiting=waiting,
        median_response=_median([r.first_response_at - r.created_at for r in answered]),
    )


def sla_summary(session: Session, since: datetime, now: datetime) -> list[SeveritySummary]:
    """Per severity (critical first, every severity listed) then "all": how tickets created from
    `since` up to `now` kept their first-response target, judged at `now`."""
    rows = session.execute(
        select(Ticket.severity, Ticket.created_at, Ticket.response_due_at, Ticket.first_response_at)
        .where(Ticket.created_at >= since, Ticket.created_at <= now)
    ).all()
    summaries = [_summarise(s.value, [r for r in rows if r.severity == s.value], now) for s in Severity]
    return [*summaries, _summarise("all", list(rows), now)]


# Satisfaction answers are shown for this many months, the current one included.
SATISFACTION_MONTHS = 12


@dataclass(frozen=True)
class MonthOfAnswers:
    """The answers to "resolved to your satisfaction?" given in one month of the support time zone."""

    month: date
    yes: int
    no: int

    @property
    def yes_share(self) -> float | None:
        """Yes as a share of the answers, or None without any."""
        answers = self.yes + self.no
        return self.yes / answers if answers else None


def _month_starts(now: datetime, zone: ZoneInfo, months: int) -> list[datetime]:
    """The first instants of the last `months` local months, oldest first, then the next month's."""
    local = now.astimezone(zone)
    year, month = local.year, local.month
    firsts = []
    for back in range(months - 1, -2, -1):
        y, m = divmod((year * 12 + month - 1) - back, 12)
        firsts.append(datetime(y, m + 1, 1, tzinfo=zone).astimezone(timezone.utc))
    return firsts


def satisfaction_by_month(session: Session, now: datetime, zone: ZoneInfo,
                          months: int = SATISFACTION_MONTHS) -> list[MonthOfAnswers]:
    """Per local month, newest first: how many requesters said yes and no. Counted in the database,
    one statement: each answer's month is found by comparing its time with the months' first instants."""
    starts = _month_starts(now, zone, months)
    month_of = case(*[(Ticket.satisfaction_at < start, index) for index, start in enumerate(starts[1:])],
                    else_=months)
    counted = session.execute(
        select(month_of.label("month"), Ticket.satisfaction, func.count())
        .where(Ticket.satisfaction.is_not(None), Ticket.satisfaction_at >= starts[0],
               Ticket.satisfaction_at < starts[-1])
        .group_by(month_of, Ticket.satisfaction)
    ).all()
    tally = {(index, answer): count for index, answer, count in counted}
    rows = [MonthOfAnswers(starts[i].astimezone(zone).date(), tally.get((i, "yes"), 0), tally.get((i, "no"), 0))
            for i in range(months)]
    return rows[::-1]
