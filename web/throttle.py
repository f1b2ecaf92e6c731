"""Throttles on pages people may hammer (the portal's sign-in link, say): Flask-Limiter, counting in
the database.

Several web processes serve the line (contract §6), so a throttle counted in one process's memory
would let a client through once per process. `limits` has no SQL storage of its own; `DatabaseCounts`
is one, one upsert per hit, on the app's own engine and clock, so the fake clock of the tests moves
the windows too. Views declare their limits with `limiter.limit(...)`; the factory calls `init_app`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import Storage
from sqlalchemy import String, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import current_clock
from core.db import Base, app_engine

STORAGE_URI = "supportline+database://"


class ThrottleCount(Base):
    """Hits on one throttle key (a limit and whom it counts) in the window that ends at `expires_at`."""

    __tablename__ = "throttle_counts"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(index=True)


_TABLE = ThrottleCount.__table__


class DatabaseCounts(Storage):
    """A `limits` storage in the line's database: fixed windows, shared by every web process."""

    STORAGE_SCHEME = ["supportline+database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = current_clock()
        ends = now + timedelta(seconds=expiry)
        engine = app_engine(current_app)
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(_TABLE).values(key=key[:255], count=amount, expires_at=ends)
        ended = _TABLE.c.expires_at <= now
        statement = statement.on_conflict_do_update(
            index_elements=[_TABLE.c.key],
            set_={"count": case((ended, amount), else_=_TABLE.c.count + amount),
                  "expires_at": case((ended, ends), else_=_TABLE.c.expires_at)},
        ).returning(_TABLE.c.count)
        with engine.begin() as connection:
            return int(connection.execute(statement).scalar_one())

    def _live(self, key: str) -> tuple[int, datetime] | None:
        with app_engine(current_app).connect() as connection:
            row = connection.execute(select(_TABLE.c.count, _TABLE.c.expires_at)
                                     .where(_TABLE.c.key == key[:255])).first()
        if row is None or row.expires_at <= current_clock():
            return None
        return row.count, row.expires_at

    def get(self, key: str) -> int:
        live = self._live(key)
        return live[0] if live else 0

    def get_expiry(self, key: str) -> float:
        live = self._live(key)
        return (live[1] if live else current_clock()).timestamp()

    def check(self) -> bool:
        try:
            with app_engine(current_app).connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with app_engine(current_app).begin() as connection:
            return connection.execute(delete(_TABLE)).rowcount

    def clear(self, key: str) -> None:
        with app_engine(current_app).begin() as connection:
            connection.execute(delete(_TABLE).where(_TABLE.c.key == key[:255]))


limiter = Limiter(key_func=get_remote_address, storage_uri=STORAGE_URI, strategy="fixed-window",
                  headers_enabled=False, key_prefix="supportline")


def init_app(app: Flask) -> None:
    """Count the views' limits in the app's database."""
    limiter.init_app(app)


def forget_expired(now: datetime) -> int:
    """Drop the counts of windows that ended (the worker's housekeeping); how many went."""
    with app_engine(current_app).begin() as connection:
        return connection.execute(delete(_TABLE).where(_TABLE.c.expires_at <= now)).rowcount
