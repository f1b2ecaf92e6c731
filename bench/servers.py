"""Start and stop the line (and the floor) exactly as production does: the Procfile's `web:` command.

The command is read from the Procfile and run through `sh -c` in the project folder, so its
`${BIND_ADDRESS:-0.0.0.0}` style defaults and `gunicorn.conf.py` (one process on SQLite, two on
PostgreSQL) apply as they do under honcho or Heroku. Only loopback is bound
(`BIND_ADDRESS=127.0.0.1`) on a port picked free here. The floor app is served by the same
command with only the WSGI app spec swapped.

`ProcessTree` reads /proc for the gunicorn master and its workers: peak memory (VmHWM, and
VmRSS sampled while the load runs) and CPU time (utime + stime), since psutil is not installed.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
APP_SPEC = re.compile(r"""(['"]?)[\w.]+:create_app\(\)\1""")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ServerError(RuntimeError):
    """A server did not start, or died."""


def procfile_web_command(procfile: Path = ROOT / "Procfile") -> str:
    """The `web:` command of the Procfile, as written."""
    for line in procfile.read_text().splitlines():
        if line.startswith("web:"):
            return line[len("web:") :].strip()
    raise ServerError(f"{procfile} has no web: line")


def with_app(command: str, app_spec: str) -> str:
    """`command` serving `app_spec` (e.g. 'bench.floor:create_app()') instead of the line."""
    swapped, count = APP_SPEC.subn(shlex.quote(app_spec), command)
    if count != 1:
        raise ServerError(f"cannot find the app spec (…:create_app()) in the web command {command!r}")
    return swapped


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running `web:` command; use as a context manager (stopped on exit, whatever happens)."""

    name: str
    command: str
    env: dict[str, str]
    log_path: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, health_path: str, timeout: float = 30.0) -> Server:
        self.port = self.port or free_port()
        env = {**self.env, "PORT": str(self.port), "BIND_ADDRESS": "127.0.0.1"}
        # The venv's gunicorn first, as `make run` does with honcho.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', os.defpath)}"
        self.log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            ["sh", "-c", f"exec {self.command}"],
            cwd=ROOT,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}:\n"
                                  + self.log_tail())
            try:
                # Serving: a 503 from /healthz says the line has no worker beside it, which the bench runs without.
                status = requests.get(self.base_url + health_path, timeout=2).status_code
                if status < 500 or status == 503:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise ServerError(f"{self.name} did not answer {health_path} within {timeout:.0f} s:\n" + self.log_tail())

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the gunicorn master (graceful), SIGKILL to its group if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log_file.close()
        self.process = None

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- /proc


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        # utime and stime are fields 14 and 15 of stat; after the ")" they are the 12th and 13th.
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


def children_of(pid: int) -> list[int]:
    """The direct children of `pid`, found by scanning /proc (no psutil here)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return found


@dataclass
class ProcessTree:
    """The gunicorn master and its workers, watched while a load runs."""

    master: int
    seen: set[int] = field(default_factory=set)
    peak_rss_kb: int = 0  # highest sum of VmRSS over the tree, sampled
    hwm_kb: dict[int, int] = field(default_factory=dict)  # VmHWM per process, last read
    cpu_start: dict[int, float] = field(default_factory=dict)
    cpu_end: dict[int, float] = field(default_factory=dict)

    def pids(self) -> list[int]:
        return [self.master, *children_of(self.master)]

    def sample(self) -> None:
        pids = self.pids()
        self.seen.update(pids)
        self.peak_rss_kb = max(self.peak_rss_kb, sum(_status_kb(p, "VmRSS") for p in pids))
        for pid in pids:
            hwm = _status_kb(pid, "VmHWM")
            if hwm:
                self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), hwm)
            self.cpu_end[pid] = max(self.cpu_end.get(pid, 0.0), _cpu_seconds(pid))

    def start_cpu(self) -> None:
        for pid in self.pids():
            self.cpu_start[pid] = _cpu_seconds(pid)
        self.cpu_end.clear()
        self.sample()

    @property
    def cpu_seconds(self) -> float:
        """CPU time the tree used since `start_cpu` (workers that started later count from 0)."""
        return sum(end - self.cpu_start.get(pid, 0.0) for pid, end in self.cpu_end.items())

    @property
    def worker_hwm_kb(self) -> int:
        return max((kb for pid, kb in self.hwm_kb.items() if pid != self.master), default=0)

    @property
    def total_hwm_kb(self) -> int:
        return sum(self.hwm_kb.values())


class Sampler:
    """Samples a ProcessTree every `interval` seconds in a thread while the block runs."""

    def __init__(self, tree: ProcessTree, interval: float = 0.25) -> None:
        self.tree = tree
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.tree.sample()

    def __enter__(self) -> ProcessTree:
        self.tree.start_cpu()
        self._thread.start()
        return self.tree

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.tree.sample()
