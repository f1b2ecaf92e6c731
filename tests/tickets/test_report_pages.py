"""The SLA report as the manager and integrators get it: the page, its charts, the CSV downloads of the
report and of the ticket list, and GET /api/reports/sla; on the seeded November (tests/tickets/seeded_month.py)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from staff.tokens import issue_api_token
from tests.support import Api, FakeClock, text_of
from tests.tickets.seeded_month import NOVEMBER_BY_HAND, READ_AT, Desk
from tickets.models import Ticket
from tickets.worker import run_once
from tickets.outbox import ConsoleSender

MONTH = {"group": "month", "from": "2026-11-01", "to": "2026-11-30"}
FIELDS = ("opened", "answered", "within", "late", "unanswered_breached", "breaches", "waiting", "resolved",
          "satisfied", "dissatisfied")


@pytest.fixture
def read_on_3_december(clock: FakeClock) -> None:
    clock.set(READ_AT)


@pytest.fixture
def api(client: FlaskClient, session: Session, clock: FakeClock) -> Api:
    return Api(client, issue_api_token(session, "tests", clock.now))


def query(**args: str) -> str:
    return "&".join(f"{name}={value}" for name, value in args.items())


def test_the_report_page_shows_every_cell_of_the_month(admin, november, read_on_3_december) -> None:
    response = admin.get(f"/admin/reports/?{query(**MONTH)}")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "critical 2 hours 4 2 (50 %) 2 0 2 h 2 h 2 —" in page
    assert "high 6 hours 3 1 (33 %) 2 0 6 h 1 min 6 h 48 min 1 0 yes, 1 no" in page
    assert "normal 12 hours 2 1 (50 %) 1 0 12 h 12 h 48 min 1 1 yes, 0 no" in page
    assert "low 2 business days 2 1 (50 %) 1 0 4 d 2 h 4 d 4 h 0 —" in page
    assert "All severities 11 5 (45 %) 6 0 6 h 30 min 4 d 4 1 yes, 1 no" in page
    assert "Breaches: 6" in page


def test_each_breach_count_links_to_the_list_of_those_tickets(admin, november, read_on_3_december) -> None:
    html = admin.get(f"/admin/reports/?{query(**MONTH)}").text
    links = [unescape(href) for href in re.findall(r'href="(/admin/tickets/\?[^"]*breached=yes[^"]*)"', html)]
    (link,) = [href for href in links if parse_qs(urlsplit(href).query) == {
        "breached": ["yes"], "severity": ["high"], "from": ["2026-11-01"], "to": ["2026-11-30"]}]
    listing = text_of(admin.get(link).text)
    numbers = {n for name, n in november.items() if name in ("H2", "R")}
    assert all(str(n) in listing for n in numbers)
    assert str(november["H1"]) not in listing and str(november["C3"]) not in listing


def test_the_page_lists_the_tickets_at_risk_and_the_newest_breaches(admin, november, read_on_3_december) -> None:
    page = text_of(admin.get(f"/admin/reports/?{query(**MONTH)}").text)
    assert f"Ticket {november['A1']} critical open, due" in page
    assert f"Ticket {november['A2']}" not in page
    assert f"Ticket {november['C3']} critical opened Wed 04 Nov, 09:00 EST , answered 1 min late" in page


def test_the_report_csv_opens_in_pythons_csv_with_the_same_figures(admin, november, read_on_3_december) -> None:
    response = admin.get(f"/admin/reports/sla.csv?{query(**MONTH)}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'attachment; filename="sla-report-2026-12-03.csv"' == response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["severity"] for r in rows] == ["critical", "high", "normal", "low", "all"]
    for row in rows:
        expected = NOVEMBER_BY_HAND[row["severity"]]
        assert (row["period_start"], row["period_end"]) == ("2026-11-01", "2026-12-01")
        assert int(row["opened"]) == expected.opened and int(row["answered"]) == expected.answered
        assert int(row["within_target"]) == expected.within and int(row["answered_late"]) == expected.late
        assert int(row["unanswered_past_due"]) == expected.unanswered_breached
        assert int(row["breaches"]) == expected.breaches and int(row["waiting"]) == expected.waiting
        assert float(row["within_target_percent"]) == round(100 * expected.within_share, 1)
        assert int(row["median_first_response_seconds"]) == expected.median.total_seconds()
        assert int(row["p90_first_response_seconds"]) == expected.p90.total_seconds()
        assert (int(row["resolved"]), int(row["satisfied"]), int(row["dissatisfied"])) == (
            expected.resolved, expected.satisfied, expected.dissatisfied)


def test_the_charts_are_svg_with_a_line_or_bars_per_severity(admin, november, read_on_3_december) -> None:
    for name, words in (("within-target", "% within target"), ("opened", "tickets opened")):
        response = admin.get(f"/admin/reports/charts/{name}.svg?group=week&from=2026-10-26&to=2026-11-30")
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        root = ElementTree.fromstring(response.data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
        assert words in texts
        assert all(severity in texts for severity in ("critical", "high", "normal", "low"))
    assert admin.get("/admin/reports/charts/pie.svg").status_code == 404


def test_a_report_asked_for_wrongly_is_a_400_saying_what_to_fix(admin) -> None:
    response = admin.get("/admin/reports/?group=year")
    assert response.status_code == 400
    assert "group must be one of month, week, got &#39;year&#39;" in response.text
    assert admin.get("/admin/reports/sla.csv?from=yesterday").status_code == 400
    assert admin.get("/admin/reports/?organization_id=4242").status_code == 404


def test_one_organisations_report_is_named_on_the_page(admin, desk: Desk, november, read_on_3_december) -> None:
    page = text_of(admin.get(f"/admin/reports/?{query(**MONTH, organization_id=str(desk.acme.id))}").text)
    assert "SLA report: Acme Corp" in page
    assert "All severities 3 1 (33 %) 2 0 6 h 1 min 11 h 36 min 3 1 yes, 1 no" in page


def test_the_old_sla_page_sends_the_manager_to_the_report(admin) -> None:
    response = admin.get("/admin/tickets/sla")
    assert response.status_code == 301 and response.headers["Location"].endswith("/admin/reports/")
    assert 'href="/admin/reports/"' in admin.get("/admin/tickets/").text


def test_the_report_needs_an_admin(client: FlaskClient) -> None:
    for path in ("/admin/reports/", "/admin/reports/sla.csv", "/admin/reports/charts/opened.svg"):
        assert client.get(path).status_code == 302


def test_the_api_gives_the_same_figures(api: Api, november, read_on_3_december) -> None:
    response = api.get("/api/reports/sla", **MONTH)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["group"], body["from"], body["to"], body["timezone"]) == (
        "month", "2026-11-01", "2026-11-30", "America/New_York")
    (month,) = body["periods"]
    for severity, expected in NOVEMBER_BY_HAND.items():
        got = month["severities"][severity]
        assert (got["opened"], got["within_target"], got["answered_late"], got["breaches"], got["resolved"]) == (
            expected.opened, expected.within, expected.late, expected.breaches, expected.resolved)
        assert got["median_first_response_seconds"] == expected.median.total_seconds()
        assert got["p90_first_response_seconds"] == expected.p90.total_seconds()
    assert [t["number"] for t in body["at_risk"]] == [november["A1"]]
    assert body["breaches"]["total"] == 6 and len(body["breaches"]["newest"]) == 6
    assert body["breaches"]["newest"][0]["url"] == f"/api/tickets/{november['C4']}"


def test_the_api_refuses_a_report_it_cannot_read(api: Api) -> None:
    assert api.get("/api/reports/sla", group="day").get_json()["error"].startswith("group must be one of")
    assert api.get("/api/reports/sla", group="day").status_code == 400
    assert api.get("/api/reports/sla", organization_id="4242").status_code == 404
    assert api.client.get("/api/reports/sla").status_code == 401


def test_the_ticket_list_downloads_as_csv_with_its_filters(admin, november, read_on_3_december) -> None:
    response = admin.get("/admin/tickets/tickets.csv?breached=yes&from=2026-11-01&to=2026-11-30")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    breached = {november[name] for name in ("C3", "C4", "H2", "R", "N2", "L2")}
    assert {int(r["number"]) for r in rows} == breached
    assert all(r["within_target"] == "no" for r in rows)
    by_number = {int(r["number"]): r for r in rows}
    assert by_number[november["H2"]]["organization"] == "Acme Corp"
    assert by_number[november["H2"]]["requester_email"] == "lena@acme.example"
    assert by_number[november["H2"]]["satisfaction"] == "no"
    everything = list(csv.DictReader(io.StringIO(admin.get("/admin/tickets/tickets.csv").text)))
    assert len(everything) == len(november)


def test_words_a_spreadsheet_would_run_stay_text_in_the_csv(admin, session: Session, clock: FakeClock) -> None:
    session.add(Ticket(number=10001, severity="low", status="open", source="web", created_at=clock.now,
                       response_due_at=clock.now + timedelta(days=2), subject='=HYPERLINK("http://evil.example")',
                       caller_number="+14155550100"))
    session.commit()
    (row,) = csv.DictReader(io.StringIO(admin.get("/admin/tickets/tickets.csv").text))
    assert row["subject"] == "'=HYPERLINK(\"http://evil.example\")"
    assert row["caller_number"] == "+14155550100"


def test_a_filter_the_list_cannot_read_is_dropped_and_said(admin) -> None:
    response = admin.get("/admin/tickets/?from=someday&severity=urgent")
    assert response.status_code == 200
    assert "from &#39;someday&#39; is not a date like 2026-11-30" in response.text
    assert "Unknown severity &#39;urgent&#39;" in response.text


def test_the_worker_brings_the_report_up_to_date(app, api: Api, session: Session, clock: FakeClock) -> None:
    body = api.post("/api/tickets", {"severity": "high"}).get_json()
    with app.app_context():
        run_once(ConsoleSender(lambda _text: None))
    report = api.get("/api/reports/sla").get_json()
    assert report["as_of"] is not None
    assert report["periods"][-1]["severities"]["high"]["opened"] == 1
    assert report["periods"][-1]["severities"]["high"]["waiting"] == 1
    assert body["number"] == 10001
