"""The database: one engine per URL with what each database needs, the request's session,
the declarative `Base` every area's models share, and paging.

As in the Flask tutorial's `flaskr/db.py`, the factory binds this module to the app
(`init_app`) and every area asks it for the session (`db()`); nobody imports the factory.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Select, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger("supportline")

ENGINE = "supportline.engine"
SESSIONS = "supportline.sessions"
WAL_CHECKPOINTS = "supportline.wal_checkpoints"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in and comes out as aware UTC, on SQLite and PostgreSQL alike.

    SQLite has no time zones, so values are stored as UTC and the zone is put back on
    the way out. Naive datetimes are refused: they are always a bug here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the database; use aware UTC")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base shared by every package's models (one metadata, one schema)."""

    type_annotation_map = {datetime: UTCDateTime}


def engine_for(url: str, *, write_lock_on_begin: bool = True) -> Engine:
    """Create the engine for `url` with the settings each database needs.

    On SQLite every transaction takes the write lock when it begins, unless
    `write_lock_on_begin` is off (for readers such as tests, which must not block the app).
    """
    if url.startswith("postgres://"):  # Heroku still hands out this spelling
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 10})
        database = make_url(url).database
        event.listen(engine, "do_connect", lambda *_: _create_private_file(database))
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate if write_lock_on_begin else _begin_deferred)
        return engine
    # A dead database must fail fast: the caller is waiting for TwiML.
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    ping = PingWhenIdle(engine.dialect)
    event.listen(engine, "connect", ping.note_idle)
    event.listen(engine, "checkin", ping.note_idle)
    event.listen(engine, "checkout", ping.check)
    return engine


