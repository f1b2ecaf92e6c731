"""The printed report: per database, the webhook latencies of the line beside the floor's and the
bound's, and the scale checks as ratios; then how the figures stand against the issue's goals."""

from __future__ import annotations

import math

from bench.load import EXPECTED, percentile
from bench.loadrun import LoadRun, Mode, ServedRun
from bench.scale import ScaleResult

P50_GOAL = 1.5
P99_GOAL = 3.0
SCALE_GOAL = 2.0


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def _within(ratio: float, goal: float) -> bool:
    """A ratio that could not be measured (no samples on a side: NaN) is not within any goal."""
    return not math.isnan(ratio) and ratio <= goal


def _ms(values: list[float], q: float) -> float:
    """The q-quantile in ms; NaN when a server answered no such webhook."""
    return 1000 * percentile(values, q) if values else math.nan


def _mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


def _samples(run: ServedRun, name: str) -> list[float]:
    if name == "all webhooks":
        return [v for values in run.load.samples.values() for v in values]
    return run.load.samples.get(name, [])


def webhook_table(line: ServedRun, floor: ServedRun,
                  bound: ServedRun) -> tuple[list[str], list[tuple[str, float, float, float]]]:
    """Lines of the table, and (webhook, p50 ratio, p99 ratio, the bound's p50 ratio) for the goals."""
    rows = [f"  {'webhook':<24}{'line p50':>9}{'p99':>8}{'max':>8}  {'floor p50':>9}{'p99':>7}{'max':>7}"
            f"  {'ratio p50':>9}{'p99':>6}  {'bound p50':>9}{'ratio':>7}"]
    ratios = []
    names = [n for n in EXPECTED if n in line.load.samples] + ["all webhooks"]
    for name in names:
        lp50, lp99, lmax = (_ms(_samples(line, name), q) for q in (0.5, 0.99, 1.0))
        fp50, fp99, fmax = (_ms(_samples(floor, name), q) for q in (0.5, 0.99, 1.0))
        bp50 = _ms(_samples(bound, name), 0.5)
        r50, r99, b50 = _ratio(lp50, fp50), _ratio(lp99, fp99), _ratio(bp50, fp50)
        if name != "all webhooks":
            ratios.append((name, r50, r99, b50))
        rows.append(f"  {name:<24}{lp50:>9.1f}{lp99:>8.1f}{lmax:>8.1f}  {fp50:>9.1f}{fp99:>7.1f}{fmax:>7.1f}"
                    f"  {r50:>8.2f}×{r99:>5.1f}×  {bp50:>9.1f}{b50:>6.2f}×")
    return rows, ratios


def print_load(run: LoadRun, modes: list[Mode], concurrency: int,
               out=print) -> dict[str, list[tuple[str, float, float, float]]]:
    """Print one database's load section; returns the per-webhook ratios per mode."""
    out(f"  line:  {run.line_command}")
    out(f"  floor: {run.floor_command}")
    out(f"  bound: {run.bound_command}")
    found: dict[str, list[tuple[str, float, float, float]]] = {}
    for mode in modes:
        line, floor, bound = run.line.runs[mode.name], run.floor.runs[mode.name], run.bound.runs[mode.name]
        how = ("each caller answers at once and rings again as soon as a call ends" if mode.think is None else
               f"callers and engineers take {mode.think[0]:g}–{mode.think[1]:g} s at each menu, phones ring as long")
        out("")
        out(f"  {mode.name}: {concurrency} concurrent calls for {mode.duration:g} s ({how})")
        rows, ratios = webhook_table(line, floor, bound)
        found[mode.name] = ratios
        for row in rows:
            out(row)
        out(f"  complete calls/s: line {line.load.calls_per_second:.1f}, floor {floor.load.calls_per_second:.1f} "
            f"(line/floor {_ratio(line.load.calls_per_second, floor.load.calls_per_second):.2f}); "
            f"webhooks: line {line.load.requests}, floor {floor.load.requests}")
        out(f"  errors: line {len(line.load.errors)}, floor {len(floor.load.errors)}, bound {len(bound.load.errors)}; "
            f"server CPU per webhook: line {line.cpu_ms_per_webhook:.2f} ms, floor {floor.cpu_ms_per_webhook:.2f} ms "
            f"({_ratio(line.cpu_ms_per_webhook, floor.cpu_ms_per_webhook):.1f}×), bound {bound.cpu_ms_per_webhook:.2f} ms; "
            f"client CPU per webhook {line.client_cpu_ms_per_webhook:.2f} ms")
        for error in (line.load.errors + floor.load.errors + bound.load.errors)[:5]:
            out(f"    ! {error[:300]}")
    integrity = run.integrity
    out("")
    out(f"  tickets: {integrity['tickets_committed']}/{integrity['calls_completed']} completed calls have their ticket "
        f"committed and answered ({integrity['calls_attempted']} calls placed, {integrity['tickets_total']} tickets, "
        f"{integrity['call_rows']} call-log rows, numbers {'gapless' if integrity['numbers_gapless'] else 'WITH GAPS'}, "
        f"{integrity['new_ticket_texts']} new-ticket texts queued)")
    workers = "master + workers"
    out(f"  memory ({workers}): line peak RSS {_mb(run.line.peak_rss_kb)} (sum of VmHWM {_mb(run.line.total_hwm_kb)}, "
        f"largest worker VmHWM {_mb(run.line.worker_hwm_kb)}); floor peak RSS {_mb(run.floor.peak_rss_kb)} "
        f"(sum of VmHWM {_mb(run.floor.total_hwm_kb)}, largest worker {_mb(run.floor.worker_hwm_kb)})")
    for who, served in (("line", run.line), ("bound", run.bound)):
        for problem in served.problems[:5]:
            out(f"    ! {who} log: {problem[:200]}")
    return found


