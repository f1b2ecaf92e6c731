"""One database's load run: the line under K concurrent calls, then the floor under the same requests.

Each server is started once (the Procfile's `web:` command) and warmed up; then each mode
(back to back, paced) runs against it while its processes are watched. The floor gets, per
mode, exactly as many calls as the line was given, so both answer the same requests.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import text

from app import engine_for
from bench.data import fresh_database, seed_team
from bench.floor import table_key
from bench.load import EXPECTED, LoadResult, run_load
from bench.servers import ProcessTree, Sampler, Server, free_port, procfile_web_command, with_app


@dataclass(frozen=True)
class Mode:
    """How callers behave in one measured run."""

    name: str
    duration: float
    think: tuple[float, float] | None = None


@dataclass
class ServedRun:
    """One mode's load against one server, with what the server's processes used meanwhile."""

    load: LoadResult
    peak_rss_kb: int
    cpu_seconds: float

    @property
    def cpu_ms_per_webhook(self) -> float:
        return 1000 * self.cpu_seconds / self.load.requests if self.load.requests else 0.0

    @property
    def client_cpu_ms_per_webhook(self) -> float:
        return 1000 * self.load.client_cpu / self.load.requests if self.load.requests else 0.0


@dataclass
class Served:
    """A server's runs, one per mode, and its memory over all of them."""

    runs: dict[str, ServedRun] = field(default_factory=dict)
    worker_hwm_kb: int = 0
    total_hwm_kb: int = 0
    peak_rss_kb: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class LoadRun:
    database: str
    line: Served
    floor: Served
    line_command: str
    floor_command: str
    integrity: dict[str, object]


def line_env(database_url: str, auth_token: str) -> dict[str, str]:
    """The process environment of the served line: the machine's, with the line's settings set here."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"FALLBACK_NUMBER", "TRUSTED_PROXIES", "PUBLIC_URL", "SUPPORT_HOLIDAYS", "PHONE_REGION"}}
    env.update(
        DATABASE_URL=database_url,
        TWILIO_AUTH_TOKEN=auth_token,
        TWILIO_ACCOUNT_SID="AC" + "b" * 32,
        TWILIO_PHONE_NUMBER="+18005550199",
        SUPPORT_TIMEZONE="America/New_York",
        SUPPORT_HOLIDAYS="US",
        PHONE_REGION="US",
        SECRET_KEY=secrets.token_hex(16),
    )
    return env


PROBLEMS = ("WORKER TIMEOUT", "Traceback", "answering with the fallback", "database is locked", "[ERROR]")


def _problems(server: Server) -> list[str]:
    return [line for line in server.log_tail(1_000_000).splitlines() if any(k in line for k in PROBLEMS)][:20]


def serve_and_load(server: Server, auth_token: str, modes: list[Mode], *, concurrency: int, processes: int,
                   warmup_calls: int, calls: dict[str, int] | None = None, log=print) -> tuple[Served, LoadResult]:
    """Start `server`, warm it up, run each mode (for its duration, or `calls[mode]` calls), stop it."""
    served = Served()
    with server:
        server.start("/healthz")
        tree = ProcessTree(server.process.pid)
        warm = run_load(server.base_url, auth_token, concurrency=concurrency, calls=warmup_calls,
                        processes=processes, keep_records=True)
        for mode in modes:
            run_tree = ProcessTree(server.process.pid)
            with Sampler(run_tree):
                if calls is None:
                    load = run_load(server.base_url, auth_token, concurrency=concurrency, duration=mode.duration,
                                    processes=processes, think=mode.think)
                else:
                    load = run_load(server.base_url, auth_token, concurrency=concurrency, calls=calls[mode.name],
                                    processes=processes, think=mode.think)
            served.runs[mode.name] = ServedRun(load, run_tree.peak_rss_kb, run_tree.cpu_seconds)
            log(f"    {mode.name}: {len(load.completed)} calls, {load.requests} webhooks, "
                f"{len(load.errors)} errors in {load.elapsed:.1f} s")
        tree.sample()
        served.worker_hwm_kb = tree.worker_hwm_kb
        served.total_hwm_kb = tree.total_hwm_kb
        served.peak_rss_kb = max(run.peak_rss_kb for run in served.runs.values())
    served.problems = _problems(server)
    return served, warm


def floor_table(records, line_base: str, floor_base: str) -> dict[str, str]:
    """The floor's fixed answers: what the line answered at each step of a warm-up call."""
    for record in records:
        if len(record.requests) == len(EXPECTED):
            table = {}
            for exchange in record.requests:
                parts = urlsplit(exchange.url)
                table[table_key(parts.path, dict(parse_qsl(parts.query)))] = exchange.body.replace(line_base, floor_base)
            return table
    raise RuntimeError("no warm-up call went as scripted, so the floor has nothing to answer with")


