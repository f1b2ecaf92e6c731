"""The SLA report: per week or month of the support time zone and per severity, how the promise was kept.

For each period: tickets opened, first responses within target (count and share), the median and
90th percentile of the time to a first response, breaches, resolutions and the requesters' answers to
"resolved to your satisfaction?"; for every ticket or for one organisation's; and, whatever the
period, the tickets at risk now.

Where the figures come from: counting a year of tickets on every view would read a third of a
million rows at a million tickets. The worker keeps instead one row per period, severity and
organisation (`ReportCell`), computed in the database by GROUP BY and window functions, and computes
a period's rows again when a ticket of it changes (any timeline entry: opened, answered, reclassified,
resolved, rated), at most once a minute. A report reads those rows, a few hundred at most, and what
the clock alone changes: tickets not answered yet (breached once their deadline passes), read through
a partial index that holds only them.

Counted by the period a ticket was opened in: opened, within target, answered late, unanswered, the
response times. By the period it happened in: resolutions (the ticket's current resolution) and
satisfaction answers. A reclassified ticket counts under its severity now, against the deadline that
severity gives it (tickets.service.update_ticket recomputes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (Float, and_, case, cast, delete, extract, func, insert, literal, literal_column, or_,
                        select, union_all)
from sqlalchemy.orm import Session

from core.db import InsertUnlessPresent, UTCDateTime
from core.limits import EARLIEST_YEAR, LATEST_YEAR, MAX_ROW_ID, Refusal
from tickets.escalation import CHECKPOINTS
from tickets.models import EVERY_ORGANIZATION, UNRESOLVED, ReportCell, ReportRefresh, Ticket, TicketEvent
from tickets.sla import Severity

PERIODS = ("month", "week")
# The rows of each period: every severity, then all of them together.
SEVERITY_ROWS = (*(s.value for s in Severity), "all")
# The report asked for when none is named: the last twelve periods, this one included.
DEFAULT_PERIODS = 12
# More periods than this in one report is a typing mistake (ten years of months; two of weeks).
MAX_PERIODS = 120
# The worker computes changed periods again at most this often: the report is this far behind.
REFRESH_EVERY = timedelta(minutes=1)
# Timeline entries are looked at again for this long after a refresh: a transaction stamps its entry
# when it starts and may commit after a refresh that began later.
LATE_COMMIT_MARGIN = timedelta(minutes=10)
# A ticket not answered yet is at risk once the first SLA warning has gone out for it.
AT_RISK_SHARE = CHECKPOINTS[0][0]
# Tickets a report lists by name: the newest breaches; the tickets at risk, soonest due first.
LISTED_BREACHES = 20
LISTED_AT_RISK = 50
# The percentiles reported, as fractions (numerator, denominator): integer arithmetic in SQL.
MEDIAN, P90 = (1, 2), (9, 10)

_REPORT = "sla"


class InvalidReport(Refusal):
    """A report asked for with a date, grouping or organisation that cannot be read."""


class ReportOutOfBounds(InvalidReport):
    """A report whose dates read well but make no report: `from` after `to`, or too many periods."""


# ----------------------------------------------------------------------------- periods


def period_start(period: str, day: date) -> date:
    """The first day of the week (Monday) or month holding `day`."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period_start(period: str, start: date) -> date:
    """The first day of the period after the one starting on `start`."""
    if period == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def period_starts(period: str, first_day: date, last_day: date) -> list[date]:
    """The first days of the periods holding any day from `first_day` to `last_day`, in order."""
    starts, start = [], period_start(period, first_day)
    while start <= last_day:
        starts.append(start)
        start = next_period_start(period, start)
    return starts


def start_instant(day: date, zone: ZoneInfo) -> datetime:
    """Midnight starting `day` in `zone`, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _bounds(period: str, starts: list[date], zone: ZoneInfo) -> list[datetime]:
    """The instants starting each period of `starts` (contiguous), then the one ending the last."""
    return [start_instant(day, zone) for day in (*starts, next_period_start(period, starts[-1]))]


# ----------------------------------------------------------------------------- SQL pieces


def _seconds(session: Session, later: Any, earlier: Any) -> Any:
    """Seconds from `earlier` to `later`, in the database's own date arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return cast(extract("epoch", later - earlier), Float)


def _period_of(column: Any, bounds: list[datetime]) -> tuple[Any, list[Any]]:
    """Which period (0, 1, …) of `bounds` a time falls in (the query keeps to bounds[0]..bounds[-1]), and
    what to group by for it: nothing when there is one period (a constant is no GROUP BY term)."""
    if len(bounds) == 2:
        return literal_column("0"), []
    period = case(*[(column < bound, index) for index, bound in enumerate(bounds[1:-1])], else_=len(bounds) - 2)
    return period, [period]


