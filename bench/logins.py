"""The login flood: admin logins with made-up names must not slow the phone line.

The line is served by the Procfile's `web:` command. Signed `/ivr/voice` webhooks (each a new
call) are timed one after another, first on a quiet line, then while `clients` threads post
logins with made-up usernames and passwords as fast as the line answers them. The figure is
the ratio of the webhook's latency during the flood to its latency on the quiet line, measured
in the same run; how the logins were answered (401 wrong, 429 held back) is reported too.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from bench.data import fresh_database, seed_team
from bench.load import percentile
from bench.loadrun import line_env
from bench.servers import Server, procfile_web_command, with_app
from core.db import engine_for
from staff.admins import create_admin

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class LoginFlood:
    """Webhook latencies on a quiet line and during the flood, and how the logins were answered."""

    database: str
    clients: int
    quiet: list[float] = field(default_factory=list)
    flooded: list[float] = field(default_factory=list)
    logins: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def ratio(self, q: float) -> float:
        """The webhook's latency during the flood over its latency on the quiet line, at quantile `q`."""
        return percentile(self.flooded, q) / percentile(self.quiet, q) if self.quiet and self.flooded else 0.0


def _voice(session: requests.Session, base_url: str, auth_token: str) -> float:
    params = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": "AC" + "b" * 32, "From": "+12125550147",
              "To": "+18005550199", "CallStatus": "ringing", "Direction": "inbound"}
    url = f"{base_url}/ivr/voice"
    signature = RequestValidator(auth_token).compute_signature(url, params)
    started = time.perf_counter()
    response = session.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or "<Gather" not in response.text:
        raise RuntimeError(f"/ivr/voice answered {response.status_code}: {response.text[:200]}")
    return elapsed


def _timed_webhooks(base_url: str, auth_token: str, seconds: float) -> list[float]:
    with requests.Session() as session:
        deadline = time.monotonic() + seconds
        samples = []
        while time.monotonic() < deadline:
            samples.append(_voice(session, base_url, auth_token))
        return samples


def _guess(base_url: str, stop: threading.Event, answers: dict[int, int], errors: list[str], lock: threading.Lock) -> None:
    """One client guessing logins: a fresh made-up username and password every time."""
    with requests.Session() as session:
        try:
            token = CSRF_FIELD.search(session.get(f"{base_url}/admin/login", timeout=30).text).group(1)  # type: ignore[union-attr]
            while not stop.is_set():
                response = session.post(f"{base_url}/admin/login", timeout=30, allow_redirects=False, data={
                    "csrf_token": token, "username": "guess-" + secrets.token_hex(4),
                    "password": secrets.token_urlsafe(12), "next": ""})
                with lock:
                    answers[response.status_code] = answers.get(response.status_code, 0) + 1
        except (requests.RequestException, AttributeError) as error:
            errors.append(f"a guessing client failed: {error}")


def login_flood_run(database: str, database_url: str, workdir: Path, *, clients: int = 8, seconds: float = 5.0,
                    log=print) -> LoginFlood:
    """The line on `database_url`: signed webhooks timed quiet, then under `clients` guessing logins."""
    auth_token = secrets.token_hex(20)
    fresh_database(database_url)
    engine = engine_for(database_url)
    seed_team(engine, datetime.now(timezone.utc))
    engine.dispose()
    engine = engine_for(database_url)
    with Session(engine) as session:  # a real admin, with the line's own password hash
        create_admin(session, "maria", secrets.token_urlsafe(16), datetime.now(timezone.utc))
    engine.dispose()

    instance = workdir / f"instance-logins-{database}"
    command = with_app(procfile_web_command(), f"app:create_app({{'INSTANCE_PATH': {str(instance)!r}}})")
    result = LoginFlood(database, clients)
    with Server(f"line ({database}, logins)", command, line_env(database_url, auth_token),
                workdir / f"logins-{database}.log") as line:
        line.start("/healthz")
        _timed_webhooks(line.base_url, auth_token, 1.0)  # warm up
        result.quiet = _timed_webhooks(line.base_url, auth_token, seconds)
        stop, lock = threading.Event(), threading.Lock()
        guessers = [threading.Thread(target=_guess, args=(line.base_url, stop, result.logins, result.errors, lock))
                    for _ in range(clients)]
        for guesser in guessers:
            guesser.start()
        try:
            result.flooded = _timed_webhooks(line.base_url, auth_token, seconds)
        finally:
            stop.set()
            for guesser in guessers:
                guesser.join(timeout=60)
    log(f"  {len(result.quiet)} webhooks quiet, {len(result.flooded)} during {sum(result.logins.values())} "
        f"login attempts from {clients} clients")
    return result


def print_login_flood(result: LoginFlood) -> None:
    """The flood's figures: latencies quiet and flooded, their ratios, how the logins were answered."""
    def ms(values: list[float], q: float) -> str:
        return f"{1000 * percentile(values, q):.1f}" if values else "-"

    print(f"  /ivr/voice while {result.clients} clients guess admin logins:")
    print(f"    quiet    p50 {ms(result.quiet, 0.5)} ms, p99 {ms(result.quiet, 0.99)} ms, max "
          f"{1000 * max(result.quiet, default=0):.1f} ms ({len(result.quiet)} webhooks)")
    print(f"    flooded  p50 {ms(result.flooded, 0.5)} ms, p99 {ms(result.flooded, 0.99)} ms, max "
          f"{1000 * max(result.flooded, default=0):.1f} ms ({len(result.flooded)} webhooks)")
    print(f"    ratio    p50 {result.ratio(0.5):.2f}×, p99 {result.ratio(0.99):.2f}×")
    answered = ", ".join(f"{status}: {count}" for status, count in sorted(result.logins.items()))
    print(f"    logins answered {answered or 'none'}; errors {len(result.errors)}")
