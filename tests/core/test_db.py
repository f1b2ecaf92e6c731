"""The database plumbing: the schema the migrations build, and PostgreSQL's pooled connections."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

import ivr.models  # noqa: F401  (all tables on the metadata)
import mail.models  # noqa: F401
import oncall.models  # noqa: F401
import people.models  # noqa: F401
import staff.models  # noqa: F401
import tickets.models  # noqa: F401
from core.db import Base, PingWhenIdle, engine_for

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_migrations_build_exactly_the_schema_the_models_describe(engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def _postgresql_engine(database_url: str):
    if not database_url.startswith("postgres"):
        pytest.skip("PostgreSQL's connection checks; this run is on SQLite")
    return engine_for(database_url)


def test_a_pooled_connection_cut_while_idle_is_replaced_before_a_request_uses_it(database_url, engine, monkeypatch) -> None:
    line = _postgresql_engine(database_url)
    with line.connect() as connection:
        cut = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with engine.begin() as admin:  # as a database restart would
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": cut}).scalar()
    monkeypatch.setattr(PingWhenIdle, "IDLE_BEFORE_PING", 0.0)  # it has been idle long enough

    with line.connect() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != cut
    line.dispose()


def test_a_connection_back_from_a_request_a_moment_ago_is_used_without_a_ping_round_trip(database_url, monkeypatch) -> None:
    line = _postgresql_engine(database_url)
    pings: list[object] = []
    ping = line.dialect.do_ping
    monkeypatch.setattr(line.dialect, "do_ping", lambda dbapi_connection: pings.append(dbapi_connection) or ping(dbapi_connection))

    for _ in range(3):  # a new connection, then the same one twice, each back within the moment
        with line.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    assert pings == []

    monkeypatch.setattr(PingWhenIdle, "IDLE_BEFORE_PING", 0.0)
    with line.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    assert len(pings) == 1
    line.dispose()


def test_a_new_sqlite_file_is_readable_by_its_owner_only(tmp_path) -> None:
    import stat

    path = tmp_path / "line.sqlite3"
    engine = engine_for(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _alembic_config(url: str):
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    return config


def test_schedule_instants_saved_with_fractions_move_to_whole_seconds_without_shrinking_cover(tmp_path) -> None:
    """Migration 0010: rows saved before instants were kept to the second round-trip like new ones."""
    from datetime import datetime, timezone

    from alembic import command
    from sqlalchemy.orm import Session

    from oncall.models import Contact, Override, Rotation

    url = f"sqlite:///{tmp_path / 'line.db'}"
    config = _alembic_config(url)
    command.upgrade(config, "0009")
    fraction = datetime(2026, 12, 3, 6, 42, 6, 250_000, tzinfo=timezone.utc)
    whole = fraction.replace(microsecond=0)
    engine = engine_for(url)
    try:
        with Session(engine) as session:
            tom = Contact(name="Tom", phone="+14155550100", created_at=whole)
            session.add_all([tom, Rotation(effective_from=fraction, timezone="UTC", handoff="2026-12-01T09:00",
                                           shift_kind="daily", created_at=whole),
                             Override(contact=tom, start=fraction, end=fraction, created_at=whole)])
            session.commit()
        command.upgrade(config, "head")
        with Session(engine) as session:
            rotation, override = session.scalars(select(Rotation)).one(), session.scalars(select(Override)).one()
            assert rotation.effective_from == whole + timedelta(seconds=1), "takes effect after what was asked"
            assert (override.start, override.end) == (whole, whole + timedelta(seconds=1)), "covers what was asked"
    finally:
        engine.dispose()


def test_calls_nobody_answered_become_missed_and_menu_hang_ups_stay_abandoned(tmp_path) -> None:
    """Migration 0011: the step a call ended at tells a missed call from an abandoned one."""
    from datetime import datetime, timezone

    from alembic import command

    url = f"sqlite:///{tmp_path / 'line.db'}"
    config = _alembic_config(url)
    command.upgrade(config, "0010")
    engine = engine_for(url)
    try:
        # Rows as that schema had them: today's model has columns later migrations added.
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO call_log (call_sid, started_at, status, outcome, step, seq, tries, callback_settled, "
                     "target_index) VALUES (:sid, :at, 'completed', 'abandoned', :step, 0, 0, false, 0)"),
                [{"sid": sid, "step": step, "at": datetime(2026, 11, 25, 10, tzinfo=timezone.utc)}
                 for sid, step in [("CA1", "connecting"), ("CA2", "no_message"), ("CA3", "severity"),
                                   ("CA4", "engineer_callback")]])
        command.upgrade(config, "head")
        with engine.connect() as connection:
            outcomes = dict(connection.execute(text("SELECT call_sid, outcome FROM call_log")).all())
        assert outcomes == {"CA1": "missed", "CA2": "missed", "CA3": "abandoned", "CA4": "missed"}
    finally:
        engine.dispose()
