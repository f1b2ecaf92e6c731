"""`/metrics`: the line's Prometheus metrics (`core.metrics`) in the text format, and the outbox's depth
read from the database at each scrape; plus the timing of Twilio's webhooks.

Protected as configured: with `METRICS_TOKEN`, only a request bearing it is answered; without one,
only clients on a loopback or private address (the monitoring network), others get 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Collection, Iterator
from datetime import datetime

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.exc import SQLAlchemyError
from core.clock import current_clock
from core.db import db
from core.metrics import WEBHOOK_SECONDS
from core.settings import current_settings
from tickets.outbox import outbox_depth

bp = Blueprint("metrics", __name__)


def init_app(app: Flask, *, webhooks: Collection[Blueprint]) -> None:
    """Serve `/metrics`, and observe how long each request to the `webhooks` blueprints takes, by route."""
    names = {blueprint.name for blueprint in webhooks}
    app.register_blueprint(bp)

    @app.before_request
    def _start() -> None:
        if names.intersection(request.blueprints):
            g.webhook_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("webhook_started", None)
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            WEBHOOK_SECONDS.labels(route).observe(time.perf_counter() - started)
        return response


class _Outbox:
    """The outbox as it stands: how many messages wait, and how long the oldest has waited; or, when the
    database does not answer, only that."""

    def __init__(self, pending: int | None, oldest: datetime | None, now: datetime) -> None:
        self.pending, self.oldest, self.now = pending, oldest, now

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("supportline_database_up", "Whether the database answered this scrape",
                                value=0 if self.pending is None else 1)
        if self.pending is None:
            return
        yield GaugeMetricFamily("supportline_outbox_pending", "Messages waiting in the outbox", value=self.pending)
        age = (self.now - self.oldest).total_seconds() if self.oldest is not None else 0.0
        yield GaugeMetricFamily("supportline_outbox_oldest_pending_seconds",
                                "How long the oldest waiting message has waited (0: none waits)", value=max(age, 0.0))


def _allowed() -> bool:
    token = current_settings().metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return client.is_loopback or client.is_private


def _outbox_now() -> _Outbox:
    try:
        pending, oldest = outbox_depth(db())
    except SQLAlchemyError:
        db().rollback()
        return _Outbox(None, None, current_clock())  # the counters are still worth scraping
    db().rollback()
    return _Outbox(pending, oldest, current_clock())


@bp.get("/metrics")
def metrics() -> Response | tuple[str, int]:
    """Every metric in Prometheus' text format: this host's processes' counters, and the outbox now."""
    if not _allowed():
        return "metrics are for the monitoring network or a bearer of METRICS_TOKEN\n", 403
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    outbox = CollectorRegistry(auto_describe=False)
    outbox.register(_outbox_now())
    return Response(text + generate_latest(outbox), content_type=CONTENT_TYPE_LATEST)
