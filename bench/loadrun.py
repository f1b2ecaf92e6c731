"""One database's load run: the line under K concurrent calls, then the bound and the floor under
the same requests.

Each server is started once (the Procfile's `web:` command) and warmed up; then each mode
(back to back, paced) runs against it while its processes are watched. The bound
(`bench/bound.py`) and the floor get, per mode, exactly as many calls as the line was given, so
all three answer the same requests.
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

from core.db import engine_for
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
    bound: Served
    line_command: str
    floor_command: str
    bound_command: str
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


def _warm_up(server: Server, auth_token: str, *, concurrency: int, processes: int, calls: int) -> LoadResult:
    server.start("/healthz")
    return run_load(server.base_url, auth_token, concurrency=concurrency, calls=calls, processes=processes,
                    keep_records=True)


def _measured(server: Server, runs: dict[str, ServedRun], mode: Mode, load_once) -> LoadResult:
    """Run `load_once()` against `server`, adding its figures to `runs[mode.name]`."""
    tree = ProcessTree(server.process.pid)
    with Sampler(tree):
        load = load_once()
    run = runs.get(mode.name)
    if run is None:
        runs[mode.name] = ServedRun(load, tree.peak_rss_kb, tree.cpu_seconds)
    else:
        run.load.add(load)
        run.peak_rss_kb = max(run.peak_rss_kb, tree.peak_rss_kb)
        run.cpu_seconds += tree.cpu_seconds
    return load


def _finish(server: Server, served: Served) -> None:
    tree = ProcessTree(server.process.pid)
    tree.sample()
    served.worker_hwm_kb = tree.worker_hwm_kb
    served.total_hwm_kb = tree.total_hwm_kb
    served.peak_rss_kb = max(run.peak_rss_kb for run in served.runs.values())


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
             processes: int, warmup_calls: int, rounds: int = 3, log=print) -> LoadRun:
    """The line on `database_url`, the bound and the floor under each mode's load, taking turns.

    The servers run side by side, idle but for the one being measured. Each mode is cut into
    `rounds` slices: the line runs for a slice of the mode's duration, then the bound and the
    floor each get as many calls as the line was given. On a shared machine the load from other
    work drifts over a minute; taking turns puts that drift on every side of each ratio.
    """
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
    floor_command = with_app(web, "bench.floor:create_app()")
    floor = Server(f"floor ({database})", floor_command, {}, workdir / f"floor-{database}.log", port=free_port())
    bound_command = with_app(web, "bench.bound:create_app()")
    bound = Server(f"bound ({database})", bound_command, {}, workdir / f"bound-{database}.log", port=free_port())
    # The bound's tables: beside the line's on PostgreSQL (emptied with them), a file of their own on SQLite.
    bound_database = f"sqlite:///{workdir / f'bound-{database}.sqlite3'}" if database_url.startswith("sqlite") \
        else database_url
    servers = {"line": line, "bound": bound, "floor": floor}  # the order they take turns in
    served = {who: Served() for who in servers}
    load = {"concurrency": concurrency, "processes": processes}
    with line, floor, bound:
        warm = _warm_up(line, auth_token, calls=warmup_calls, **load)
        for server, extra in ((floor, {}), (bound, {"BENCH_BOUND_DATABASE": bound_database,
                                                    "TWILIO_AUTH_TOKEN": auth_token})):
            table_path = workdir / f"{server.name.split()[0]}-{database}.json"
            table_path.write_text(json.dumps(floor_table(warm.records, line.base_url, server.base_url), indent=1))
            # gunicorn.conf.py sizes every server by DATABASE_URL, which only the line opens.
            server.env = {**os.environ, "DATABASE_URL": database_url, "BENCH_FLOOR_TWIML": str(table_path), **extra}
            _warm_up(server, auth_token, calls=warmup_calls, **load)
        log(f"  {concurrency} concurrent calls per mode, line, bound and floor taking turns in {rounds} rounds "
            f"({warmup_calls} warm-up calls each first)")
        for mode in modes:
            for _ in range(rounds):
                slice_ = _measured(line, served["line"].runs, mode, lambda: run_load(
                    line.base_url, auth_token, duration=mode.duration / rounds, think=mode.think, **load))
                for who in ("bound", "floor"):
                    server = servers[who]
                    _measured(server, served[who].runs, mode, lambda: run_load(
                        server.base_url, auth_token, calls=slice_.attempted, think=mode.think, **load))
            for who, one in served.items():
                run = one.runs[mode.name].load
                log(f"    {mode.name}, {who}: {len(run.completed)} calls, {run.requests} webhooks, "
                    f"{len(run.errors)} errors in {run.elapsed:.1f} s")
        for who, server in servers.items():
            _finish(server, served[who])
    for who, server in servers.items():
        served[who].problems = _problems(server)
    line_runs = served["line"].runs.values()
    completed = warm.completed + [sid for run in line_runs for sid in run.load.completed]
    integrity = check_integrity(database_url, completed)
    integrity["calls_attempted"] = warm.attempted + sum(run.load.attempted for run in line_runs)
    return LoadRun(database, served["line"], served["floor"], served["bound"], line_command, floor_command,
                   bound_command, integrity)
