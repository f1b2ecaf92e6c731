"""The line's Prometheus metrics (`prometheus_client`), in one place; `/metrics` serves them (`web.metrics`).

Counters of what the line did move when the change that did it is committed: `count_on_commit` keeps
the increment in the session until its commit (a rolled-back ticket was never opened). Under
gunicorn, and for the worker and mail processes on the same host, `PROMETHEUS_MULTIPROC_DIR` names a
directory they all write to (prometheus_client's multiprocess mode); without it each process counts
for itself.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session

CALLS_ENDED = Counter("supportline_calls", "Calls that ended, by outcome", ["outcome"])
WEBHOOK_SECONDS = Histogram("supportline_webhook_seconds", "Time to answer a Twilio webhook, by route", ["route"],
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))
TICKETS_OPENED = Counter("supportline_tickets", "Tickets opened, by severity and source", ["severity", "source"])
FIRST_RESPONSES = Counter("supportline_first_responses", "First responses, within or past their target", ["target"])
MESSAGES_HANDLED = Counter("supportline_messages", "Messages the outbox sent or gave up on, by channel", ["channel", "result"])
MAIL_RECEIVED = Counter("supportline_mail", "Mail the line received, by what became of it", ["status"])

_PENDING = "core.metrics.pending"


def count_on_commit(session: Session, counter: Any, *labels: str) -> None:
    """Add one to `counter` (with `labels`) when the session's transaction commits."""
    session.info.setdefault(_PENDING, []).append((counter, labels))


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for counter, labels in session.info.pop(_PENDING, ()):
        (counter.labels(*labels) if labels else counter).inc()


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, _transaction: Any) -> None:
    session.info.pop(_PENDING, None)