# Each period's cells: by severity and organisation, by severity, by organisation, and all together.
_LEVELS = ((True, True), (True, False), (False, True), (False, False))


def _level_columns(by_severity: bool, by_organization: bool) -> tuple[Any, Any, list[Any]]:
    """The severity and organisation columns of one level, and the real columns it groups by."""
    severity = Ticket.severity if by_severity else literal_column("'all'")
    organization = Ticket.organization_id if by_organization else literal_column(str(EVERY_ORGANIZATION))
    grouped = [c for c, used in ((Ticket.severity, by_severity), (Ticket.organization_id, by_organization)) if used]
    return severity, organization, grouped


def _each_level(build: Any) -> Any:
    return union_all(*(build(*level) for level in _LEVELS))


def _opened_statement(bounds: list[datetime]) -> Any:
    period, by_period = _period_of(Ticket.created_at, bounds)

    def level(by_severity: bool, by_organization: bool) -> Any:
        severity, organization, grouped = _level_columns(by_severity, by_organization)
        query = (select(period.label("p"), severity.label("severity"), organization.label("org"),
                        func.count().label("opened"), func.count(Ticket.first_response_at).label("answered"),
                        func.sum(case((Ticket.first_response_at <= Ticket.response_due_at, 1), else_=0))
                        .label("within"))
                 .where(Ticket.created_at >= bounds[0], Ticket.created_at < bounds[-1])
                 .group_by(*by_period, *grouped))
        return query.where(Ticket.organization_id.is_not(None)) if by_organization else query

    return _each_level(level)


def _response_times_statement(session: Session, bounds: list[datetime]) -> Any:
    """Per cell, the count of answered tickets and the response times either side of each percentile's
    position (the n values ranked by window functions; interpolated as PostgreSQL's percentile_cont)."""
    period, by_period = _period_of(Ticket.created_at, bounds)
    seconds = _seconds(session, Ticket.first_response_at, Ticket.created_at)

    def level(by_severity: bool, by_organization: bool) -> Any:
        severity, organization, grouped = _level_columns(by_severity, by_organization)
        partition = [*by_period, *grouped]
        ranked = (select(period.label("p"), severity.label("severity"), organization.label("org"),
                         seconds.label("secs"),
                         func.row_number().over(partition_by=partition, order_by=seconds).label("rn"),
                         func.count().over(partition_by=partition).label("n"))
                  .where(Ticket.created_at >= bounds[0], Ticket.created_at < bounds[-1],
                         Ticket.first_response_at.is_not(None)))
        if by_organization:
            ranked = ranked.where(Ticket.organization_id.is_not(None))
        ranked = ranked.subquery()

        def at_rank(fraction: tuple[int, int], above: int) -> Any:
            position = 1 + above + (ranked.c.n - 1) * fraction[0] // fraction[1]
            return func.max(case((ranked.c.rn == position, ranked.c.secs)))

        return (select(ranked.c.p, ranked.c.severity, ranked.c.org, func.max(ranked.c.n).label("n"),
                       *(at_rank(q, above).label(f"{name}_{above}") for name, q in (("median", MEDIAN), ("p90", P90))
                         for above in (0, 1)))
                .group_by(ranked.c.p, ranked.c.severity, ranked.c.org))

    return _each_level(level)


def _happened_statement(column: Any, bounds: list[datetime], *counted: Any) -> Any:
    """Per cell, `counted` over the tickets whose `column` (a resolution, an answer) falls in a period."""
    period, by_period = _period_of(column, bounds)

    def level(by_severity: bool, by_organization: bool) -> Any:
        severity, organization, grouped = _level_columns(by_severity, by_organization)
        query = (select(period.label("p"), severity.label("severity"), organization.label("org"), *counted)
                 .where(column >= bounds[0], column < bounds[-1]).group_by(*by_period, *grouped))
        return query.where(Ticket.organization_id.is_not(None)) if by_organization else query

    return _each_level(level)


def _interpolated(n: int, low: float | None, high: float | None, fraction: tuple[int, int]) -> float | None:
    """The percentile from the two ranked values beside its position (`high` is None past the last)."""
    if low is None:
        return None
    share = ((n - 1) * fraction[0] % fraction[1]) / fraction[1]
    return low if not share or high is None else low + (high - low) * share


# ----------------------------------------------------------------------------- keeping the cells


