"""The benchmark's bound (`bench/bound.py`) does the work it stands for: it refuses an unsigned
webhook, logs every step of a call, opens a numbered ticket with its text on the ticket key, and
a webhook that fails leaves no transaction open for the next. The report counts a webhook the
bound (or the floor) never answered as outside the goal."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from bench.bound import create_app
from bench.floor import table_key
from bench.load import EXPECTED, LoadResult
from bench.loadrun import ServedRun
from bench.report import print_goals, webhook_table

TOKEN = "bound-test-token"
BASE = "http://127.0.0.1"
SID = "CA" + "0" * 32
ANSWER = "<Response><Say>captured</Say></Response>"
WEBHOOKS = [("/ivr/voice", {}), ("/ivr/gather", {"step": "main_menu", "n": "1"}),
            ("/ivr/gather", {"step": "callback_choice", "n": "3"}), ("/ivr/whisper", {"target": "0"})]
# The bound answers these too: the ticket key at another step number (a test's call goes there directly).
ALSO_ANSWERED = [("/ivr/gather", {"step": "callback_choice", "n": "1"})]


Rows = Callable[[str], list[tuple[Any, ...]]]
BOUND_TABLES = ("bound_calls", "bound_call_steps", "bound_counter", "bound_tickets", "bound_outbox")


@pytest.fixture(params=["sqlite", "postgresql"])
def bound(request: pytest.FixtureRequest, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FlaskClient, Rows]]:
    """The bound's app on SQLite, or on TEST_DATABASE_URL (its bound_* tables dropped first), and a reader."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bound.sqlite3'}"

        def rows(statement: str) -> list[tuple[Any, ...]]:
            with closing(sqlite3.connect(url.split(":///", 1)[1], timeout=1)) as connection:
                return connection.execute(statement).fetchall()
    else:
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url.startswith("postgresql"):
            pytest.skip("the bound on PostgreSQL needs TEST_DATABASE_URL")
        import psycopg

        plain = url.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute("DROP TABLE IF EXISTS " + ", ".join(BOUND_TABLES))

        def rows(statement: str) -> list[tuple[Any, ...]]:
            with psycopg.connect(plain) as connection:
                cursor = connection.execute(statement)
                return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    table = tmp_path / "table.json"
    table.write_text(json.dumps({table_key(path, args): ANSWER for path, args in WEBHOOKS + ALSO_ANSWERED}))
    monkeypatch.setenv("BENCH_FLOOR_TWIML", str(table))
    monkeypatch.setenv("BENCH_BOUND_DATABASE", url)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    app = create_app()
    yield app.test_client(), rows
    if "bench.bound.checkpoints" in app.extensions:
        app.extensions["bench.bound.checkpoints"].stop()
    app.extensions["bench.bound"].close()
    if request.param == "postgresql":  # the line's schema tests expect only the line's tables
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute("DROP TABLE IF EXISTS " + ", ".join(BOUND_TABLES))


def _post(client: FlaskClient, path: str, args: dict[str, str], form: dict[str, str], token: str = TOKEN):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    url = f"{BASE}{path}" + (f"?{query}" if query else "")
    signature = RequestValidator(token).compute_signature(url, form)
    return client.post(url, data=form, headers={"X-Twilio-Signature": signature})


def test_the_bound_refuses_a_webhook_twilio_did_not_sign(bound: tuple[FlaskClient, Rows]) -> None:
    client, rows = bound
    response = _post(client, "/ivr/voice", {}, {"CallSid": SID}, token="someone-else")
    assert response.status_code == 403
    assert rows("SELECT COUNT(*) FROM bound_calls") == [(0,)]


def test_the_bound_logs_each_step_and_opens_a_ticket_on_the_ticket_key(bound: tuple[FlaskClient, Rows]) -> None:
    client, rows = bound
    form = {"CallSid": SID, "From": "+12125550147"}
    for path, args in WEBHOOKS:
        response = _post(client, path, args, {**form, "Digits": "1"} if path == "/ivr/gather" else form)
        assert response.status_code == 200
        assert response.get_data(as_text=True) == ANSWER

    assert rows(f"SELECT seq, step FROM bound_calls WHERE call_sid = '{SID}'") == [(3, "callback_choice")]
    assert rows("SELECT step FROM bound_call_steps WHERE step != 'prompt' ORDER BY id") == [
        ("voice",), ("main_menu",), ("callback_choice",)]  # the whisper only reads
    assert rows("SELECT number, caller FROM bound_tickets") == [(10001, "+12125550147")]
    assert rows("SELECT dedupe_key FROM bound_outbox") == [("new_ticket:1",)]


def test_a_failed_webhook_leaves_no_transaction_open_for_the_next(bound: tuple[FlaskClient, Rows]) -> None:
    client, rows = bound
    form = {"CallSid": SID, "From": "+12125550147"}
    assert _post(client, "/ivr/voice", {}, form).status_code == 200
    rows("ALTER TABLE bound_outbox RENAME TO bound_outbox_away")  # the ticket's text cannot be queued
    ticket_key = _post(client, "/ivr/gather", {"step": "callback_choice", "n": "1"}, {**form, "Digits": "1"})
    assert ticket_key.status_code == 500
    rows("ALTER TABLE bound_outbox_away RENAME TO bound_outbox")  # no lock of the failed webhook's is left
    assert _post(client, "/ivr/voice", {}, {**form, "CallSid": "CA" + "1" * 32}).status_code == 200
    assert rows("SELECT COUNT(*) FROM bound_tickets") == [(0,)]  # the failed ticket was rolled back


def _served(samples: dict[str, list[float]]) -> ServedRun:
    load = LoadResult()
    for name, values in samples.items():
        load.samples[name].extend(values)
    return ServedRun(load, 0, 0.0)


def test_a_webhook_the_bound_never_answered_is_not_counted_within_the_goal() -> None:
    line = _served({name: [0.004] * 10 for name in EXPECTED})
    floor = _served({name: [0.002] * 10 for name in EXPECTED})
    bound = _served({"voice": [0.0025] * 10})  # every call failed after its first webhook
    _, ratios = webhook_table(line, floor, bound)
    lines: list[str] = []
    print_goals("SQLite", {"paced": ratios}, None, 0, None, out=lines.append)
    assert "the bound's p50 within 1.5× for 1/8" in lines[0]
