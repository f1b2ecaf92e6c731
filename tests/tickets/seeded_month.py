"""A month of tickets seeded through the line's own functions, and its SLA report worked out by hand:
shared by the report's tests (tests/tickets/test_sla_report.py, test_report_pages.py) and the browser's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.calendar import BusinessCalendar
from people.models import Organization, Person
from tickets import service
from tickets.records import find_ticket, open_ticket
from tickets.report import Figures, ReportQuery, refresh_report
from tickets.requesters import rate
from tickets.sla import Severity

NEW_YORK = ZoneInfo("America/New_York")
CALENDAR = BusinessCalendar("America/New_York", "US")
# The report is read on Thursday 3 December 2026, 12:00 UTC (07:00 EST).
READ_AT = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
NOVEMBER = ReportQuery("month", date(2026, 11, 1), date(2026, 11, 30))


def local(text: str) -> datetime:
    """A New York wall time ("2026-11-02 09:00") as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).astimezone(timezone.utc)


@dataclass
class Desk:
    session: Session
    acme: Organization
    lena: Person

    def ticket(self, severity: str, opened: datetime, *, answered_after: timedelta | None = None,
               for_acme: bool = False) -> int:
        ticket = open_ticket(self.session, severity=Severity(severity), source="phone", now=opened, calendar=CALENDAR,
                             requester_id=self.lena.id if for_acme else None)
        self.session.commit()
        if answered_after is not None:
            service.acknowledge_ticket(self.session, str(ticket.number), now=opened + answered_after, actor="Priya")
        return ticket.number

    def resolve(self, number: int, at: datetime) -> None:
        service.resolve_ticket(self.session, str(number), now=at, actor="Priya")

    def reclassify(self, number: int, severity: str, at: datetime) -> None:
        service.update_ticket(self.session, str(number), {"severity": severity}, region="US", calendar=CALENDAR,
                              now=at, actor="Priya")

    def rate(self, number: int, answer: str, at: datetime) -> None:
        rate(self.session, find_ticket(self.session, str(number)), answer, "", person=self.lena, now=at)
        self.session.commit()


def add_desk(session: Session) -> Desk:
    acme = Organization(name="Acme Corp", kind="customer", active=True, created_at=READ_AT - timedelta(days=400))
    session.add(acme)
    session.flush()
    lena = Person(name="Lena Fischer", email="lena@acme.example", organization_id=acme.id, active=True,
                  created_at=READ_AT - timedelta(days=400))
    session.add(lena)
    session.commit()
    return Desk(session, acme, lena)