def _compute(session: Session, period: str, start: date, zone: ZoneInfo) -> None:
    """Compute the cells of the period beginning on `start` again, replacing what they held. The statements
    read that period's tickets by index (no CASE over periods: one period at a time is the cheap way)."""
    bounds = _bounds(period, [start], zone)
    cells: dict[tuple[int, str, int], dict[str, Any]] = {}

    def cell(row: Any) -> dict[str, Any]:
        return cells.setdefault((int(row.p), row.severity, int(row.org)), {})

    for row in session.execute(_opened_statement(bounds)):
        cell(row).update(opened=row.opened, answered=row.answered, within=int(row.within or 0))
    for row in session.execute(_response_times_statement(session, bounds)):
        cell(row).update(median_seconds=_interpolated(row.n, row.median_0, row.median_1, MEDIAN),
                         p90_seconds=_interpolated(row.n, row.p90_0, row.p90_1, P90))
    for row in session.execute(_happened_statement(Ticket.resolved_at, bounds, func.count().label("resolved"))):
        cell(row).update(resolved=row.resolved)
    answered_yes = func.sum(case((Ticket.satisfaction == "yes", 1), else_=0)).label("satisfied")
    answered_no = func.sum(case((Ticket.satisfaction == "no", 1), else_=0)).label("dissatisfied")
    for row in session.execute(_happened_statement(Ticket.satisfaction_at, bounds, answered_yes, answered_no)):
        cell(row).update(satisfied=int(row.satisfied or 0), dissatisfied=int(row.dissatisfied or 0))

    session.execute(delete(ReportCell).where(ReportCell.period == period, ReportCell.period_start == start))
    zeros = {"opened": 0, "answered": 0, "within": 0, "resolved": 0, "satisfied": 0, "dissatisfied": 0,
             "median_seconds": None, "p90_seconds": None}
    if cells:
        session.execute(insert(ReportCell), [
            {**zeros, **values, "period": period, "period_start": start, "severity": severity,
             "organization_id": organization}
            for (_, severity, organization), values in cells.items()])


_INSERT_PROGRESS = InsertUnlessPresent(ReportRefresh.__table__, "report")


def refresh_report(session: Session, now: datetime, zone: ZoneInfo, *, force: bool = False) -> int:
    """Bring the report's cells up to date (the worker, each round); returns how many periods were computed.

    The first time, or after the support time zone changed, every period since the first ticket is
    computed. Then, at most once per REFRESH_EVERY (unless `force`), the periods of the tickets with a
    timeline entry since the last refresh, and the periods that refresh and now fall in. Each period is
    computed in a transaction of its own, holding the refresh's row: two workers take turns, and on
    SQLite the phone line's writes wait for one period at most, not for the whole build.
    """
    progress = _locked_progress(session, now)
    if progress.timezone == zone.key and not force and now - progress.refreshed_at < REFRESH_EVERY:
        session.commit()
        return 0
    if progress.timezone != zone.key:
        session.execute(delete(ReportCell))
        changed = _everything(session, now, zone)
    else:
        changed = _changed_since(session, progress.refreshed_at - LATE_COMMIT_MARGIN, now, zone)
    session.commit()
    computed = 0
    for period, starts in changed.items():
        for start in sorted(starts):
            _locked_progress(session, now)
            _compute(session, period, start, zone)
            session.commit()
            computed += 1
    progress = _locked_progress(session, now)
    progress.timezone, progress.refreshed_at = zone.key, now
    session.commit()
    return computed


def _locked_progress(session: Session, now: datetime) -> ReportRefresh:
    _INSERT_PROGRESS.run(session, {"report": _REPORT, "timezone": "", "refreshed_at": now})
    return session.scalars(select(ReportRefresh).where(ReportRefresh.report == _REPORT).with_for_update()
                           .execution_options(populate_existing=True)).one()


def _everything(session: Session, now: datetime, zone: ZoneInfo) -> dict[str, set[date]]:
    first = session.scalar(select(func.min(Ticket.created_at)))
    if first is None:
        return {}
    today = now.astimezone(zone).date()
    return {period: set(period_starts(period, first.astimezone(zone).date(), today)) for period in PERIODS}


def _changed_since(session: Session, since: datetime, now: datetime, zone: ZoneInfo) -> dict[str, set[date]]:
    """The periods whose cells may have changed since `since`: those `since`..`now` falls in (new tickets,
    resolutions and answers land there), and those of older tickets with a timeline entry since."""
    if session.scalar(select(TicketEvent.id).where(TicketEvent.at >= since).limit(1)) is None:
        return {}
    local_since, today = since.astimezone(zone).date(), now.astimezone(zone).date()
    changed = {period: set(period_starts(period, local_since, today)) for period in PERIODS}
    # Tickets opened before the later of the two kinds' first recent periods: a ticket opened between them is
    # in the recent periods of one kind and not of the other.
    recent = start_instant(max(min(starts) for starts in changed.values()), zone)
    older = session.scalars(select(Ticket.created_at).distinct().join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
                            .where(TicketEvent.at >= since, Ticket.created_at < recent))
    for created in older:
        for period in PERIODS:
            changed[period].add(period_start(period, created.astimezone(zone).date()))
    return changed


