"""Gunicorn's settings for the Procfile's `web:` command, where they depend on the database.

SQLite has one writer. A second web process would only wait for its lock, polling it in
sleeps of up to 100 ms: one process with threads answers sooner and completes more calls
(BENCHMARKS.md: back-to-back p99 333 → 139 ms, 46.6 → 55.7 calls/s). PostgreSQL takes a
process per core. `WEB_CONCURRENCY` (which Heroku sets by dyno size) overrides both.
"""

import os

_database = os.environ.get("DATABASE_URL", "")  # unset: the embedded SQLite default
_on_postgresql = _database.startswith(("postgres://", "postgresql"))

workers = int(os.environ.get("WEB_CONCURRENCY") or (2 if _on_postgresql else 1))
