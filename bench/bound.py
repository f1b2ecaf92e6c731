"""The bound: the least work the contract asks of a webhook, written straight on the database driver.

Served like the floor (the Procfile's `web:` command with only the app spec swapped,
`'bench.bound:create_app()'`), it does for each webhook of the benchmark call what no
implementation of the line can skip, and nothing more:

- read the form and check Twilio's signature with `RequestValidator`, as the line does;
- in one transaction on the line's kind of database: read the call's row (`FOR UPDATE` on
  PostgreSQL; SQLite's `BEGIN IMMEDIATE`), write its new step and the step's log row, and
  commit; the ticket-opening key also takes the next ticket number, writes the ticket and
  queues the engineer's text; the whisper only reads the call and its ticket (on SQLite without
  the writer's lock), as the line's does. On SQLite a thread copies the write-ahead log back, as
  in the line's web process (`core.db.WalCheckpoints`).
  On PostgreSQL that is two round trips (psycopg's pipeline mode): the read, then every write
  with the `COMMIT`. The first call of a CallSid adds one (its row's id);
- build TwiML of the same shape with `twilio.twiml.voice_response`.

It leaves out work the contract does ask for — who is on duty before the Dial, the caller's
number in E.164, the SLA deadline, what the texts and prompts say — so whatever it costs, any
implementation of the line costs at least as much: it is a lower bound, not a rival design.

It answers with the TwiML the line gave in the warm-up call (as the floor does), so the
scripted phone takes the same path. Its statements go straight to the driver connection
(`sqlite3`, psycopg; taken from an engine made by `core.db.engine_for`, so it is opened with the
line's settings) without SQLAlchemy's execution layer, the ORM, URL building or the call flow, on
tables of its own (`bound_*`). What the line costs above the bound is the cost of how the line is written; what
the bound costs above the floor is what the database and the signature cost on this machine.

`BENCH_FLOOR_TWIML` names the floor's table; `BENCH_BOUND_DATABASE` is the database URL
(`sqlite:///…` or `postgresql://…`); `TWILIO_AUTH_TOKEN` checks the signatures.
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from core.db import WalCheckpoints, engine_for
from bench.floor import table_key

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bound_calls (id {key}, call_sid TEXT UNIQUE NOT NULL, seq INTEGER NOT NULL, "
    "step TEXT NOT NULL, ticket_id INTEGER, updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bound_call_steps (id {key}, call_id INTEGER NOT NULL, at TEXT NOT NULL, "
    "step TEXT NOT NULL, detail TEXT)",
    "CREATE TABLE IF NOT EXISTS bound_counter (id INTEGER PRIMARY KEY, next_number INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bound_tickets (id {key}, number INTEGER UNIQUE NOT NULL, severity TEXT NOT NULL, "
    "caller TEXT, response_due TEXT NOT NULL, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bound_outbox (id {key}, dedupe_key TEXT UNIQUE NOT NULL, body TEXT NOT NULL)",
    "INSERT INTO bound_counter (id, next_number) VALUES (1, 10001) ON CONFLICT DO NOTHING",
)
TICKET_STEP = "callback_choice"
WHISPER_PATH = "/ivr/whisper"


class _Database:
    """One pooled driver connection per thread, opened as the line opens its own (`core.db.engine_for`:
    SQLite's pragmas, psycopg for PostgreSQL); `?` placeholders, rewritten for psycopg."""

    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.local = threading.local()

    def create_tables(self) -> None:
        key = "INTEGER PRIMARY KEY" if self.sqlite else "SERIAL PRIMARY KEY"
        with self.engine.begin() as connection:
            for statement in _SCHEMA:
                connection.exec_driver_sql(statement.format(key=key))

    def connection(self) -> Any:
        """This thread's driver connection (`sqlite3` or psycopg), checked out once and kept."""
        pooled = getattr(self.local, "pooled", None)
        if pooled is None:
            pooled = self.local.pooled = self.engine.raw_connection()
        return pooled.driver_connection

    def _replace(self) -> None:
        """Drop this thread's connection for good: the next webhook gets a fresh one."""
        self.local.pooled.invalidate()
        self.local.pooled = None

    def close(self) -> None:
        """Give back this thread's connection and close the pool's (when the bound is done)."""
        pooled = getattr(self.local, "pooled", None)
        if pooled is not None:
            self.local.pooled = None
            pooled.close()
        self.engine.dispose()

    def sql(self, statement: str) -> str:
        return statement if self.sqlite else statement.replace("?", "%s")

    def together(self, connection: Any) -> AbstractContextManager[Any]:
        """Statements sent in one round trip where the driver can (psycopg's pipeline mode)."""
        return nullcontext() if self.sqlite else connection.pipeline()

    def begin(self, cursor: Any, *, writing: bool = True) -> None:
        if self.sqlite:
            # As the line: a webhook that writes takes the writer's lock as it begins.
            cursor.execute("BEGIN IMMEDIATE" if writing else "BEGIN")

    def rollback(self, connection: Any) -> None:
        """After a failed statement: this thread's connection back to no transaction, or dropped."""
        try:
            if self.sqlite:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
            elif not connection.closed:
                connection.rollback()
        except Exception:
            self._replace()
            raise
        if not self.sqlite and connection.closed:
            self._replace()

    def commit(self, connection: Any, cursor: Any) -> None:
        if self.sqlite:
            cursor.execute("COMMIT")
        else:
            connection.commit()


# On PostgreSQL the ticket's number, row, call link and text are one statement, so that the
# ticket key's writes and commit still go in one round trip.
_OPEN_TICKET_POSTGRESQL = (
    "WITH n AS (UPDATE bound_counter SET next_number = next_number + 1 WHERE id = 1 RETURNING next_number - 1 AS num), "
    "t AS (INSERT INTO bound_tickets (number, severity, caller, response_due, created_at) "
    "SELECT num, 'critical', %s, %s, %s FROM n RETURNING id, number), "
    "c AS (UPDATE bound_calls SET ticket_id = (SELECT id FROM t) WHERE id = %s) "
    "INSERT INTO bound_outbox (dedupe_key, body) SELECT 'new_ticket:' || id, 'critical ticket ' || number FROM t "
    "ON CONFLICT DO NOTHING"
)


def _open_ticket(db: _Database, cursor: Any, call_id: int, caller: str | None, now: str) -> None:
    if not db.sqlite:
        cursor.execute(_OPEN_TICKET_POSTGRESQL, (caller, now, now, call_id))
        return
    cursor.execute("UPDATE bound_counter SET next_number = next_number + 1 WHERE id = 1 RETURNING next_number - 1")
    number = cursor.fetchone()[0]
    cursor.execute("INSERT INTO bound_tickets (number, severity, caller, response_due, created_at) "
                   "VALUES (?, 'critical', ?, ?, ?) RETURNING id", (number, caller, now, now))
    ticket_id = cursor.fetchone()[0]
    cursor.execute("UPDATE bound_calls SET ticket_id = ? WHERE id = ?", (ticket_id, call_id))
    cursor.execute("INSERT INTO bound_outbox (dedupe_key, body) VALUES (?, ?) ON CONFLICT DO NOTHING",
                   (f"new_ticket:{ticket_id}", f"critical ticket {number}"))


def _record(db: _Database, call_sid: str, step: str, digits: str | None, caller: str | None) -> None:
    """The webhook's one transaction; a failed one is rolled back, so the next webhook starts clean."""
    connection = db.connection()
    try:
        _transaction(db, connection, call_sid, step, digits, caller)
    except BaseException:
        db.rollback(connection)
        raise


def _transaction(db: _Database, connection: Any, call_sid: str, step: str, digits: str | None,
                 caller: str | None) -> None:
    """On PostgreSQL two round trips: the read, then the writes with COMMIT (the whisper: one)."""
    now = datetime.now(timezone.utc).isoformat()
    cursor = connection.cursor()
    if request.path == WHISPER_PATH:
        with db.together(connection):
            db.begin(cursor, writing=False)
            cursor.execute(db.sql("SELECT c.seq, t.number, t.severity FROM bound_calls c "
                                  "LEFT JOIN bound_tickets t ON t.id = c.ticket_id WHERE c.call_sid = ?"), (call_sid,))
            db.commit(connection, cursor)
        return
    with db.together(connection):
        db.begin(cursor)
        cursor.execute(db.sql("SELECT id FROM bound_calls WHERE call_sid = ?" + ("" if db.sqlite else " FOR UPDATE")),
                       (call_sid,))
    row = cursor.fetchone()
    if row is None:
        cursor.execute(db.sql("INSERT INTO bound_calls (call_sid, seq, step, updated_at) VALUES (?, 1, ?, ?) "
                              "RETURNING id"), (call_sid, step, now))
        call_id = cursor.fetchone()[0]
    else:
        call_id = row[0]
    with db.together(connection):
        if row is not None:
            cursor.execute(db.sql("UPDATE bound_calls SET seq = seq + 1, step = ?, updated_at = ? WHERE id = ?"),
                           (step, now, call_id))
        if step == TICKET_STEP:
            _open_ticket(db, cursor, call_id, caller, now)
        cursor.executemany(db.sql("INSERT INTO bound_call_steps (call_id, at, step, detail) VALUES (?, ?, ?, ?)"),
                           [(call_id, now, step, digits), (call_id, now, "prompt", None)])
        db.commit(connection, cursor)


def _twiml(step: str) -> str:
    """A document of the line's usual shape: a menu read inside a Gather, then a Redirect."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=f"/ivr/gather?step={step}&n=2", timeout=6)
    gather.say("Press 1 for a critical problem, 2 for high, 3 for normal, 4 for low.", voice="Polly.Joanna")
    response.redirect(f"/ivr/gather?step={step}&n=3")
    return str(response)


def create_app() -> Flask:
    with open(os.environ["BENCH_FLOOR_TWIML"], encoding="utf-8") as file:
        table: dict[str, str] = json.load(file)
    db = _Database(os.environ["BENCH_BOUND_DATABASE"])
    db.create_tables()
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    app = Flask(__name__)
    app.extensions["bench.bound"] = db
    if db.sqlite:
        # As the line's web process: the write-ahead log is copied back by a thread, not in a webhook.
        app.extensions["bench.bound.checkpoints"] = WalCheckpoints(db.engine).start()

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"bound": "ok"}

    @app.post("/<path:_path>")
    def answer(_path: str) -> Response:
        if not validator.validate(request.url, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        body = table.get(table_key(request.path, request.args))
        if body is None:
            abort(404)
        step = request.args.get("step") or request.path.rsplit("/", 1)[-1]
        _record(db, request.form.get("CallSid", ""), step, request.form.get("Digits"), request.form.get("From"))
        _twiml(step)  # built for its cost; the captured answer keeps the phone on the scripted path
        return Response(body, mimetype="text/xml")

    return app
