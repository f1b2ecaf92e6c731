"""The support line's application factory, its settings and its database plumbing.

`flask --app app ...` and the Procfile's `gunicorn 'app:create_app()'` both start here.
Settings are read once, from the environment, in `create_app`; everything else asks the
app for them (`current_settings()`), never `os.environ`.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click
import phonenumbers
from flask import Flask, Request, current_app, g
from flask.cli import with_appcontext
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import DateTime, Select, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger("supportline")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock: an aware UTC datetime. Tests pass a fake one to `create_app`."""
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- database


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
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate if write_lock_on_begin else _begin_deferred)
        return engine
    # A dead database must fail fast: the caller is waiting for TwiML.
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    ping = _PingWhenIdle(engine.dialect)
    event.listen(engine, "connect", ping.note_idle)
    event.listen(engine, "checkin", ping.note_idle)
    event.listen(engine, "checkout", ping.check)
    return engine


class _PingWhenIdle:
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
    engine: Engine = app.extensions["supportline.engine"]
    if engine.dialect.name != "sqlite" or not engine.url.database or not Path(engine.url.database).is_file():
        return None  # not SQLite, in memory, or not made yet (a checkpoint would create an empty file)
    checkpoints = WalCheckpoints(engine).start()
    app.extensions["supportline.wal_checkpoints"] = checkpoints
    return checkpoints


def _begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads and then writes can fail at once with
    # SQLITE_BUSY when another process wrote in between; taking the write lock up
    # front makes concurrent web processes wait their turn (busy_timeout) instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


