"""`/healthz`: for load balancers and monitors, whether the database answers and the worker is alive."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.clock import current_clock
from core.db import db
from core.heartbeat import STALE_AFTER, is_stale, last_beat

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def health() -> tuple[dict[str, Any], int]:
    """200 while the database answers and the worker beat within the last two minutes; 503 otherwise,
    saying which."""
    try:
        db().execute(text("SELECT 1"))
        beat_at = last_beat(db(), "worker")
    except SQLAlchemyError:
        db().rollback()
        return {"database": "unreachable"}, 503
    now = current_clock()
    stale = is_stale(beat_at, now)
    worker: dict[str, Any] = {"last_heartbeat": beat_at.isoformat() if beat_at else None,
                              "status": "stale" if stale else "ok"}
    if beat_at is not None:
        worker["age_seconds"] = int((now - beat_at).total_seconds())
    if stale:
        worker["problem"] = (f"no heartbeat in the last {int(STALE_AFTER.total_seconds() // 60)} minutes: "
                             "start the worker (Procfile `worker:`); notifications are not going out")
    return {"database": "ok", "worker": worker}, 503 if stale else 200
