"""K concurrent complete calls against a served line, as Twilio would place them.

Each call is `phonesim.place_call` over `HttpTransport`: signed webhooks, the returned TwiML
followed verb by verb. The script is the common one under an outage: new issue (1), critical
(1), call me back at this number (1) — which opens the ticket and texts the engineer — then
the line dials the engineer on duty, plays the whisper, the engineer accepts (1), the call
is bridged, the Dial's action reports the result and the status callback closes the call.
That is 8 webhooks a call.

K calls run at once, spread over a few client processes with threads in each, so that one
client's GIL does not become the bottleneck. Two ways to run them:

- back to back: each caller answers every menu at once and places the next call as soon as
  one ends, keeping the line as busy as K callers can make it (its capacity);
- paced (`think`): callers ring in over a few seconds rather than at one instant, then they
  and the engineers pause at each menu and the engineer's phone rings a while, as people do
  (compressed: real callers take longer), so the line is not saturated and a webhook's
  latency is its own cost plus what concurrency adds.

Only the HTTP round trip of each webhook is timed (signing and parsing TwiML happen outside
the timer).
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import threading
import time
import traceback
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import requests

from bench.data import caller_number
from phonesim import (
    Answer,
    CallRecord,
    Engineer,
    GatherPrompt,
    HttpTransport,
    PhoneError,
    Reply,
    ScriptedCaller,
    ScriptedEngineers,
    place_call,
)

KEYS = ("1", "1", "1")
ENGINEERS = ("accept",)
SUPPORT_NUMBER = "+18005550199"
# The webhooks of one scripted call, in order; a call that takes any other path is an error.
EXPECTED = (
    "voice",
    "gather main_menu",
    "gather severity",
    "gather callback_choice",
    "whisper",
    "whisper-answer",
    "dial-result",
    "status",
)
WEBHOOK_TIMEOUT = 15.0  # what Twilio waits before giving up on a webhook


def label(url: str) -> str:
    """The report's name for a webhook URL: its path, and the menu step for gathers."""
    parts = urlsplit(url)
    name = parts.path.removeprefix("/ivr/")
    if name == "gather":
        step = dict(parse_qsl(parts.query)).get("step", "?")
        return f"gather {step}"
    return name


