"""`/metrics`: Prometheus' text format, parsed with `prometheus_client.parser`; the counters move by what
a scripted call (and the worker after it) did; the outbox's depth is read at each scrape; and only the
monitoring network or a bearer of METRICS_TOKEN is answered."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from phonesim import FlaskClientTransport, ScriptedCaller, place_call
from staff.tokens import issue_api_token
from tests.support import AUTH_TOKEN, CALLER, PUBLIC_BASE, SUPPORT_NUMBER, Api, FakeClock, Team
from tickets.outbox import ConsoleMailSender
from tickets.worker import run_once


def scrape(client: FlaskClient, **kwargs) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by name and labels."""
    answer = client.get("/metrics", **kwargs)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def moved(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


class Delivered:
    """A Twilio that takes every text."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def send_sms(self, to: str, body: str) -> str:
        self.texts.append((to, body))
        return "SM" + "7" * 32

    def start_call(self, to: str, url: str, status_callback: str) -> str:
        return "CA" + "7" * 32


def test_a_scripted_call_moves_the_counters_it_should(app: Flask, client: FlaskClient, team: Team) -> None:
    before = scrape(client)
    record = place_call(voice_url=f"{PUBLIC_BASE}/ivr/voice", status_callback_url=f"{PUBLIC_BASE}/ivr/status",
                        auth_token=AUTH_TOKEN, transport=FlaskClientTransport(client),
                        caller=ScriptedCaller(["1", "1", "1"]), engineers=["accept"], from_number=CALLER,
                        to_number=SUPPORT_NUMBER)
    assert record.dials and record.dials[0].bridged, record.transcript()
    after = scrape(client)
    assert moved(before, after, "supportline_calls_total", outcome="connected") == 1
    assert moved(before, after, "supportline_calls_total", outcome="missed") == 0
    assert moved(before, after, "supportline_tickets_total", severity="critical", source="phone") == 1
    assert moved(before, after, "supportline_first_responses_total", target="within") == 1
    assert moved(before, after, "supportline_webhook_seconds_count", route="/ivr/voice") == 1
    assert moved(before, after, "supportline_webhook_seconds_count", route="/ivr/gather") == 3
    assert moved(before, after, "supportline_webhook_seconds_count", route="/ivr/status") == 1
    assert after[("supportline_webhook_seconds_bucket", (("le", "+Inf"), ("route", "/ivr/voice")))] >= 1


def test_the_outbox_depth_and_the_messages_sent(app: Flask, client: FlaskClient, team: Team, session: Session,
                                               clock: FakeClock) -> None:
    api = Api(client, issue_api_token(session, "metrics", clock.now))
    assert api.post("/api/tickets", {"severity": "high"}).status_code == 201
    clock.advance(minutes=5)
    waiting = scrape(client)
    assert waiting[("supportline_database_up", ())] == 1 and waiting[("supportline_outbox_pending", ())] == 1
    assert waiting[("supportline_outbox_oldest_pending_seconds", ())] == timedelta(minutes=5).total_seconds()
    with app.app_context():
        run_once(Delivered(), ConsoleMailSender(lambda _: None))
    after = scrape(client)
    assert moved(waiting, after, "supportline_messages_total", channel="sms", result="sent") == 1
    assert after[("supportline_outbox_pending", ())] == 0
    assert after[("supportline_outbox_oldest_pending_seconds", ())] == 0
    assert moved(waiting, after, "supportline_tickets_total", severity="high", source="api") == 0, "counted once"


def test_a_ticket_that_was_rolled_back_is_not_counted(app: Flask, client: FlaskClient, team: Team,
                                                     session: Session, clock: FakeClock) -> None:
    from core.calendar import business_calendar
    from tickets.records import open_ticket
    from tickets.sla import Severity

    before = scrape(client)
    open_ticket(session, severity=Severity.LOW, source="api", now=clock.now,
                calendar=business_calendar("America/New_York", "US"))
    session.rollback()
    assert moved(before, scrape(client), "supportline_tickets_total", severity="low", source="api") == 0


def test_metrics_answer_the_monitoring_network_only(client: FlaskClient) -> None:
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "93.184.216.34"})
    assert refused.status_code == 403 and "METRICS_TOKEN" in refused.text


def test_with_a_token_metrics_answer_its_bearer_only(make_app) -> None:
    client = make_app(METRICS_TOKEN="scrape-me-0123456789").test_client()
    assert client.get("/metrics").status_code == 403, "not even from loopback without it"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"},
                      environ_base={"REMOTE_ADDR": "93.184.216.34"}).status_code == 200


def test_with_the_database_down_the_counters_are_still_served(make_app) -> None:
    client = make_app(DATABASE_URL="postgresql://nobody@127.0.0.1:1/nothing").test_client()
    samples = scrape(client)
    assert samples[("supportline_database_up", ())] == 0
    assert ("supportline_outbox_pending", ()) not in samples
