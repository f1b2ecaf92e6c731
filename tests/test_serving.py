"""How the Procfile's `web:` command is served: gunicorn.conf.py sizes the web tier by its database."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

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
