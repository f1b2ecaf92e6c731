"""The app factory and the command-line operations it registers (contract §6); the health check."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from core.settings import app_settings
from ivr.spool import spool_request
from oncall.models import Contact
from people.models import Organization, Person
from tickets.models import Ticket


def test_upgrade_db_can_run_again(app) -> None:
    result = app.test_cli_runner().invoke(args=["upgrade-db"])
    assert result.exit_code == 0 and "schema is up to date" in result.output


def test_seed_demo_loads_a_team_and_its_customers_once(app, session: Session) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"]).output
    assert "loaded the demo team" in first and "demo customers: Acme Corp, Globex, managed by Northwind Partners" in first
    assert "not loaded" in runner.invoke(args=["seed-demo"]).output
    assert session.scalar(select(func.count()).select_from(Contact)) == 4
    acme = session.scalar(select(Organization).where(Organization.name == "Acme Corp"))
    assert acme.partner.name == "Northwind Partners"
    assert {p.name for p in session.scalars(select(Person))} == {"Lena Fischer", "Omar Haddad", "Sam Okafor"}


def test_replay_spool_command_moves_a_spooled_voicemail_onto_a_ticket(app, session: Session, clock) -> None:
    spool_dir = app_settings(app).spool_dir
    spool_request(spool_dir, "voicemail", "/ivr/fallback/recorded",
                  {"CallSid": "CA" + "e" * 32, "From": "+12125550147", "RecordingUrl": "https://r/1", "RecordingDuration": "9"},
                  clock.now)
    result = app.test_cli_runner().invoke(args=["replay-spool"])
    assert "replayed 1 spooled entries" in result.output
    ticket = session.scalar(select(Ticket))
    assert ticket.recording_url == "https://r/1" and ticket.severity == "normal"


def test_health_check_reports_the_database_and_the_workers_heartbeat(app, client, session: Session, clock) -> None:
    from core.heartbeat import beat
    from tickets.outbox import ConsoleMailSender, ConsoleSender
    from tickets.worker import run_once

    with app.app_context():
        run_once(ConsoleSender(lambda _: None), ConsoleMailSender(lambda _: None))
    clock.advance(seconds=30)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {
        "database": "ok", "worker": {"last_heartbeat": "2026-11-26T03:00:00+00:00", "age_seconds": 30, "status": "ok"}}
    clock.advance(minutes=2)
    stale = client.get("/healthz")
    assert stale.status_code == 503 and stale.json["worker"]["status"] == "stale"
    assert "start the worker" in stale.json["worker"]["problem"]
    beat(session, "worker", clock.now)
    assert client.get("/healthz").status_code == 200


def test_health_check_fails_while_no_worker_ever_ran(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "ok" and response.json["worker"]["last_heartbeat"] is None


def test_health_check_says_when_the_database_is_down(make_app) -> None:
    response = make_app(DATABASE_URL="postgresql://nobody@127.0.0.1:1/nothing").test_client().get("/healthz")
    assert response.status_code == 503 and response.json == {"database": "unreachable"}


def test_seed_demo_never_resets_an_admin_made_by_hand(app, session: Session, clock) -> None:
    from staff.admins import check_login, create_admin

    create_admin(session, "admin", "a real password!", clock.now)
    output = app.test_cli_runner().invoke(args=["seed-demo"]).output
    assert "its password was left alone" in output
    assert check_login(session, "admin", "a real password!", clock.now) is not None


@pytest.mark.parametrize("path", ["/healthz", "/api/contacts", "/admin/login", "/oncall/nope.ics", "/ivr/voice"])
def test_every_response_forbids_type_sniffing_and_https_lines_ask_for_https(make_app, path: str) -> None:
    plain = make_app().test_client().get(path)
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in plain.headers, "not over plain HTTP"
    https = make_app(PUBLIC_URL="https://support.example.com").test_client().get(path)
    assert https.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_address_make_run_prints_opens_a_page_that_leads_to_the_admin_pages(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    for path in ("/admin/", "/admin/tickets/", "/admin/calls/", "/api/openapi.json", "/healthz"):
        assert f'href="{path}"' in response.text


def test_every_page_starts_with_a_link_that_skips_to_its_content(client) -> None:
    html = client.get("/admin/login").text
    assert html.index('class="skip-link" href="#main"') < html.index("<header") < html.index('<main id="main"')


def test_a_bad_setting_stops_the_line_with_one_line_naming_it(env, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        create_app({"ENV": {**env, "PHONE_REGION": "XX"}, "INSTANCE_PATH": str(tmp_path / "instance")})
    assert stopped.value.code == 3, "gunicorn's worker-failed-to-boot status, so its master stops too"
    assert capsys.readouterr().err == "The support line cannot start: PHONE_REGION='XX' is not a region phonenumbers knows\n"


def test_the_local_development_secrets_are_announced_once_when_made(env, tmp_path, caplog) -> None:
    quiet = {name: value for name, value in env.items() if name not in {"SECRET_KEY", "TWILIO_AUTH_TOKEN"}}
    config = {"INSTANCE_PATH": str(tmp_path / "instance")}
    with caplog.at_level(logging.WARNING, logger="supportline"):
        create_app({**config, "ENV": quiet})
        made = [r.getMessage() for r in caplog.records]
        caplog.clear()
        create_app({**config, "ENV": quiet})
    assert len(made) == 2 and all("made a local development value" in m for m in made)
    assert caplog.records == [], "the next command says nothing new, so it says nothing"
