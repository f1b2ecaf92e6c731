"""The database plumbing: the schema the migrations build, and PostgreSQL's pooled connections."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import ivr.models  # noqa: F401  (all tables on the metadata)
import oncall.models  # noqa: F401
import staff.models  # noqa: F401
import tickets.models  # noqa: F401
from core.db import Base, PingWhenIdle, engine_for


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