def check_integrity(database_url: str, completed: list[str]) -> dict[str, object]:
    """Every completed call logged once, connected, with its ticket committed and answered."""
    engine = engine_for(database_url, write_lock_on_begin=False)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT c.call_sid, c.outcome, c.ended_at, t.number, t.first_response_at "
                "FROM call_log c LEFT JOIN tickets t ON t.id = c.ticket_id"
            )).all()
            count, low, high = connection.execute(text("SELECT COUNT(*), MIN(number), MAX(number) FROM tickets")).one()
            texts = connection.execute(text("SELECT COUNT(*) FROM notifications WHERE kind = 'new_ticket'")).scalar_one()
    finally:
        engine.dispose()
    by_sid = {row.call_sid: row for row in rows}
    good = [sid for sid in completed
            if sid in by_sid and by_sid[sid].outcome == "connected" and by_sid[sid].number is not None
            and by_sid[sid].first_response_at is not None and by_sid[sid].ended_at is not None]
    return {
        "calls_completed": len(completed),
        "tickets_committed": len(good),
        "tickets_total": count,
        "call_rows": len(rows),
        "numbers_gapless": bool(count == 0 or high - low + 1 == count),
        "new_ticket_texts": texts,
    }


def load_run(database: str, database_url: str, workdir: Path, modes: list[Mode], *, concurrency: int,
             processes: int, warmup_calls: int, log=print) -> LoadRun:
    """The line on `database_url` under each mode's load, then the floor under the same calls."""
    auth_token = secrets.token_hex(20)
    fresh_database(database_url)
    engine = engine_for(database_url)
    seed_team(engine, datetime.now(timezone.utc))
    engine.dispose()

    web = procfile_web_command()
    instance = workdir / f"instance-{database}"
    # The Procfile's factory, given a temporary instance folder (gunicorn passes literal arguments).
    line_command = with_app(web, f"app:create_app({{'INSTANCE_PATH': {str(instance)!r}}})")
    line = Server(f"line ({database})", line_command, line_env(database_url, auth_token),
                  workdir / f"line-{database}.log")
    log(f"  line: {concurrency} concurrent calls per mode ({warmup_calls} warm-up calls first)")
    line_served, warm = serve_and_load(line, auth_token, modes, concurrency=concurrency, processes=processes,
                                       warmup_calls=warmup_calls, log=log)
    completed = warm.completed + [sid for run in line_served.runs.values() for sid in run.load.completed]
    integrity = check_integrity(database_url, completed)
    integrity["calls_attempted"] = warm.attempted + sum(run.load.attempted for run in line_served.runs.values())

    floor_command = with_app(web, "bench.floor:create_app()")
    floor = Server(f"floor ({database})", floor_command, {}, workdir / f"floor-{database}.log", port=free_port())
    table_path = workdir / f"floor-{database}.json"
    table_path.write_text(json.dumps(floor_table(warm.records, line.base_url, floor.base_url), indent=1))
    # The floor never connects to the database, but gunicorn.conf.py sizes both servers by its URL.
    floor.env = {**os.environ, "DATABASE_URL": database_url, "BENCH_FLOOR_TWIML": str(table_path)}
    calls = {name: run.load.attempted for name, run in line_served.runs.items()}
    log(f"  floor: the same calls ({', '.join(f'{n} {c}' for n, c in calls.items())})")
    floor_served, _ = serve_and_load(floor, auth_token, modes, concurrency=concurrency, processes=processes,
                                     warmup_calls=warmup_calls, calls=calls, log=log)
    return LoadRun(database, line_served, floor_served, line_command, floor_command, integrity)
