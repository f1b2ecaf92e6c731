"""How the Procfile's `web:` command is served: gunicorn.conf.py sizes the web tier by its database,
and on SQLite each web process copies the write-ahead log back from a thread of its own."""

from __future__ import annotations

import gc
import logging
import os
import runpy
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from flask import Flask
from sqlalchemy import text

from core.db import WalCheckpoints, engine_for, wal_checkpoints

ROOT = Path(__file__).resolve().parent.parent


def web_processes(monkeypatch: pytest.MonkeyPatch, **env: str) -> int:
    for name in ("DATABASE_URL", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]


def test_the_procfile_serves_through_gunicorn_conf() -> None:
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    assert "--config gunicorn.conf.py" in web and "--workers" not in web


def test_sqlite_gets_one_web_process_because_it_has_one_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert web_processes(monkeypatch) == 1
    assert web_processes(monkeypatch, DATABASE_URL="sqlite:////var/lib/line/line.db") == 1


@pytest.mark.parametrize("url", ["postgresql://line@db/line", "postgres://line@db/line", "postgresql+psycopg://db/line"])
def test_postgresql_gets_two_web_processes(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    assert web_processes(monkeypatch, DATABASE_URL=url) == 2


def test_web_concurrency_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert web_processes(monkeypatch, DATABASE_URL="postgresql://db/line", WEB_CONCURRENCY="4") == 4
    assert web_processes(monkeypatch, WEB_CONCURRENCY="3") == 3


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    """post_worker_init freezes the garbage collector's view of this process; give it back."""
    yield
    gc.unfreeze()


def _post_worker_init(app: Flask) -> None:
    """What gunicorn does once a web process has loaded the app."""
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_worker_init"](SimpleNamespace(wsgi=app))


def test_a_web_process_keeps_what_it_loaded_out_of_full_garbage_collections() -> None:
    gc.unfreeze()
    _post_worker_init(Flask("any app served with these settings"))
    assert gc.get_freeze_count() > 0


def test_a_web_process_on_an_sqlite_file_checkpoints_in_a_thread_of_its_own(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    (tmp_path / "line.db").touch()  # `flask upgrade-db` made it before any web process starts
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'line.db'}")
    _post_worker_init(app)
    checkpoints = wal_checkpoints(app)
    try:
        assert checkpoints.running
    finally:
        checkpoints.stop()
    assert not checkpoints.running


def test_no_checkpoint_thread_makes_an_sqlite_file_that_is_not_there(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'not-made-yet.db'}")
    _post_worker_init(app)
    assert wal_checkpoints(app) is None
    assert not (tmp_path / "not-made-yet.db").exists()


def test_failing_checkpoints_are_logged_when_they_start_and_stop_not_every_pass(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'gone' / 'line.db'}")  # its folder is not there
    checkpoints = WalCheckpoints(engine)
    with caplog.at_level(logging.INFO, logger="supportline"):
        for _ in range(3):
            checkpoints.run_once()
        (tmp_path / "gone").mkdir()
        checkpoints.run_once()
    engine.dispose()
    assert [record.getMessage() for record in caplog.records] == [
        "background WAL checkpoints are failing", "background WAL checkpoints work again"]


def test_a_web_process_on_postgresql_runs_no_checkpoint_thread(make_app: Callable[..., Flask]) -> None:
    app = make_app(DATABASE_URL="postgresql://line@db.invalid/line")  # never connected to
    _post_worker_init(app)
    assert wal_checkpoints(app) is None


def test_another_app_served_with_these_settings_is_left_alone() -> None:
    app = Flask("floor")
    _post_worker_init(app)
    assert app.extensions == {}


def test_a_checkpoint_pass_copies_the_log_back_while_a_request_holds_the_write_lock(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'line.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE steps (id INTEGER PRIMARY KEY, what TEXT)"))
        for n in range(20):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO steps (what) VALUES (:what)"), {"what": f"step {n}"})
        with engine.connect() as request:  # a request holding the write lock (BEGIN IMMEDIATE) meanwhile
            request.execute(text("SELECT COUNT(*) FROM steps"))
            busy, pages, copied = WalCheckpoints(engine).checkpoint()
        assert (busy, copied) == (0, pages) and pages > 0
    finally:
        engine.dispose()


def test_gunicorns_control_socket_is_the_lines_own() -> None:
    socket = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["control_socket"]
    assert Path(socket).parent == ROOT / "instance", "not $HOME/.gunicorn, which every gunicorn app on the host shares"


def test_gunicorn_lets_long_request_lines_through_for_the_api_to_answer_in_json() -> None:
    from web.api import MAX_URL_LENGTH

    limit = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["limit_request_line"]
    assert limit > MAX_URL_LENGTH + len("GET  HTTP/1.1"), "gunicorn would answer 414 itself, in plain text"


@pytest.fixture
def served_line(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The line served by the Procfile's `web:` command (real gunicorn) on a free loopback port."""
    from bench.servers import Server, procfile_web_command, with_app

    instance = tmp_path / "instance"
    command = with_app(procfile_web_command(), f"app:create_app({{'INSTANCE_PATH': {str(instance)!r}}})")
    settings = {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'line.db'}", "PATH": os.environ["PATH"]}
    with Server("line", command, settings, tmp_path / "gunicorn.log") as line:
        line.start("/api/openapi.json")
        yield line.base_url


def test_gunicorn_refuses_a_request_line_too_long_for_it_in_the_apis_json(served_line: str) -> None:
    response = requests.get(f"{served_line}/api/tickets?status=" + "x" * 9000, timeout=10)
    assert response.status_code == 414
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"].startswith("the request line is too long")


def test_gunicorn_refuses_an_oversized_header_in_the_apis_json(served_line: str) -> None:
    response = requests.get(f"{served_line}/api/tickets", headers={"X-Padding": "x" * 9000}, timeout=10)
    assert response.status_code == 431
    assert response.json()["error"].startswith("the request headers are too large")


def test_up_to_gunicorns_limit_the_line_itself_answers_a_long_url(served_line: str) -> None:
    response = requests.get(f"{served_line}/api/tickets?status=" + "x" * 8100, timeout=10)
    assert response.status_code == 414 and "at most 8000" in response.json()["error"]


def test_other_malformed_requests_are_still_gunicorns_to_answer(served_line: str) -> None:
    host, port = served_line.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"GET /api/tickets HTTP/9.9\r\nHost: x\r\n\r\n")
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400")


def test_every_web_process_counts_into_one_metrics_page(env: dict[str, str], tmp_path: Path) -> None:
    """prometheus_client's multiprocess mode: the web processes and the worker write to one directory, and
    one /metrics adds them up."""
    from prometheus_client.parser import text_string_to_metric_families

    from bench.servers import Server, procfile_web_command, with_app

    from core.db import upgrade_schema

    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    upgrade_schema(f"sqlite:///{tmp_path / 'line.db'}")
    instance = tmp_path / "instance"
    command = with_app(procfile_web_command(), f"app:create_app({{'INSTANCE_PATH': {str(instance)!r}}})")
    settings = {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'line.db'}", "PATH": os.environ["PATH"],
                "WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with Server("line", command, settings, tmp_path / "gunicorn.log") as line:
        line.start("/api/openapi.json")
        with requests.Session() as client:
            # Unsigned: refused with 403, and timed like every webhook.
            answers = [requests.post(f"{line.base_url}/ivr/voice", data={"CallSid": "CA1"}, timeout=10).status_code
                       for _ in range(20)]
            # The worker is another process on the host: what it counts shows on the same page.
            subprocess.run([sys.executable, "-c", "from core.metrics import MESSAGES_HANDLED; "
                            "MESSAGES_HANDLED.labels('sms', 'sent').inc(3)"], cwd=ROOT, check=True,
                           env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
            scraped = client.get(f"{line.base_url}/metrics", timeout=10)
    assert set(answers) == {403}
    samples = [(s.name, s.labels, s.value) for family in text_string_to_metric_families(scraped.text)
               for s in family.samples]
    assert [v for name, labels, v in samples
            if name == "supportline_webhook_seconds_count" and labels.get("route") == "/ivr/voice"] == [20]
    assert [v for name, labels, v in samples
            if name == "supportline_messages_total" and labels == {"channel": "sms", "result": "sent"}] == [3]