def print_scale(result: ScaleResult, out=print) -> list[tuple[str, float]]:
    """Print one database's scale checks; returns (operation, ratio of medians)."""
    small, large = result.sizes["small"], result.sizes["large"]
    out(f"  small: {small.tickets:,} tickets and calls, {small.history.overrides:,} overrides over "
        f"{small.history.years:g} years ({result.database_bytes['small'] / 2**20:.0f} MiB); "
        f"large: {large.tickets:,} tickets and calls, {large.history.overrides:,} overrides over {large.history.years:g} "
        f"years ({result.database_bytes['large'] / 2**20:.0f} MiB, loaded in {result.load_seconds['large']:.0f} s)")
    out(f"  {'operation (in-process, one at a time)':<52}{'small ms':>9}{'large ms':>10}{'ratio':>8}{'best':>7}"
        f"{'SQL small/large':>17}")
    ratios = []
    for name, timing in result.timings["small"].items():
        big = result.timings["large"][name]
        ratio = _ratio(big.median_ms, timing.median_ms)
        ratios.append((name, ratio))
        flag = "" if ratio <= SCALE_GOAL else "  <-"
        out(f"  {name:<52}{timing.median_ms:>9.2f}{big.median_ms:>10.2f}{ratio:>7.2f}×"
            f"{_ratio(big.best_ms, timing.best_ms):>6.2f}×{timing.statements:>9}/{big.statements:<7}{flag}")
    if result.report_refresh:
        small_refresh, large_refresh = result.report_refresh["small"], result.report_refresh["large"]
        out(f"  the worker, not a page: SLA report cells built from nothing in "
            f"{result.report_build_seconds['small']:.2f} s (small) / {result.report_build_seconds['large']:.1f} s "
            f"(large); one new ticket and the refresh of its week and month {small_refresh.median_ms:.1f} ms / "
            f"{large_refresh.median_ms:.1f} ms ({_ratio(large_refresh.median_ms, small_refresh.median_ms):.1f}×: "
            f"it reads this month's tickets)")
    for note in result.skipped:
        out(f"  (skipped {note})")
    return ratios


def print_goals(database: str, load: dict[str, list[tuple[str, float, float, float]]] | None,
                scale: list[tuple[str, float]] | None, errors: int, integrity: dict | None, out=print) -> None:
    if load:
        for mode, ratios in load.items():
            p50_bad = [n for n, r, _, _ in ratios if not _within(r, P50_GOAL)]
            p99_bad = [n for n, _, r, _ in ratios if not _within(r, P99_GOAL)]
            bound_bad = [n for n, _, _, r in ratios if not _within(r, P50_GOAL)]
            # Unmeasured (NaN) ratios rank worst.
            worst50, worst99, worst_bound = (max(ratios, key=lambda x, i=i: math.inf if math.isnan(x[i]) else x[i])
                                             for i in (1, 2, 3))
            out(f"  {database}, {mode}: p50 within {P50_GOAL}× the floor for {len(ratios) - len(p50_bad)}/{len(ratios)} "
                f"webhooks (worst {worst50[0]} {worst50[1]:.1f}×); p99 within {P99_GOAL:g}× for "
                f"{len(ratios) - len(p99_bad)}/{len(ratios)} (worst {worst99[0]} {worst99[2]:.1f}×); "
                f"the bound's p50 within {P50_GOAL}× for {len(ratios) - len(bound_bad)}/{len(ratios)} "
                f"(worst {worst_bound[0]} {worst_bound[3]:.2f}×)")
        ok = integrity and integrity["tickets_committed"] == integrity["calls_completed"]
        out(f"  {database}: errors (line, floor and bound) {errors}; every ticket committed: {'yes' if ok else 'NO'}")
    if scale:
        bad = [(n, r) for n, r in scale if r > SCALE_GOAL]
        out(f"  {database}, scale: {len(scale) - len(bad)}/{len(scale)} operations within {SCALE_GOAL:g}× of the small "
            f"database" + (": over it: " + ", ".join(f"{n} {r:.1f}×" for n, r in bad) if bad else ""))