def _create_private_file(path: str | None) -> None:
    """Make a new SQLite file readable by its owner only (0600), like the secret files: it holds
    callers' numbers and voicemails. SQLite gives its journal and WAL files the same mode.
    Done as the first connection opens, so that a file nothing has connected to is not made."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except (FileExistsError, FileNotFoundError):  # already there; or no folder, which SQLite reports itself
        pass


class InsertUnlessPresent:
    """`INSERT … ON CONFLICT (key) DO NOTHING [RETURNING column]` on `table`, built once in each
    database's own dialect (each spells ON CONFLICT in its own module): one statement, and two
    processes inserting the same key at once leave one row and neither fails."""

    def __init__(self, table: Any, key: str, returning: Any = None) -> None:
        self._returns = returning is not None
        self._statements = {}
        for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert)):
            statement = insert(table).on_conflict_do_nothing(index_elements=[key])
            self._statements[name] = statement.returning(returning) if self._returns else statement

    def run(self, session: Session, row: dict[str, Any]) -> Any:
        """Insert `row` in the session's transaction unless its key is taken; with `returning`,
        that column of the new row, or None when the key was taken."""
        result = session.connection().execute(self._statements[session.get_bind().dialect.name], row)
        return result.scalar() if self._returns else None


class PingWhenIdle:
    """Check a pooled connection before use, but only after it sat idle (`IDLE_BEFORE_PING`).

    The database may have restarted while a connection was idle, and a caller must not be the
    one to find out. A connection back from a request a moment ago is not checked: the check
    is one more round trip per webhook, under load, while callers wait. If the database
    restarted in that moment, that one request fails (its webhook answers the fallback and
    spools what the caller said) and SQLAlchemy drops every pooled connection opened before it.
    """

    IDLE_BEFORE_PING = 5.0  # seconds

    def __init__(self, dialect: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.dialect = dialect
        self.clock = clock

    def note_idle(self, _dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = self.clock()

    def check(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is not None and self.clock() - idle_since < self.IDLE_BEFORE_PING:
            return
        try:
            self.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # SQLAlchemy's protocol: the pool closes this connection and tries a fresh one.
            raise DisconnectionError("a pooled connection did not answer") from error


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control from pysqlite so that `begin` below decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads and then writes can fail at once with
    # SQLITE_BUSY when another process wrote in between; taking the write lock up
    # front makes concurrent web processes wait their turn (busy_timeout) instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


class WalCheckpoints:
    """Copies SQLite's write-ahead log back into the database file from a thread of the web process.

    Left to itself SQLite does that in whichever commit takes the log past 1,000 pages, and
    that request waits for the copy and its fsyncs (about 4 ms; in process at 8 calls a second
    the ticket-opening key's p99 was 5.3 ms, and 3.3 ms with this thread, BENCHMARKS.md). A PASSIVE
    checkpoint waits for no reader or writer, so requests go on meanwhile. SQLite's own
    checkpoint stays on as the net for a burst between two passes, and for processes (the
    worker, the CLI) that run no thread.
    """

    # A pass a second keeps the log far below 1,000 pages up to some 30 calls a second (a call
    # writes about 30 pages); past that SQLite's own checkpoint takes the overflow.
    INTERVAL_SECONDS = 1.0

    def __init__(self, engine: Engine, interval: float = INTERVAL_SECONDS) -> None:
        self.engine = engine
        self.interval = interval
        self._failing = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoints", daemon=True)

    def checkpoint(self) -> tuple[int, int, int]:
        """One pass: (1 if it could not run now, pages in the log, pages copied back)."""
        # The driver connection, outside any transaction: SQLAlchemy's begin would take the write lock.
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            busy, pages, copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            cursor.close()
            return busy, pages, copied
        finally:
            connection.close()

    def start(self) -> WalCheckpoints:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def run_once(self) -> None:
        """One pass of the thread: a failure is logged when it starts, not once a second."""
        try:
            self.checkpoint()
        except Exception:  # the next pass tries again; SQLite's own checkpoint is still there
            if not self._failing:
                log.warning("background WAL checkpoints are failing", exc_info=True)
            self._failing = True
        else:
            if self._failing:
                log.info("background WAL checkpoints work again")
            self._failing = False

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.run_once()


def start_wal_checkpoints(app: Flask) -> WalCheckpoints | None:
    """In a web process on an SQLite file, checkpoint in a thread (gunicorn.conf.py calls this)."""
    engine = app_engine(app)
    if engine.dialect.name != "sqlite" or not engine.url.database or not Path(engine.url.database).is_file():
        return None  # not SQLite, in memory, or not made yet (a checkpoint would create an empty file)
    checkpoints = WalCheckpoints(engine).start()
    app.extensions[WAL_CHECKPOINTS] = checkpoints
    return checkpoints


def init_app(app: Flask, database_url: str) -> None:
    """Give the app its engine and a session per request (or CLI command), closed at its end."""
    engine = engine_for(database_url)
    app.extensions[ENGINE] = engine
    app.extensions[SESSIONS] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_db)


def wal_checkpoints(app: Flask) -> WalCheckpoints | None:
    """The thread that checkpoints `app`'s SQLite file, if one was started."""
    return app.extensions.get(WAL_CHECKPOINTS)


def app_engine(app: Flask | None = None) -> Engine:
    """The engine of `app` (default: the running app)."""
    return (app or current_app).extensions[ENGINE]


def db() -> Session:
    """The database session of the current request (or CLI command), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[SESSIONS]()
    return g.db_session


def _close_db(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def rows_and_more(session: Session, query: Select[Any], limit: int, offset: int) -> tuple[list[Any], bool]:
    """Rows `offset` to `offset + limit` of `query` (already ordered), and whether more rows follow.

    One query: it asks for one row more than the page holds, so no list needs a count to page on.
    """
    rows = session.scalars(query.limit(limit + 1).offset(offset)).unique().all()
    return list(rows[:limit]), len(rows) > limit


def _alembic_config(database_url: str) -> Any:
    from alembic.config import Config

    root = Path(__file__).resolve().parent.parent
    alembic_config = Config(str(root / "alembic.ini"))
    alembic_config.set_main_option("script_location", str(root / "migrations"))
    alembic_config.attributes["database_url"] = database_url
    return alembic_config


def upgrade_schema(database_url: str) -> None:
    """Create or upgrade the schema to the newest migration (safe to run again)."""
    from alembic import command

    command.upgrade(_alembic_config(database_url), "head")


def schema_revisions(engine: Engine) -> tuple[str | None, str]:
    """The migration the database is at (None: none yet) and the newest one the code has."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config("")).get_current_head() or ""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision(), head
