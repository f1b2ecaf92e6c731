"""`make bench` (`.venv/bin/python -m bench`): the support line under load and at scale.

For SQLite (always) and PostgreSQL (when TEST_DATABASE_URL is set; that database is emptied,
as the tests empty it):

1. load: the line served by the Procfile's `web:` command on a free loopback port, K
   concurrent complete calls (`phonesim.place_call` over HTTP, signed, following the TwiML)
   back to back and then paced; then a floor — a minimal Flask app answering the same fixed
   TwiML, served by the same command — and a bound — the least the contract asks of each
   webhook, on the database driver (`bench/bound.py`) — under the same calls. p50/p99/max per
   webhook, complete calls per second, each as a ratio to the floor; CPU and peak memory of
   the gunicorn processes (from /proc); whether every ticket was committed.
2. login flood: signed `/ivr/voice` webhooks timed on a quiet line and while 8 clients guess
   admin logins (`bench/logins.py`); the ratio of the two.
3. mail: messages a second through the line's SMTP listener (keep, file, then 250) with 10
   senders, as a ratio to aiosmtpd's own server keeping nothing (`bench/mail.py`); whether every
   message was kept once.
4. scale: who is on duty (and the calendar feed) with ten years of history and 10,000
   overrides; ticket list and lookup with 1,000,000 tickets; the call log (API and admin
   page) with 1,000,000 calls; a whole call on that database — each as a ratio to a small one.

Everything runs in a temporary directory, on 127.0.0.1 only, and stops by itself. `--quick`
is a smoke run with small numbers (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench import report
from bench.load import percentile
from bench.logins import login_flood_run, print_login_flood
from bench.loadrun import Mode, load_run
from bench.mail import mail_run, print_mail_run, recognition_statements
from bench.scale import FULL, QUICK, scale_run


def _parse_think(value: str) -> tuple[float, float]:
    low, _, high = value.partition(",")
    return float(low), float(high or low)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: short loads, 20,000 rows")
    parser.add_argument("--concurrency", "-k", type=int, default=20, help="concurrent calls (default 20)")
    parser.add_argument("--duration", "-t", type=float, default=None,
                        help="seconds of back-to-back calls (default 30; 5 with --quick)")
    parser.add_argument("--paced-duration", type=float, default=None,
                        help="seconds of paced calls (default 30; 5 with --quick; 0 skips them)")
    parser.add_argument("--think", type=_parse_think, default=(0.5, 1.5), metavar="LOW,HIGH",
                        help="seconds a paced caller takes at each menu (default 0.5,1.5)")
    parser.add_argument("--processes", type=int, default=2, help="client processes sharing the callers (default 2)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="turns the line and the floor take in each mode (default 3)")
    parser.add_argument("--repeats", type=int, default=None, help="runs of each scale operation (default 20; 5 quick)")
    parser.add_argument("--skip-load", action="store_true", help="only the scale checks")
    parser.add_argument("--skip-scale", action="store_true", help="only the load")
    parser.add_argument("--skip-logins", action="store_true", help="no login flood")
    parser.add_argument("--skip-mail", action="store_true", help="no mail filing run")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (databases, server logs)")
    args = parser.parse_args(argv)
    args.duration = args.duration if args.duration is not None else (5 if args.quick else 30)
    args.paced_duration = args.paced_duration if args.paced_duration is not None else (5 if args.quick else 30)
    args.repeats = args.repeats or (5 if args.quick else 20)
    return args


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB, "
            f"Python {platform.python_version()}")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    started = time.time()
    workdir = Path(tempfile.mkdtemp(prefix="supportline-bench-"))
    databases = [("SQLite", f"sqlite:///{workdir / 'bench.sqlite3'}")]
    if os.environ.get("TEST_DATABASE_URL"):
        databases.append(("PostgreSQL", os.environ["TEST_DATABASE_URL"]))
    if args.only:
        databases = [(name, url) for name, url in databases if name.lower() == args.only]
        if not databases:
            print("--only postgresql needs TEST_DATABASE_URL", file=sys.stderr)
            return 2
    modes = [Mode("back to back", args.duration)]
    if args.paced_duration > 0:
        modes.append(Mode("paced", args.paced_duration, args.think))
    print(f"supportline bench{' --quick' if args.quick else ''}: {machine()}")
    print(f"load average at start: {load_average()} (other work on this machine skews the figures)")
    if not os.environ.get("TEST_DATABASE_URL"):
        print("PostgreSQL: skipped (set TEST_DATABASE_URL to include it; that database is emptied)")
    results: dict = {"machine": machine(), "quick": args.quick, "concurrency": args.concurrency, "databases": {}}
    goals = []
    loads: dict[str, tuple] = {}
    lost_mail: list[str] = []
    scales: dict[str, object] = {}
    try:
        # Every load run comes before any scale database is built: writing a gigabyte leaves the
        # disk flushing for a while, and a load run timed meanwhile waits on its fsyncs.
        for name, url in databases if not args.skip_load else ():
            shown = url if name == "SQLite" else url.rsplit("@", 1)[-1]
            entry = results["databases"].setdefault(name, {})
            print(f"\n== {name} ({shown}): the line against the floor and the bound")
            os.sync()
            run = load_run(name.lower(), url, workdir, modes, concurrency=args.concurrency,
                           processes=args.processes, warmup_calls=args.concurrency, rounds=max(1, args.rounds),
                           log=print)
            ratios = report.print_load(run, modes, args.concurrency)
            # An error on any of the three servers counts: a floor or bound that failed makes every ratio moot.
            errors = sum(len(r.load.errors) for served in (run.line, run.floor, run.bound) for r in served.runs.values())
            loads[name] = (ratios, errors, run.integrity)
            entry["load"] = _load_json(run)
        for name, url in databases if not args.skip_logins else ():
            entry = results["databases"].setdefault(name, {})
            print(f"\n== {name}: the phone line during a login flood")
            flood = login_flood_run(name.lower(), url, workdir, seconds=3 if args.quick else 10)
            print_login_flood(flood)
            entry["login_flood"] = {"quiet_p50_ms": 1000 * percentile(flood.quiet, 0.5),
                                    "flooded_p50_ms": 1000 * percentile(flood.flooded, 0.5),
                                    "ratio_p50": flood.ratio(0.5), "ratio_p99": flood.ratio(0.99),
                                    "logins": flood.logins, "errors": flood.errors}
        for name, url in databases if not args.skip_mail else ():
            entry = results["databases"].setdefault(name, {})
            print(f"\n== {name}: mail filing through the SMTP listener")
            mailed = mail_run(name.lower(), url, workdir, per_sender=10 if args.quick else 50)
            print_mail_run(mailed)
            recognised = recognition_statements(url, workdir)
            print(f"the first webhook of a call: {recognised.stranger} statements for an unknown caller ID, "
                  f"{recognised.known} for a known person's (recognising them is the one lookup both run)")
            entry["mail"] = {"line_per_second": mailed.line.per_second, "floor_per_second": mailed.floor.per_second,
                             "ratio": mailed.ratio, "sent": mailed.line.sent, "kept": mailed.kept,
                             "tickets": mailed.tickets, "errors": mailed.line.errors + mailed.floor.errors,
                             "first_webhook_statements": asdict(recognised)}
            if mailed.kept != mailed.line.sent or mailed.line.errors:
                lost_mail.append(name)
        for name, url in databases if not args.skip_scale else ():
            entry = results["databases"].setdefault(name, {})
            print(f"\n== {name}: scale (load average {load_average()})")
            result = scale_run(name.lower(), url, workdir, QUICK if args.quick else FULL, repeats=args.repeats)
            scales[name] = report.print_scale(result)
            entry["scale"] = {size: {op: asdict(t) for op, t in timings.items()}
                              for size, timings in result.timings.items()}
        for name, _ in databases:
            ratios, errors, integrity = loads.get(name, (None, 0, None))
            goals.append((name, ratios, scales.get(name), errors, integrity))
    finally:
        if args.keep:
            print(f"\nkept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\n== against the goals (p50 ≤ 1.5× and p99 ≤ 3× the floor, no errors, every ticket committed; "
          "large/small ≤ 2×)")
    for name, ratios, scale, errors, integrity in goals:
        report.print_goals(name, ratios, scale, errors, integrity)
    print(f"\ndone in {time.time() - started:.0f} s; load average at the end: {load_average()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    # Timings are reported, never enforced; a call that failed or a ticket that was lost is a failure.
    broken = [name for name, _, _, errors, integrity in goals
              if errors or (integrity and integrity["tickets_committed"] != integrity["calls_completed"])]
    broken += [f"{name} (mail not kept)" for name in lost_mail]
    if broken:
        print(f"FAILED: calls failed or tickets were not committed on {', '.join(broken)}")
    return 1 if broken else 0


def _load_json(run) -> dict:
    from bench.load import percentile

    out = {"line_command": run.line_command, "floor_command": run.floor_command, "bound_command": run.bound_command,
           "integrity": run.integrity}
    for side, served in (("line", run.line), ("floor", run.floor), ("bound", run.bound)):
        out[side] = {"peak_rss_kb": served.peak_rss_kb, "total_hwm_kb": served.total_hwm_kb,
                     "worker_hwm_kb": served.worker_hwm_kb, "modes": {}}
        for mode, r in served.runs.items():
            out[side]["modes"][mode] = {
                "calls": len(r.load.completed), "errors": r.load.errors[:20], "webhooks": r.load.requests,
                "elapsed": r.load.elapsed, "calls_per_second": r.load.calls_per_second,
                "cpu_ms_per_webhook": r.cpu_ms_per_webhook, "client_cpu_ms_per_webhook": r.client_cpu_ms_per_webhook,
                "latency_ms": {name: {"p50": 1000 * percentile(v, 0.5), "p99": 1000 * percentile(v, 0.99),
                                      "max": 1000 * max(v)} for name, v in r.load.samples.items()},
            }
    return out


if __name__ == "__main__":
    sys.exit(main())
