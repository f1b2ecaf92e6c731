"""Gunicorn's settings for the Procfile's `web:` command, where they depend on the database.

SQLite has one writer. A second web process would only wait for its lock, polling it in
sleeps of up to 100 ms: one process with threads answers sooner and completes more calls
(BENCHMARKS.md: back-to-back p99 333 → 139 ms, 46.6 → 55.7 calls/s). PostgreSQL takes a
process per core. `WEB_CONCURRENCY` (which Heroku sets by dyno size) overrides both.

Once a web process has loaded its app, what it loaded is frozen out of the garbage
collector's full passes, and on SQLite it copies the write-ahead log back from a thread of its
own (`core.db.WalCheckpoints`): both would otherwise stop a webhook now and then (BENCHMARKS.md).
"""

import gc
import os

_database = os.environ.get("DATABASE_URL", "")  # unset: the embedded SQLite default
_on_postgresql = _database.startswith(("postgres://", "postgresql"))

workers = int(os.environ.get("WEB_CONCURRENCY") or (2 if _on_postgresql else 1))
# Gunicorn's threaded worker (`--threads`), refusing an over-long request line (414) or header
# block (431) in the API's JSON error shape rather than in an HTML page of its own.
worker_class = "web.serving.JsonRefusalsWorker"
# Up to this the app reads the line and refuses a URL over MAX_URL_LENGTH (web/api.py) itself.
limit_request_line = 8190
# The control socket (`gunicornc`) lives with this line's own files, so two lines on one
# host, or a line and another gunicorn app, never share one.
control_socket = os.path.join(os.path.dirname(os.path.abspath(__file__)), "instance", "gunicorn.ctl")


def post_worker_init(worker) -> None:
    """Once a web process has loaded its app: SQLite's checkpoints to a thread, the app out of full GC passes."""
    # Only the line has a database: the bench serves its floor with these settings too.
    if "supportline.engine" in getattr(worker.wsgi, "extensions", {}):
        from core.db import start_wal_checkpoints

        start_wal_checkpoints(worker.wsgi)
    # The modules and the app live as long as the process. A full collection scanned all of
    # them while a webhook waited (73 ms in process); with them frozen it takes 1.4 ms.
    gc.freeze()


def child_exit(server, worker) -> None:
    """A web process ended: with PROMETHEUS_MULTIPROC_DIR its live gauges go with it (its counters stay counted)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