S = timedelta(seconds=1)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def seed_november(desk: Desk) -> dict[str, int]:
    """November 2026 in New York (summer time ends on the 1st at 02:00; Thanksgiving is Thursday the 26th).

    ticket        opened (New York)      answered after     outcome
    critical, target 2 h
      C1 (Acme)   Mon 2 Nov 09:00        30 min             within   1800 s; resolved 2 Nov 10:00
      C2          Tue 3 Nov 09:00        2 h exactly        within   7200 s
      C3          Wed 4 Nov 09:00        2 h 1 min          late     7260 s
      C4          Mon 30 Nov 20:00       never              breached (due 22:00, read on 3 Dec)
    high, target 6 h
      H1          Tue 10 Nov 08:00       5 h 59 min         within  21540 s
      H2 (Acme)   Wed 11 Nov 08:00       6 h 1 min          late    21660 s; resolved 12 Nov; rated "no" 13 Nov
      R           Thu 12 Nov 08:00       7 h                late    25200 s: opened normal (due 20:00), made high
                                                                     at 08:30 (due 14:00)
    normal, target 12 h
      N1          Sun 1 Nov 00:30 EDT    11 h               within  39600 s (the month's first, summer-time hour)
      N2 (Acme)   Fri 20 Nov 10:00       13 h               late    46800 s; resolved 21 Nov; rated "yes" 22 Nov
    low, target 2 business days
      L1          Thu 26 Nov 10:00       4 d 5 h            within 363600 s: Thanksgiving, so the clock starts Fri
                                                                     00:00 and it is due Tue 1 Dec 00:00
      L2          Fri 13 Nov 10:00       4 d 30 min         late   347400 s: due Tue 17 Nov 10:00
    not November's
      X1          Sat 31 Oct 23:30 EDT   10 min             October's; resolved 2 Nov: a November resolution
      X2          Tue 1 Dec 00:10        never              December's
      A1          Thu 3 Dec 06:00        never              at risk now (half its 2 h gone at 07:00)
      A2          Thu 3 Dec 06:30        never              not at risk yet (a quarter gone)
    """
    t = desk.ticket
    numbers = {
        "C1": t("critical", local("2026-11-02 09:00"), answered_after=30 * M, for_acme=True),
        "C2": t("critical", local("2026-11-03 09:00"), answered_after=2 * H),
        "C3": t("critical", local("2026-11-04 09:00"), answered_after=2 * H + M),
        "C4": t("critical", local("2026-11-30 20:00")),
        "H1": t("high", local("2026-11-10 08:00"), answered_after=5 * H + 59 * M),
        "H2": t("high", local("2026-11-11 08:00"), answered_after=6 * H + M, for_acme=True),
        "R": t("normal", local("2026-11-12 08:00")),
        "N1": t("normal", datetime(2026, 11, 1, 4, 30, tzinfo=timezone.utc), answered_after=11 * H),
        "N2": t("normal", local("2026-11-20 10:00"), answered_after=13 * H, for_acme=True),
        "L1": t("low", local("2026-11-26 10:00"), answered_after=4 * 24 * H + 5 * H),
        "L2": t("low", local("2026-11-13 10:00"), answered_after=4 * 24 * H + 30 * M),
        "X1": t("critical", local("2026-10-31 23:30"), answered_after=10 * M),
        "X2": t("high", local("2026-12-01 00:10")),
        "A1": t("critical", local("2026-12-03 06:00")),
        "A2": t("critical", local("2026-12-03 06:30")),
    }
    desk.reclassify(numbers["R"], "high", local("2026-11-12 08:30"))
    service.acknowledge_ticket(desk.session, str(numbers["R"]), now=local("2026-11-12 15:00"), actor="Priya")
    desk.resolve(numbers["C1"], local("2026-11-02 10:00"))
    desk.resolve(numbers["X1"], local("2026-11-02 11:00"))
    desk.resolve(numbers["H2"], local("2026-11-12 12:00"))
    desk.rate(numbers["H2"], "no", local("2026-11-13 09:00"))
    desk.resolve(numbers["N2"], local("2026-11-21 12:00"))
    desk.rate(numbers["N2"], "yes", local("2026-11-22 09:00"))
    refresh_report(desk.session, READ_AT, NEW_YORK)
    return numbers


def figures(opened, answered, within, unanswered_breached, resolved, satisfied, dissatisfied, median, p90) -> Figures:
    return Figures(opened=opened, answered=answered, within=within, unanswered_breached=unanswered_breached,
                   waiting=0, resolved=resolved, satisfied=satisfied, dissatisfied=dissatisfied,
                   median=None if median is None else median * S, p90=None if p90 is None else p90 * S)


# Every cell of November, by hand from the table above. Percentiles interpolate between the two ranked
# responses beside position 1 + (n - 1) q, as PostgreSQL's percentile_cont does.
NOVEMBER_BY_HAND = {
    # 1800, 7200, 7260: median the middle; p90 at 2.8: 7200 + 0.8 × 60.
    "critical": figures(4, 3, 2, 1, 2, 0, 0, 7200, 7248),
    # 21540, 21660, 25200: p90 21660 + 0.8 × 3540.
    "high": figures(3, 3, 1, 0, 1, 0, 1, 21660, 24492),
    # 39600, 46800: median half-way; p90 39600 + 0.9 × 7200.
    "normal": figures(2, 2, 1, 0, 1, 1, 0, 43200, 46080),
    # 347400, 363600.
    "low": figures(2, 2, 1, 0, 0, 0, 0, 355500, 361980),
    # The ten responses sorted: 1800 7200 7260 21540 21660 25200 39600 46800 347400 363600;
    # median at 5.5: (21660 + 25200) / 2; p90 at 9.1: 347400 + 0.1 × 16200.
    "all": figures(11, 10, 5, 1, 4, 1, 1, 23430, 349020),
}
