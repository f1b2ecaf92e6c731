"""Heartbeats: each long-running process of the line (the worker, the mail process) says it is alive.

The worker writes its beat every round; `/healthz` and `doctor` read it. A beat older than
STALE_AFTER means the process has stopped (or cannot reach the database): notifications and SLA
warnings are not going out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, InsertUnlessPresent

STALE_AFTER = timedelta(minutes=2)


class Heartbeat(Base):
    """When a process of the line (`worker`, `mail`) last said it was alive."""

    __tablename__ = "heartbeats"

    process: Mapped[str] = mapped_column(String(32), primary_key=True)
    beat_at: Mapped[datetime]


_INSERT = InsertUnlessPresent(Heartbeat.__table__, "process")


def beat(session: Session, process: str, now: datetime) -> None:
    """Record that `process` is alive now (commits)."""
    _INSERT.run(session, {"process": process, "beat_at": now})
    session.execute(Heartbeat.__table__.update().where(Heartbeat.__table__.c.process == process)
                    .values(beat_at=now))
    session.commit()


def last_beat(session: Session, process: str) -> datetime | None:
    """When `process` last said it was alive, or None if it never did."""
    return session.scalar(select(Heartbeat.beat_at).where(Heartbeat.process == process))


def is_stale(beat_at: datetime | None, now: datetime) -> bool:
    """Whether a process whose last beat was `beat_at` counts as stopped."""
    return beat_at is None or now - beat_at > STALE_AFTER