class _CookieSessionWhenSent(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus building a signer for requests that bring no cookie.

    Twilio's webhooks and API calls never carry one, and a caller waits on every webhook.
    """

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def db() -> Session:
    """The database session of the current request (or CLI command), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["supportline.sessions"]()
    return g.db_session


def rows_and_more(session: Session, query: Select[Any], limit: int, offset: int) -> tuple[list[Any], bool]:
    """Rows `offset` to `offset + limit` of `query` (already ordered), and whether more rows follow.

    One query: it asks for one row more than the page holds, so no list needs a count to page on.
    """
    rows = session.scalars(query.limit(limit + 1).offset(offset)).unique().all()
    return list(rows[:limit]), len(rows) > limit


def _close_db(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


# Ids are 32-bit integers in the schema; a larger one names nothing and must not reach a query.
MAX_ROW_ID = 2**31 - 1
# Times outside these years are typing mistakes, and past them datetime arithmetic overflows.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


def storable(text: str) -> bool:
    """Whether both databases can store `text`: no NUL (PostgreSQL refuses it), no lone surrogates."""
    return "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)


# --------------------------------------------------------------------------- settings


class SettingsError(ValueError):
    """A setting has a value the line cannot work with; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    """Every setting of contract §5, parsed and checked once at start."""

    database_url: str
    twilio_account_sid: str | None
    twilio_auth_token: str
    twilio_auth_token_is_local: bool  # the development token under instance/, not Twilio's
    twilio_phone_number: str | None
    support_timezone: str
    support_holidays: str | None
    phone_region: str
    fallback_number: str | None
    trusted_proxies: int
    public_url: str | None
    secret_key: str
    instance_path: str

    @property
    def spool_dir(self) -> Path:
        """Where voicemails wait while the database is unreachable."""
        return Path(self.instance_path) / "spool"

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str) -> Settings:
        """Read the settings from `env`, filling the local-development defaults."""
        from tickets.sla import business_calendar

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        region = (get("PHONE_REGION") or "US").upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise SettingsError(f"PHONE_REGION={region!r} is not a region phonenumbers knows")
        support_timezone = get("SUPPORT_TIMEZONE") or "UTC"
        holidays_code = get("SUPPORT_HOLIDAYS")
        try:
            business_calendar(support_timezone, holidays_code.upper() if holidays_code else None)
        except ValueError as error:
            raise SettingsError(str(error)) from error

        fallback = get("FALLBACK_NUMBER")
        if fallback is not None:
            from oncall.phones import to_e164

            normalised = to_e164(fallback, region)
            if normalised is None:
                raise SettingsError(f"FALLBACK_NUMBER={fallback!r} is not a valid phone number")
            fallback = normalised

        try:
            trusted_proxies = int(get("TRUSTED_PROXIES") or "0")
        except ValueError:
            raise SettingsError("TRUSTED_PROXIES must be a whole number of proxy hops") from None
        if trusted_proxies < 0:
            raise SettingsError("TRUSTED_PROXIES must not be negative")

        public_url = get("PUBLIC_URL")
        if public_url and not public_url.startswith(("http://", "https://")):
            raise SettingsError("PUBLIC_URL must start with http:// or https://")

        return cls(
            database_url=get("DATABASE_URL")
            or f"sqlite:///{Path(instance_path) / 'supportline.sqlite3'}",
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN")
            or _local_secret(instance_path, "twilio_auth_token", "TWILIO_AUTH_TOKEN"),
            twilio_auth_token_is_local=get("TWILIO_AUTH_TOKEN") is None,
            twilio_phone_number=get("TWILIO_PHONE_NUMBER"),
            support_timezone=support_timezone,
            support_holidays=holidays_code.upper() if holidays_code else None,
            phone_region=region,
            fallback_number=fallback,
            trusted_proxies=trusted_proxies,
            public_url=public_url.rstrip("/") if public_url else None,
            secret_key=get("SECRET_KEY") or _local_secret(instance_path, "secret_key", "SECRET_KEY"),
            instance_path=instance_path,
        )


def _local_secret(instance_path: str, name: str, variable: str) -> str:
    """A random secret kept under instance/ for local development, never a built-in default.

    Without TWILIO_AUTH_TOKEN the line still checks every signature, against this
    local token, which the terminal phone reads too; real Twilio requests will then be
    refused, which is the safe way to fail.
    """
    path = Path(instance_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Exclusive create: several web processes starting at once agree on one value.
        with open(path, "x", opener=lambda p, flags: os.open(p, flags, 0o600)) as file:
            file.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    log.warning("%s is not set: using the local development value in %s", variable, path)
    return path.read_text().strip()


def current_settings() -> Settings:
    """The settings of the running app."""
    return current_app.extensions["supportline.settings"]


def current_clock() -> datetime:
    """Now, from the app's clock (a fake one in tests)."""
    return current_app.extensions["supportline.clock"]()


# --------------------------------------------------------------------------- factory


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the support line.

    `config` may hold `ENV` (a mapping used instead of `os.environ`), `CLOCK` (a
    callable returning aware UTC now), `TESTING`, and any Flask setting.
    """
    config = dict(config or {})
    app = Flask(__name__, instance_path=config.pop("INSTANCE_PATH", None))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    env = config.pop("ENV", os.environ)
    clock: Clock = config.pop("CLOCK", utc_now)

    settings = Settings.from_env(env, app.instance_path)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure cookies whenever the line is served over HTTPS (PUBLIC_URL says so).
        SESSION_COOKIE_SECURE=bool(settings.public_url and settings.public_url.startswith("https://")),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # Nothing the line receives is bigger: Twilio's webhooks, API bodies and forms are small.
        MAX_CONTENT_LENGTH=1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config)
    app.extensions["supportline.settings"] = settings
    app.extensions["supportline.clock"] = clock
    app.session_interface = _CookieSessionWhenSent()

    engine = engine_for(settings.database_url)
    app.extensions["supportline.engine"] = engine
    app.extensions["supportline.sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_db)

    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]

    import ivr.api
    import ivr.pages
    import ivr.sms
    import ivr.views
    import oncall.admin
    import oncall.api
    import oncall.calendar
    import tickets.api
    import tickets.pages

    csrf = CSRFProtect(app)
    for blueprint in (ivr.views.bp, ivr.sms.bp, oncall.api.bp, tickets.api.bp, ivr.api.bp, oncall.calendar.bp):
        # Twilio signs its webhooks and the API takes bearer tokens; forms on pages carry CSRF tokens.
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    for blueprint in (oncall.admin.bp, tickets.pages.bp, ivr.pages.bp):
        app.register_blueprint(blueprint)

    from oncall.access import create_admin_command, create_api_token_command
    from ivr.terminal import call_command, text_command
    from oncall.demo import seed_demo_command
    from tickets.worker import worker_command

    app.add_url_rule("/healthz", "healthz", _health)
    app.register_error_handler(404, _api_errors_in_json)
    app.register_error_handler(405, _api_errors_in_json)
    app.register_error_handler(413, _api_errors_in_json)

    app.cli.add_command(upgrade_db_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_api_token_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(call_command)
    app.cli.add_command(text_command)
    app.cli.add_command(worker_command)
    return app


def _api_errors_in_json(error: Any) -> Any:
    """Unknown URLs and methods under /api answer in the API's error shape, like everything else there."""
    from flask import request

    if request.path.startswith("/api/"):
        return {"error": f"{error.name}: {request.method} {request.path}"}, error.code
    return error


def _health() -> tuple[dict[str, str], int]:
    """For load balancers: 200 while the database answers, 503 when it does not."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        db().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return {"database": "unreachable"}, 503
    return {"database": "ok"}, 200


# --------------------------------------------------------------------------- schema


def upgrade_schema(database_url: str) -> None:
    """Create or upgrade the schema to the newest migration (safe to run again)."""
    from alembic import command
    from alembic.config import Config

    root = Path(__file__).resolve().parent
    alembic_config = Config(str(root / "alembic.ini"))
    alembic_config.set_main_option("script_location", str(root / "migrations"))
    alembic_config.attributes["database_url"] = database_url
    command.upgrade(alembic_config, "head")


@click.command("upgrade-db")
@with_appcontext
def upgrade_db_command() -> None:
    """Create or upgrade the database schema (the Procfile's release step)."""
    upgrade_schema(current_settings().database_url)
    click.echo("schema is up to date")