class TimingTransport(HttpTransport):
    """HttpTransport that times each round trip into `samples` as (label, seconds)."""

    def __init__(self, session: requests.Session, samples: list[tuple[str, float]]) -> None:
        super().__init__(session, timeout=WEBHOOK_TIMEOUT)
        self.samples = samples

    def post(self, url: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        started = time.perf_counter()
        try:
            return super().post(url, params, headers)
        finally:
            self.samples.append((label(url), time.perf_counter() - started))


class _Pause:
    """Real seconds spent before an answer: a person listening to a prompt, a phone ringing."""

    def __init__(self, think: tuple[float, float] | None, rng: random.Random) -> None:
        self.think = think
        self.rng = rng

    def __call__(self) -> None:
        if self.think:
            time.sleep(self.rng.uniform(*self.think))


class PacedCaller(ScriptedCaller):
    """A scripted caller who takes `think` seconds (uniformly drawn) at each menu."""

    def __init__(self, answers, pause: _Pause) -> None:
        super().__init__(answers)
        self.pause = pause

    def answer_gather(self, prompt: GatherPrompt) -> Answer:
        self.pause()
        return super().answer_gather(prompt)


class PacedEngineers(ScriptedEngineers):
    """Scripted engineers whose phone rings a while, and who take a while at the whisper."""

    def __init__(self, behaviours, pause: _Pause) -> None:
        super().__init__(behaviours)
        self.pause = pause

    def ring(self, number: str, seconds: int = 30) -> Engineer | str:
        self.pause()
        picked = super().ring(number, seconds)
        if not isinstance(picked, str):
            original, pause = picked.answer_gather, self.pause

            def answer(prompt: GatherPrompt) -> Answer:
                pause()
                return original(prompt)

            picked.answer_gather = answer  # type: ignore[method-assign]
        return picked


def place_one(base_url: str, auth_token: str, session: requests.Session, samples: list[tuple[str, float]],
              index: int, think: tuple[float, float] | None = None) -> CallRecord:
    """One complete scripted call; raises PhoneError (or a requests error) if it went wrong.

    With `think`, the caller and the engineer take that many seconds at each menu, and the
    engineer's phone rings that long: 5 pauses a call.
    """
    pause = _Pause(think, random.Random(index))
    record = place_call(
        voice_url=f"{base_url}/ivr/voice",
        status_callback_url=f"{base_url}/ivr/status",
        auth_token=auth_token,
        transport=TimingTransport(session, samples),
        caller=PacedCaller(list(KEYS), pause),
        engineers=PacedEngineers(list(ENGINEERS), pause),
        from_number=caller_number(index),
        to_number=SUPPORT_NUMBER,
        call_sid="CA" + uuid.uuid4().hex,
    )
    path = tuple(label(r.url) for r in record.requests)
    if path != EXPECTED or not record.dials or not record.dials[0].bridged:
        raise PhoneError(f"unexpected call path {' → '.join(path)}; last TwiML {record.last_twiml[:300]!r}")
    return record


@dataclass
class LoadResult:
    """What one load run measured."""

    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    completed: list[str] = field(default_factory=list)  # CallSids of calls that went as scripted
    errors: list[str] = field(default_factory=list)
    attempted: int = 0
    elapsed: float = 0.0
    client_cpu: float = 0.0  # CPU seconds the client processes used (signing, HTTP, parsing TwiML)
    records: list[CallRecord] = field(default_factory=list)  # kept only when asked (warm-up)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.samples.values())

    @property
    def calls_per_second(self) -> float:
        return len(self.completed) / self.elapsed if self.elapsed else 0.0

    def add(self, other: LoadResult) -> None:
        """Count `other` in with this one: a later slice of the same mode, or one client process's share."""
        for name, values in other.samples.items():
            self.samples[name].extend(values)
        self.completed += other.completed
        self.errors += other.errors
        self.attempted += other.attempted
        self.elapsed += other.elapsed
        self.client_cpu += other.client_cpu

    def merge(self, other: dict) -> None:
        """Count in what one client process reported."""
        self.add(LoadResult(samples=defaultdict(list, other["samples"]), completed=other["completed"],
                            errors=other["errors"], attempted=other["attempted"], client_cpu=other.get("cpu", 0.0)))


def _client(base_url: str, auth_token: str, threads: int, deadline: float | None, quota, index_base: int,
            keep_records: bool, think: tuple[float, float] | None) -> dict:
    """Run `threads` callers in this process until `deadline` (wall clock) or until `quota` runs out."""
    lock = threading.Lock()
    out: dict = {"samples": defaultdict(list), "completed": [], "errors": [], "attempted": 0, "records": []}

    def take() -> int | None:
        if deadline is not None and time.time() >= deadline:
            return None
        if quota is not None:
            with quota.get_lock():
                if quota.value <= 0:
                    return None
                quota.value -= 1
        with lock:
            out["attempted"] += 1
            return index_base + out["attempted"]

    def caller(number: int) -> None:
        if think:
            # Paced callers ring in over a few seconds, as people do, not all in the same instant.
            time.sleep(random.Random(index_base + number).uniform(0, 2 * think[1]))
        with requests.Session() as session:
            while (index := take()) is not None:
                samples: list[tuple[str, float]] = []
                try:
                    record = place_one(base_url, auth_token, session, samples, index, think)
                except (PhoneError, requests.RequestException) as error:
                    with lock:
                        out["errors"].append(f"{type(error).__name__}: {str(error)[:300]}")
                except Exception:  # a bug in the bench itself: report it, keep the others going
                    with lock:
                        out["errors"].append(traceback.format_exc(limit=3))
                else:
                    with lock:
                        out["completed"].append(record.call_sid)
                        if keep_records:
                            out["records"].append(record)
                finally:
                    with lock:
                        for name, seconds in samples:
                            out["samples"][name].append(seconds)

    workers = [threading.Thread(target=caller, args=(number,), daemon=True) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out["samples"] = dict(out["samples"])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu"] = usage.ru_utime + usage.ru_stime
    return out


def _client_process(queue, *args) -> None:
    try:
        queue.put(_client(*args))
    except BaseException:
        queue.put({"samples": {}, "completed": [], "errors": [traceback.format_exc()], "attempted": 0, "records": []})


def run_load(base_url: str, auth_token: str, *, concurrency: int, duration: float | None = None,
             calls: int | None = None, processes: int = 2, keep_records: bool = False,
             think: tuple[float, float] | None = None) -> LoadResult:
    """`concurrency` callers for `duration` seconds, or until `calls` calls were placed.

    Without `think` each caller places its next call as soon as one ends and answers every
    menu at once; with it, callers and engineers pause that long (seconds, uniform) at each menu.
    """
    if (duration is None) == (calls is None):
        raise ValueError("give a duration or a number of calls")
    processes = max(1, min(processes, concurrency))
    context = multiprocessing.get_context("fork")
    quota = context.Value("l", calls) if calls is not None else None
    queue = context.Queue()
    shares = [concurrency // processes + (1 if i < concurrency % processes else 0) for i in range(processes)]
    result = LoadResult()
    started = time.time()
    deadline = started + duration if duration is not None else None
    children = [
        context.Process(target=_client_process,
                        args=(queue, base_url, auth_token, share, deadline, quota, i * 10_000_000, keep_records, think),
                        daemon=True)
        for i, share in enumerate(shares)
    ]
    for child in children:
        child.start()
    limit = (duration or 0) + 120 + (calls or 0) * 2.0
    for _ in children:
        try:
            out = queue.get(timeout=limit)
        except Exception:
            result.errors.append("a client process did not report back in time")
            break
        result.merge(out)
        result.records += out.get("records", [])
    result.elapsed = time.time() - started
    for child in children:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    return result


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 1))))
    return ordered[rank - 1]
