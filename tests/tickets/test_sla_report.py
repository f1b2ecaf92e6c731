"""The SLA report (`tickets.report`): a seeded November worked out by hand, cell by cell, as the worker's
cells and the clock give it; by week, for one organisation, and as the cells follow later changes."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.tickets.seeded_month import M, NEW_YORK, NOVEMBER, NOVEMBER_BY_HAND, READ_AT, S, figures
from tickets import service
from tickets.models import ReportCell
from tickets.report import InvalidReport, REFRESH_EVERY, Figures, ReportQuery, refresh_report, report_query, sla_report

def test_every_cell_of_a_seeded_month_matches_the_figures_worked_out_by_hand(session, november) -> None:
    report = sla_report(session, NOVEMBER, READ_AT, NEW_YORK)
    assert [(p.start, p.end) for p in report.periods] == [(date(2026, 11, 1), date(2026, 12, 1))]
    assert report.periods[0].by_severity == NOVEMBER_BY_HAND


def test_the_derived_figures_of_the_month(session, november) -> None:
    month = sla_report(session, NOVEMBER, READ_AT, NEW_YORK).periods[0].by_severity
    assert [(s, month[s].late, month[s].breaches) for s in month] == [
        ("critical", 1, 2), ("high", 2, 2), ("normal", 1, 1), ("low", 1, 1), ("all", 5, 6)]
    assert month["critical"].within_share == 0.5
    assert month["all"].within_share == pytest.approx(5 / 11)
    assert month["all"].satisfied_share == 0.5 and month["low"].satisfied_share is None


def test_the_breaches_are_listed_newest_first_with_their_tickets(session, november) -> None:
    report = sla_report(session, NOVEMBER, READ_AT, NEW_YORK)
    by_name = {number: name for name, number in november.items()}
    assert [by_name[t.number] for t in report.newest_breaches] == ["C4", "N2", "L2", "R", "H2", "C3"]
    assert report.breaches == 6


def test_the_tickets_at_risk_now_are_those_past_the_first_warning(session, november) -> None:
    report = sla_report(session, NOVEMBER, READ_AT, NEW_YORK)
    assert [t.number for t in report.at_risk] == [november["A1"]]
    later = sla_report(session, NOVEMBER, READ_AT + 30 * M, NEW_YORK)
    assert [t.number for t in later.at_risk] == [november["A1"], november["A2"]]


def test_one_organisations_month(session, desk, november) -> None:
    report = sla_report(session, ReportQuery("month", date(2026, 11, 1), date(2026, 11, 30), desk.acme.id),
                        READ_AT, NEW_YORK)
    assert report.periods[0].by_severity == {
        "critical": figures(1, 1, 1, 0, 1, 0, 0, 1800, 1800),
        "high": figures(1, 1, 0, 0, 1, 0, 1, 21660, 21660),
        "normal": figures(1, 1, 0, 0, 1, 1, 0, 46800, 46800),
        "low": Figures(),
        # 1800, 21660, 46800: p90 at 2.8: 21660 + 0.8 × 25140.
        "all": figures(3, 3, 1, 0, 3, 1, 1, 21660, 41772),
    }
    assert [t.number for t in report.newest_breaches] == [november["N2"], november["H2"]]
    assert report.at_risk == []


def test_weeks_run_monday_to_sunday_across_the_month_end(session, november) -> None:
    weeks = sla_report(session, ReportQuery("week", date(2026, 10, 26), date(2026, 11, 15)), READ_AT, NEW_YORK)
    assert [p.start for p in weeks.periods] == [date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9)]
    first, second, third = (p.by_severity for p in weeks.periods)
    # X1 on Saturday 31 October and N1 on Sunday 1 November share a week.
    assert (first["critical"].opened, first["normal"].opened, first["all"].opened) == (1, 1, 2)
    assert (second["critical"].opened, second["critical"].resolved, second["all"].resolved) == (3, 2, 2)
    assert (third["high"].opened, third["low"].opened, third["high"].resolved, third["high"].dissatisfied) == (3, 1, 1, 1)


def test_months_without_tickets_have_zeros_and_no_times(session, november) -> None:
    report = sla_report(session, ReportQuery("month", date(2026, 6, 1), date(2026, 7, 31)), READ_AT, NEW_YORK)
    assert [p.start for p in report.periods] == [date(2026, 6, 1), date(2026, 7, 1)]
    assert all(f == Figures() for p in report.periods for f in p.by_severity.values())
    assert report.periods[0].by_severity["all"].within_share is None


def test_a_change_to_an_old_ticket_reaches_its_period_at_the_next_refresh(session, desk, november) -> None:
    service.acknowledge_ticket(session, str(november["C4"]), now=READ_AT + 20 * S, actor="Priya")
    assert refresh_report(session, READ_AT + 30 * S, NEW_YORK) == 0  # within a minute of the last: nothing computed
    assert sla_report(session, NOVEMBER, READ_AT + M, NEW_YORK).periods[0].by_severity["critical"].answered == 3
    assert refresh_report(session, READ_AT + REFRESH_EVERY + M, NEW_YORK) > 0
    critical = sla_report(session, NOVEMBER, READ_AT + 2 * M, NEW_YORK).periods[0].by_severity["critical"]
    assert (critical.answered, critical.within, critical.unanswered_breached, critical.breaches) == (4, 2, 0, 2)


def test_a_refresh_with_nothing_new_computes_nothing(session, november) -> None:
    assert refresh_report(session, READ_AT + 2 * REFRESH_EVERY, NEW_YORK) == 0
    assert refresh_report(session, READ_AT + 4 * REFRESH_EVERY, NEW_YORK, force=True) == 0


def test_a_new_support_time_zone_builds_every_cell_again(session, november) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    refresh_report(session, READ_AT, tokyo)
    report = sla_report(session, ReportQuery("month", date(2026, 10, 1), date(2026, 11, 30)), READ_AT, tokyo)
    # In Tokyo, X1 (31 Oct 23:30 in New York) and N1 were opened on 1 November; C4 (30 Nov 20:00) on 1 December.
    october, month = (p.by_severity["all"] for p in report.periods)
    assert (october.opened, month.opened) == (0, 11)


def test_the_report_reads_a_handful_of_cells_not_the_tickets(session, november) -> None:
    cells = session.scalar(select(func.count()).select_from(ReportCell).where(ReportCell.period == "month"))
    # October, November, December; each with its severities, "all", and Acme's.
    assert cells < 40


@pytest.mark.parametrize(("args", "message"), [
    ({"group": "year"}, "group must be one of month, week"),
    ({"from": "2026-13-01"}, "from must be a date like 2026-11-30"),
    ({"to": "1900-01-01"}, "to must be in the years"),
    ({"from": "2026-12-01", "to": "2026-11-01"}, "must not be after to"),
    ({"from": "2000-01-01", "to": "2026-11-01"}, "at most 120 months"),
    ({"organization_id": "acme"}, "organization_id must be an organisation's id"),
])
def test_a_report_asked_for_wrongly_says_what_to_fix(args, message) -> None:
    with pytest.raises(InvalidReport, match=message):
        report_query(args, date(2026, 12, 3))


def test_the_default_report_is_the_last_twelve_months_or_weeks() -> None:
    assert report_query({}, date(2026, 12, 3)) == ReportQuery("month", date(2026, 1, 1), date(2026, 12, 3))
    assert report_query({"group": "week"}, date(2026, 12, 3)) == ReportQuery("week", date(2026, 9, 14),
                                                                             date(2026, 12, 3))
