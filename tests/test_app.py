"""The app factory, its settings, the schema and the command-line operations (contract §5, §6)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

import ivr.models  # noqa: F401  (all tables on the metadata)
import oncall.models  # noqa: F401
import tickets.models  # noqa: F401
from core.db import Base, PingWhenIdle, engine_for
from core.settings import Settings, SettingsError, app_settings
from ivr.spool import spool_request
from oncall.models import Contact
from tickets.models import Ticket


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(env, str(tmp_path))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SUPPORT_TIMEZONE", "Mars/Olympus", "Mars/Olympus"),
        ("SUPPORT_HOLIDAYS", "XX", "XX"),
        ("PHONE_REGION", "ZZ", "PHONE_REGION"),
        ("FALLBACK_NUMBER", "12", "FALLBACK_NUMBER"),
        ("TRUSTED_PROXIES", "two", "TRUSTED_PROXIES"),
        ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES"),
        ("PUBLIC_URL", "support.example.com", "PUBLIC_URL"),
    ],
)
def test_a_bad_setting_stops_the_line_with_a_message_naming_it(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings(tmp_path, **{name: value})


def test_settings_are_normalised(tmp_path: Path) -> None:
    s = settings(tmp_path, FALLBACK_NUMBER="(415) 555-0999", SUPPORT_HOLIDAYS="us", PHONE_REGION="us",
                 PUBLIC_URL="https://support.example.com/", TRUSTED_PROXIES="2")
    assert s.fallback_number == "+14155550999"
    assert s.support_holidays == "US" and s.phone_region == "US"
    assert s.public_url == "https://support.example.com" and s.trusted_proxies == 2


def test_defaults_use_sqlite_under_instance_and_local_secrets_never_a_built_in_one(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        first = settings(tmp_path)
    again = settings(tmp_path)
    other = settings(tmp_path / "elsewhere")
    assert first.database_url == f"sqlite:///{tmp_path / 'supportline.sqlite3'}"
    assert first.support_timezone == "UTC" and first.phone_region == "US" and first.trusted_proxies == 0
    assert first.twilio_auth_token == again.twilio_auth_token != other.twilio_auth_token
    assert len(first.secret_key) >= 32 and first.secret_key != other.secret_key
    assert "TWILIO_AUTH_TOKEN is not set" in caplog.text


def test_the_migrations_build_exactly_the_schema_the_models_describe(engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrade_db_can_run_again(app) -> None:
    result = app.test_cli_runner().invoke(args=["upgrade-db"])
    assert result.exit_code == 0 and "schema is up to date" in result.output


def test_seed_demo_loads_a_team_once(app, session: Session) -> None:
    runner = app.test_cli_runner()
    assert "loaded the demo team" in runner.invoke(args=["seed-demo"]).output
    assert "not loaded" in runner.invoke(args=["seed-demo"]).output
    assert session.scalar(select(func.count()).select_from(Contact)) == 4


def test_replay_spool_command_moves_a_spooled_voicemail_onto_a_ticket(app, session: Session, clock) -> None:
    spool_dir = app_settings(app).spool_dir
    spool_request(spool_dir, "voicemail", "/ivr/fallback/recorded",
                  {"CallSid": "CA" + "e" * 32, "From": "+12125550147", "RecordingUrl": "https://r/1", "RecordingDuration": "9"},
                  clock.now)
    result = app.test_cli_runner().invoke(args=["replay-spool"])
    assert "replayed 1 spooled entries" in result.output
    ticket = session.scalar(select(Ticket))
    assert ticket.recording_url == "https://r/1" and ticket.severity == "normal"


def test_health_check_reports_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"database": "ok"}


def test_health_check_says_when_the_database_is_down(make_app) -> None:
    response = make_app(DATABASE_URL="postgresql://nobody@127.0.0.1:1/nothing").test_client().get("/healthz")
    assert response.status_code == 503 and response.json == {"database": "unreachable"}


def test_seed_demo_never_resets_an_admin_made_by_hand(app, session: Session, clock) -> None:
    from staff.admins import check_login, create_admin

    create_admin(session, "admin", "a real password!", clock.now)
    output = app.test_cli_runner().invoke(args=["seed-demo"]).output
    assert "its password was left alone" in output
    assert check_login(session, "admin", "a real password!", clock.now) is not None


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
