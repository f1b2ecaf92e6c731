"""The support manager's SLA report at /admin/reports: the figures per week or month and severity, two
charts, the tickets at risk now and the newest breaches, and the same report as CSV.

Thin views: each reads the query (tickets.report.report_query), asks tickets.report for the report and
renders it as HTML, SVG (tickets.charts) or CSV (tickets.exports). A query that cannot be read is
shown on the page with what to fix, as a 400.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from core.clock import current_clock
from core.db import db
from core.settings import current_settings
from people.models import Organization
from staff.admins import login_required
from tickets.charts import DRAWN
from tickets.exports import csv_filename, report_csv
from tickets.report import PERIODS, SEVERITY_ROWS, Figures, InvalidReport, ReportQuery, SlaReport, report_query, sla_report
from tickets.sla import Severity, target_description
from web.pages import protect_pages

bp = Blueprint("report_pages", __name__, url_prefix="/admin/reports", template_folder="templates")
protect_pages(bp)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_settings().support_timezone)


def _report(query: ReportQuery) -> SlaReport:
    return sla_report(db(), query, current_clock(), _zone())


def _query() -> ReportQuery:
    return report_query(request.args, current_clock().astimezone(_zone()).date())


def query_args(query: ReportQuery) -> dict[str, str]:
    """`query` as the parameters of a link (charts, CSV, the API)."""
    args = {"group": query.period, "from": query.first_day.isoformat(), "to": query.last_day.isoformat()}
    if query.organization_id is not None:
        args["organization_id"] = str(query.organization_id)
    return args


@bp.get("/")
@login_required
def report() -> Any:
    """The SLA report for `?group=month|week&from=&to=&organization_id=` (by default the last twelve months)."""
    organizations = db().execute(select(Organization.id, Organization.name).order_by(Organization.name)).all()
    try:
        query = _query()
    except InvalidReport as refusal:
        return render_template("tickets/report.html", report=None, error=str(refusal), form=request.args,
                               organizations=organizations, periods=PERIODS), 400
    if query.organization_id is not None and query.organization_id not in {o.id for o in organizations}:
        return render_template("tickets/report.html", report=None, form=request.args, periods=PERIODS,
                               error=f"There is no organisation {query.organization_id}.",
                               organizations=organizations), 404
    found = _report(query)
    return render_template(
        "tickets/report.html", report=found, error=None, form=query_args(query), args=query_args(query),
        organizations=organizations, periods=PERIODS, severities=SEVERITY_ROWS, nothing=Figures(),
        organization=next((o.name for o in organizations if o.id == query.organization_id), None),
        targets={s.value: target_description(s) for s in Severity})


def _refused(refusal: InvalidReport) -> Response:
    return Response(f"{refusal}\n", status=400, mimetype="text/plain")


@bp.get("/sla.csv")
@login_required
def report_csv_download() -> Response:
    """The report as CSV: one row per period and severity (and "all"), with every figure of the page."""
    try:
        query = _query()
    except InvalidReport as refusal:
        return _refused(refusal)
    now = current_clock()
    return Response(report_csv(_report(query)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{csv_filename("sla-report", now)}"'})


@bp.get("/charts/<name>.svg")
@login_required
def chart(name: str) -> Response:
    """One of the report's charts (`within-target`, `opened`) for the same query, as SVG."""
    draw = DRAWN.get(name)
    if draw is None:
        abort(404)
    try:
        query = _query()
    except InvalidReport as refusal:
        return _refused(refusal)
    return Response(draw(_report(query)), mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})