# ----------------------------------------------------------------------------- reading the report


@dataclass(frozen=True)
class ReportQuery:
    """What a report covers: the periods holding `first_day`..`last_day`, for one organisation or all."""

    period: str
    first_day: date
    last_day: date
    organization_id: int | None = None


def _date_of(value: str, name: str) -> date:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidReport(f"{name} must be a date like 2026-11-30, got {value!r}", name) from None
    if not EARLIEST_YEAR < day.year < LATEST_YEAR:
        raise InvalidReport(f"{name} must be in the years {EARLIEST_YEAR + 1} to {LATEST_YEAR - 1}", name)
    return day


def report_query(args: Mapping[str, str], today: date) -> ReportQuery:
    """Read `group` (month or week), `from` and `to` (dates of the support time zone; by default the last
    DEFAULT_PERIODS periods up to today) and `organization_id`. Raises InvalidReport saying what to fix."""
    period = (args.get("group") or "month").strip()
    if period not in PERIODS:
        raise InvalidReport(f"group must be one of {', '.join(PERIODS)}, got {period!r}", "group")
    last_day = _date_of(args["to"], "to") if args.get("to") else today
    if args.get("from"):
        first_day = _date_of(args["from"], "from")
    else:
        first_day = period_start(period, last_day)
        for _ in range(DEFAULT_PERIODS - 1):
            first_day = period_start(period, first_day - timedelta(days=1))
    if first_day > last_day:
        raise ReportOutOfBounds(f"from ({first_day}) must not be after to ({last_day})", "from")
    if len(period_starts(period, first_day, last_day)) > MAX_PERIODS:
        raise ReportOutOfBounds(f"a report holds at most {MAX_PERIODS} {period}s: narrow from and to", "from")
    organization = (args.get("organization_id") or "").strip()
    if organization and not (organization.isdigit() and 0 < int(organization) <= MAX_ROW_ID):
        raise InvalidReport(f"organization_id must be an organisation's id, got {organization!r}", "organization_id")
    return ReportQuery(period, first_day, last_day, int(organization) if organization else None)


@dataclass(frozen=True)
class Figures:
    """One severity's figures (or all severities', "all") in one period."""

    opened: int = 0
    answered: int = 0
    within: int = 0  # answered at or before the deadline
    unanswered_breached: int = 0  # not answered, the deadline has passed
    waiting: int = 0  # not answered, the deadline still ahead
    resolved: int = 0
    satisfied: int = 0
    dissatisfied: int = 0
    median: timedelta | None = None  # time to the first response, over the answered tickets
    p90: timedelta | None = None

    @property
    def late(self) -> int:
        """Answered after the deadline."""
        return self.answered - self.within

    @property
    def breaches(self) -> int:
        """Answered late, or not answered and the deadline has passed."""
        return self.late + self.unanswered_breached

    @property
    def within_share(self) -> float | None:
        """Within target as a share of the tickets whose outcome is known (within or breached), or None."""
        decided = self.within + self.breaches
        return self.within / decided if decided else None

    @property
    def satisfied_share(self) -> float | None:
        """Yes as a share of the satisfaction answers, or None without any."""
        answers = self.satisfied + self.dissatisfied
        return self.satisfied / answers if answers else None


@dataclass(frozen=True)
class PeriodFigures:
    """A week or month (`start` to `end`, exclusive, local days) and its figures by SEVERITY_ROWS."""

    start: date
    end: date
    by_severity: dict[str, Figures]

    @property
    def last_day(self) -> date:
        """The period's last day."""
        return self.end - timedelta(days=1)


@dataclass(frozen=True)
class ListedTicket:
    """A ticket a report names: a breach, or one at risk now."""

    number: int
    severity: str
    status: str
    created_at: datetime
    response_due_at: datetime
    first_response_at: datetime | None


@dataclass(frozen=True)
class SlaReport:
    """The report for `query`, as the cells stood at `as_of` (None: never computed) and the clock at `now`."""

    query: ReportQuery
    periods: list[PeriodFigures]
    at_risk: list[ListedTicket]
    newest_breaches: list[ListedTicket]
    as_of: datetime | None
    now: datetime
    timezone: str

    @property
    def breaches(self) -> int:
        """Every breach of the periods, whether listed or not."""
        return sum(p.by_severity["all"].breaches for p in self.periods)


