"""The SLA summary: per severity, for tickets opened in the last 30 days, how many met their
first-response target, how many breached it, how many still have time, and the median time
to a first response; as `tickets.report.sla_summary` computes it and as its page shows it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.support import FakeClock
from tests.support import text_of
from tickets.models import Ticket
from tickets.report import SeveritySummary, sla_summary

TARGETS = {"critical": timedelta(hours=2), "high": timedelta(hours=6), "normal": timedelta(hours=12),
           "low": timedelta(days=2)}


def add_ticket(session: Session, number: int, severity: str, *, opened_ago: timedelta, clock: FakeClock,
               answered_after: timedelta | None = None, due_after: timedelta | None = None) -> Ticket:
    """A ticket opened `opened_ago` before the clock, answered `answered_after` its opening (or not)."""
    created = clock.now - opened_ago
    ticket = Ticket(number=number, severity=severity, status="acknowledged" if answered_after else "open",
                    source="phone", created_at=created, response_due_at=created + (due_after or TARGETS[severity]),
                    first_response_at=created + answered_after if answered_after is not None else None,
                    responded_by="Priya Raman" if answered_after is not None else None)
    session.add(ticket)
    return ticket


@pytest.fixture
def month(session: Session, clock: FakeClock) -> None:
    """Tickets whose outcome is worked out by hand in each test below.

    critical (target 2 h)
      10001 answered after 30 min            met,      30 min
      10002 answered after 3 h               breached, 3 h
      10003 opened 5 h ago, never answered   breached (its deadline passed 3 h ago)
      10004 opened 1 h ago, never answered   within target (1 h left)
      10005 answered after exactly 2 h       met,      2 h
      10006 opened 31 days ago, unanswered   not counted: older than 30 days
    high (target 6 h)
      10007 answered after 1 h               met,      1 h
      10008 answered after 2 h               met,      2 h
      10009 opened 31 days ago, answered     not counted
    normal: none
    low
      10010 unanswered, due exactly now      within target: the deadline has not passed yet
    """
    hour = timedelta(hours=1)
    add_ticket(session, 10001, "critical", opened_ago=10 * hour, answered_after=timedelta(minutes=30), clock=clock)
    add_ticket(session, 10002, "critical", opened_ago=10 * hour, answered_after=3 * hour, clock=clock)
    add_ticket(session, 10003, "critical", opened_ago=5 * hour, clock=clock)
    add_ticket(session, 10004, "critical", opened_ago=1 * hour, clock=clock)
    add_ticket(session, 10005, "critical", opened_ago=6 * hour, answered_after=2 * hour, clock=clock)
    add_ticket(session, 10006, "critical", opened_ago=timedelta(days=31), clock=clock)
    add_ticket(session, 10007, "high", opened_ago=20 * hour, answered_after=1 * hour, clock=clock)
    add_ticket(session, 10008, "high", opened_ago=20 * hour, answered_after=2 * hour, clock=clock)
    add_ticket(session, 10009, "high", opened_ago=timedelta(days=31), answered_after=hour, clock=clock)
    add_ticket(session, 10010, "low", opened_ago=timedelta(days=1), due_after=timedelta(days=1), clock=clock)
    session.commit()


def summary_by_severity(session: Session, clock: FakeClock) -> dict[str, SeveritySummary]:
    return {s.severity: s for s in sla_summary(session, clock.now - timedelta(days=30), clock.now)}


def test_every_severity_is_listed_in_order_then_all_of_them(session, clock, month) -> None:
    assert [s.severity for s in sla_summary(session, clock.now - timedelta(days=30), clock.now)] == [
        "critical", "high", "normal", "low", "all"]


def test_critical_counts_met_breached_and_within_target_and_the_median(session, clock, month) -> None:
    assert summary_by_severity(session, clock)["critical"] == SeveritySummary(
        severity="critical", tickets=5, met=2, breached=2, waiting=1, median_response=timedelta(hours=2))


def test_the_median_of_an_even_number_of_responses_is_half_way_between_the_middle_two(session, clock, month) -> None:
    high = summary_by_severity(session, clock)["high"]
    assert (high.tickets, high.met, high.breached, high.waiting) == (2, 2, 0, 0)
    assert high.median_response == timedelta(hours=1, minutes=30)


def test_a_severity_without_tickets_has_no_median(session, clock, month) -> None:
    assert summary_by_severity(session, clock)["normal"] == SeveritySummary("normal", 0, 0, 0, 0, None)
    assert summary_by_severity(session, clock)["normal"].met_share is None


def test_a_ticket_due_exactly_now_is_still_within_target(session, clock, month) -> None:
    low = summary_by_severity(session, clock)["low"]
    assert (low.tickets, low.met, low.breached, low.waiting, low.median_response) == (1, 0, 0, 1, None)


def test_a_minute_later_the_unanswered_ticket_has_breached(session, clock, month) -> None:
    clock.advance(minutes=1)
    low = summary_by_severity(session, clock)["low"]
    assert (low.breached, low.waiting) == (1, 0)


def test_all_severities_together(session, clock, month) -> None:
    everything = summary_by_severity(session, clock)["all"]
    # Responses 30 min, 3 h, 2 h, 1 h, 2 h: sorted, the middle one is 2 h.
    assert everything == SeveritySummary("all", 8, 4, 2, 2, timedelta(hours=2))
    assert everything.met_share == pytest.approx(4 / 6)


def test_tickets_opened_more_than_30_days_ago_do_not_count(session, clock, month) -> None:
    clock.advance(days=30, hours=-9)  # 10001 and 10002 (opened 10 h before) are now 30 days and 1 h old
    critical = summary_by_severity(session, clock)["critical"]
    assert (critical.tickets, critical.met, critical.breached, critical.waiting) == (3, 1, 2, 0)
    assert critical.median_response == timedelta(hours=2)


def test_the_sla_page_shows_each_severity_and_is_linked_from_the_tickets(admin, month) -> None:
    assert 'href="/admin/tickets/sla"' in admin.get("/admin/tickets/").text
    response = admin.get("/admin/tickets/sla")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "critical 2 hours 5 2 (50 %) 2 1 2 h" in page
    assert "high 6 hours 2 2 (100 %) 0 0 1 h 30 min" in page
    assert "normal 12 hours 0 0 0 0 —" in page
    assert "low 2 business days 1 0 0 1 —" in page
    assert "All severities 8 4 (67 %) 2 2 2 h" in page
    assert "Tickets opened from Mon 26 Oct, 23:00 EDT to Wed 25 Nov, 22:00 EST" in page


def test_the_sla_page_with_no_tickets_shows_zeros(admin) -> None:
    page = text_of(admin.get("/admin/tickets/sla").text)
    assert "All severities 0 0 0 0 —" in page


def test_satisfaction_answers_are_counted_per_month_of_the_support_time_zone(session: Session,
                                                                             clock: FakeClock) -> None:
    from datetime import date, datetime, timezone
    from zoneinfo import ZoneInfo

    from tickets.report import satisfaction_by_month

    new_york = ZoneInfo("America/New_York")
    answers = [
        (datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc), "yes"),   # Wed 25 Nov 21:00 in New York
        (datetime(2026, 11, 1, 3, 59, tzinfo=timezone.utc), "no"),    # Sat 31 Oct 23:59 EDT: October
        (datetime(2026, 11, 1, 4, 0, tzinfo=timezone.utc), "yes"),    # Sun 1 Nov 00:00 EDT: November
        (datetime(2026, 10, 15, 12, 0, tzinfo=timezone.utc), "yes"),
        (datetime(2025, 11, 30, 12, 0, tzinfo=timezone.utc), "no"),   # thirteen months back: not counted
    ]
    for number, (answered, answer) in enumerate(answers, start=10001):
        ticket = add_ticket(session, number, "normal", opened_ago=timedelta(days=400), clock=clock,
                            answered_after=timedelta(hours=1))
        ticket.status, ticket.resolved_at = "closed", answered
        ticket.satisfaction, ticket.satisfaction_at = answer, answered
    session.commit()
    months = satisfaction_by_month(session, clock.now, new_york)
    assert len(months) == 12 and months[0].month == date(2026, 11, 1) and months[-1].month == date(2025, 12, 1)
    assert [(m.month.month, m.yes, m.no) for m in months[:2]] == [(11, 2, 0), (10, 1, 1)]
    assert months[1].yes_share == 0.5 and months[2].yes_share is None
    assert sum(m.yes + m.no for m in months) == 4


def test_the_admin_sees_satisfaction_on_the_list_the_ticket_and_the_report(admin, session: Session,
                                                                          clock: FakeClock) -> None:
    ticket = add_ticket(session, 10001, "high", opened_ago=timedelta(days=1), clock=clock,
                        answered_after=timedelta(hours=1))
    ticket.status, ticket.resolved_at = "closed", clock.now
    ticket.satisfaction, ticket.satisfaction_comment, ticket.satisfaction_at = "no", "Slow.", clock.now
    session.commit()
    listing = admin.get("/admin/tickets/").text
    assert '<span class="badge problem" title="Slow.">no</span>' in listing
    assert "Satisfied no: Slow." in text_of(admin.get("/admin/tickets/10001").text)
    report = text_of(admin.get("/admin/tickets/sla").text)
    assert "November 2026 0 1 0 %" in report