def _seconds_span(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=round(seconds))


def _listed(rows: Any) -> list[ListedTicket]:
    return [ListedTicket(r.number, r.severity, r.status, r.created_at, r.response_due_at, r.first_response_at)
            for r in rows]


def sla_report(session: Session, query: ReportQuery, now: datetime, zone: ZoneInfo) -> SlaReport:
    """The report for `query`: the worker's cells, with the unanswered tickets counted at `now`.

    A constant number of statements, whatever the number of tickets: the cells of the periods, the
    unanswered tickets grouped by period and severity, the tickets at risk, the newest breaches.
    """
    starts = period_starts(query.period, query.first_day, query.last_day)
    bounds = _bounds(query.period, starts, zone)
    organization = EVERY_ORGANIZATION if query.organization_id is None else query.organization_id
    index_of = {start: index for index, start in enumerate(starts)}
    figures: dict[tuple[int, str], dict[str, Any]] = {}

    for cell in session.scalars(select(ReportCell).where(
            ReportCell.period == query.period, ReportCell.organization_id == organization,
            ReportCell.period_start >= starts[0], ReportCell.period_start <= starts[-1])):
        figures[(index_of[cell.period_start], cell.severity)] = {
            "opened": cell.opened, "answered": cell.answered, "within": cell.within, "resolved": cell.resolved,
            "satisfied": cell.satisfied, "dissatisfied": cell.dissatisfied,
            "median": _seconds_span(cell.median_seconds), "p90": _seconds_span(cell.p90_seconds)}

    in_range = [Ticket.created_at >= bounds[0], Ticket.created_at < bounds[-1]]
    if query.organization_id is not None:
        in_range.append(Ticket.organization_id == query.organization_id)
    period, by_period = _period_of(Ticket.created_at, bounds)
    past_due = Ticket.response_due_at < now
    unanswered = session.execute(
        select(period.label("p"), Ticket.severity, func.count().label("n"),
               func.sum(case((past_due, 1), else_=0)).label("breached"))
        .where(Ticket.first_response_at.is_(None), *in_range).group_by(*by_period, Ticket.severity))
    for row in unanswered:
        for severity in (row.severity, "all"):
            values = figures.setdefault((int(row.p), severity), {})
            values["unanswered_breached"] = values.get("unanswered_breached", 0) + int(row.breached or 0)
            values["waiting"] = values.get("waiting", 0) + row.n - int(row.breached or 0)

    periods = [PeriodFigures(start, next_period_start(query.period, start),
                             {severity: Figures(**figures.get((index, severity), {})) for severity in SEVERITY_ROWS})
               for index, start in enumerate(starts)]
    listed = (Ticket.number, Ticket.severity, Ticket.status, Ticket.created_at, Ticket.response_due_at,
              Ticket.first_response_at)
    late = session.execute(select(*listed).where(Ticket.first_response_at > Ticket.response_due_at, *in_range)
                           .order_by(Ticket.created_at.desc()).limit(LISTED_BREACHES)).all()
    missed = session.execute(select(*listed).where(Ticket.first_response_at.is_(None), past_due, *in_range)
                             .order_by(Ticket.created_at.desc()).limit(LISTED_BREACHES)).all()
    newest = sorted([*late, *missed], key=lambda r: r.created_at, reverse=True)[:LISTED_BREACHES]

    clock = literal(now, UTCDateTime())
    risky = [Ticket.first_response_at.is_(None), Ticket.status.in_(UNRESOLVED), Ticket.response_due_at >= now,
             _seconds(session, clock, Ticket.created_at)
             >= AT_RISK_SHARE * _seconds(session, Ticket.response_due_at, Ticket.created_at)]
    if query.organization_id is not None:
        risky.append(Ticket.organization_id == query.organization_id)
    at_risk = session.execute(select(*listed).where(and_(*risky)).order_by(Ticket.response_due_at)
                              .limit(LISTED_AT_RISK)).all()
    as_of = session.scalar(select(ReportRefresh.refreshed_at).where(ReportRefresh.report == _REPORT,
                                                                    ReportRefresh.timezone == zone.key))
    return SlaReport(query, periods, _listed(at_risk), _listed(newest), as_of, now, zone.key)


def breached(now: datetime) -> Any:
    """The condition of a breached ticket at `now`: answered late, or not answered and past its deadline."""
    return or_(Ticket.first_response_at > Ticket.response_due_at,
               and_(Ticket.first_response_at.is_(None), Ticket.response_due_at < now))
