"""A call in progress as its webhooks see it, read and written with single Core statements.

Every webhook of a call reads the call's `call_log` row, moves the call on and writes back
what changed with the steps it logged. That is the line's hot path: a caller hears silence
while it runs, and during an outage many callers run it at once. The ORM's identity map and
unit of work cost several times what the statements themselves do (BENCHMARKS.md), so this
path is one `SELECT … FOR UPDATE` (a plain `SELECT` for a webhook that only reads), one
`UPDATE` of the changed columns and one multi-row `INSERT` of the new steps (on PostgreSQL,
one statement for both). The admin pages, the API and engineer callbacks read and write the
same rows through the `CallLog` model.

The ticket a call opened (or looked up) is an ORM `Ticket`, loaded on first use through the
request's session, as a relationship would be.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, bindparam, insert, select, union_all, update
from sqlalchemy.orm import Session

from ivr.models import CallEvent, CallLog, RingsTargets
from tickets.models import Ticket

CALLS = CallLog.__table__
STEPS = CallEvent.__table__

# Built once: a statement object keeps its compiled form's cache key, so each webhook only binds values.
_READ = select(CALLS).where(CALLS.c.call_sid == bindparam("sid"))
_FIND = _READ.with_for_update()
_INSERT = insert(CALLS)
_UPDATE = update(CALLS).where(CALLS.c.id == bindparam("row_id"))  # SET: the columns in the parameters
_ADD_STEPS = insert(STEPS)
_TICKET_BRIEF = select(Ticket.number, Ticket.severity, Ticket.caller_number).where(Ticket.id == bindparam("ticket_id"))


@dataclass(eq=False)
class LiveCall(RingsTargets):
    """The columns of one `call_log` row (see `CallLog` for what each means), plus unsaved steps."""

    call_sid: str
    started_at: datetime
    step: str
    id: int | None = None
    from_number: str | None = None
    to_number: str | None = None
    caller_name: str | None = None
    ended_at: datetime | None = None
    duration: int | None = None
    status: str = "in-progress"
    ticket_id: int | None = None
    answered_by: str | None = None
    outcome: str | None = None
    seq: int = 0
    tries: int = 0
    notice: str | None = None
    severity: str | None = None
    caller_id: str | None = None
    callback_number: str | None = None
    pending_number: str | None = None
    callback_settled: bool = False
    looked_up_ticket_id: int | None = None
    looked_up_number: str | None = None
    targets_json: str | None = None
    target_index: int = 0
    accepted_target: int | None = None
    requester_id: int | None = None
    offered_tickets: str | None = None

    # Not columns: who the greeting names (a recognised caller's organisation), steps logged since
    # the last save, the row as last saved, the tickets' session.
    greeting_name: str | None = field(default=None, repr=False)
    new_steps: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _saved: dict[str, Any] = field(default_factory=dict, repr=False)
    _session: Session | None = field(default=None, repr=False)
    _tickets: dict[str, Ticket | None] = field(default_factory=dict, repr=False)

    def log(self, at: datetime, kind: str, detail: str = "") -> None:
        """Add a step to the call's log; it is written with the call's next save."""
        self.new_steps.append({"at": at, "kind": kind, "detail": detail})

    @property
    def ticket(self) -> Ticket | None:
        """The ticket this call opened (or was given), if any."""
        return self._ticket("ticket_id")

    @ticket.setter
    def ticket(self, ticket: Ticket) -> None:
        self._set_ticket("ticket_id", ticket)

    @property
    def looked_up_ticket(self) -> Ticket | None:
        """The ticket whose status the caller asked for, if it was found."""
        return self._ticket("looked_up_ticket_id")

    @looked_up_ticket.setter
    def looked_up_ticket(self, ticket: Ticket | None) -> None:
        self._set_ticket("looked_up_ticket_id", ticket)

    def _ticket(self, column: str) -> Ticket | None:
        ticket_id = getattr(self, column)
        if ticket_id is None:
            return None
        cached = self._tickets.get(column)
        if cached is None or cached.id != ticket_id:
            assert self._session is not None, "a call read outside a session cannot load its ticket"
            cached = self._tickets[column] = self._session.get(Ticket, ticket_id)
        return cached

    def _set_ticket(self, column: str, ticket: Ticket | None) -> None:
        assert ticket is None or ticket.id is not None, "flush a new ticket before the call refers to it"
        setattr(self, column, ticket.id if ticket is not None else None)
        self._tickets[column] = ticket


COLUMNS = tuple(column.name for column in CALLS.columns)
assert set(COLUMNS) <= {f.name for f in fields(LiveCall)}, "LiveCall is missing a call_log column"


def _from_row(session: Session, row: Any) -> LiveCall:
    values = dict(row._mapping)
    return LiveCall(**values, _saved=values, _session=session)


def find(session: Session, call_sid: str) -> LiveCall | None:
    """The call `call_sid`, its row locked until this transaction ends, or None.

    The lock makes two copies of one webhook, delivered at once to two processes, take
    turns: the second sees the call already moved on. (SQLite's write lock, taken when the
    transaction begins, does the same there; `FOR UPDATE` is for PostgreSQL.)
    """
    row = session.connection().execute(_FIND, {"sid": call_sid}).first()
    return None if row is None else _from_row(session, row)


def read(session: Session, call_sid: str) -> LiveCall | None:
    """The call `call_sid` as it is now, not locked, for a webhook that only reads it.

    On PostgreSQL a row lock is a write: the transaction then waits for its commit record to
    reach the disk (half a millisecond here) while the engineer hears silence.
    """
    row = session.connection().execute(_READ, {"sid": call_sid}).first()
    return None if row is None else _from_row(session, row)


def insert_new(session: Session, call: LiveCall) -> None:
    """Write a new call's row and its first steps. Raises IntegrityError if the CallSid is taken."""
    values = {name: getattr(call, name) for name in COLUMNS if name != "id"}
    result = session.connection().execute(_INSERT, values)
    call.id = result.inserted_primary_key[0]
    call._saved = {**values, "id": call.id}
    call._session = session
    _write_steps(session, call)


def save(session: Session, call: LiveCall) -> None:
    """Write the columns that changed since the call was read, and the steps logged since.

    On PostgreSQL both go in one statement (an `UPDATE` in a `WITH` feeding the `INSERT`):
    each statement is a round trip to the database server while the caller waits.
    """
    assert call.id is not None, "save a call that was read or inserted"
    changed = {name: value for name in COLUMNS if (value := getattr(call, name)) != call._saved.get(name)}
    connection = session.connection()
    if changed and call.new_steps and connection.dialect.name == "postgresql":
        statement = _update_with_steps(tuple(changed), len(call.new_steps))
        params = {f"new_{name}": value for name, value in changed.items()}
        for index, step in enumerate(call.new_steps):
            params.update({f"{key}_{index}": value for key, value in step.items()})
        connection.execute(statement, {"row_id": call.id, **params})
        call.new_steps.clear()
    elif changed:
        connection.execute(_UPDATE, {"row_id": call.id, **changed})
    if changed:
        call._saved.update(changed)
    _write_steps(session, call)


@lru_cache(maxsize=256)
def _update_with_steps(columns: tuple[str, ...], steps: int) -> Insert:
    """`WITH moved AS (UPDATE call_log … RETURNING id) INSERT INTO call_events … SELECT … FROM moved`.

    Built once per shape (which columns changed, how many steps) so that SQLAlchemy's
    compiled cache keeps it: parameters `row_id`, `new_<column>`, and `at_<i>`, `kind_<i>`,
    `detail_<i>` per step. The steps are one `SELECT` each, in a `UNION ALL`, so they keep
    their order (a `VALUES` list would not be cached).
    """
    moved = (
        update(CALLS)
        .where(CALLS.c.id == bindparam("row_id"))
        .values({name: bindparam(f"new_{name}", type_=CALLS.c[name].type) for name in columns})
        .returning(CALLS.c.id)
        .cte("moved")
    )
    rows = [
        select(
            moved.c.id,
            bindparam(f"at_{i}", type_=STEPS.c.at.type),
            bindparam(f"kind_{i}", type_=STEPS.c.kind.type),
            bindparam(f"detail_{i}", type_=STEPS.c.detail.type),
        )
        for i in range(steps)
    ]
    new_steps = rows[0] if steps == 1 else union_all(*rows)
    return insert(STEPS).from_select(["call_id", "at", "kind", "detail"], new_steps).add_cte(moved)


def ticket_brief(session: Session, call: LiveCall) -> Any | None:
    """The call's ticket as the whisper tells it (`number`, `severity`, `caller_number`), or None.

    One Core read instead of loading the whole ticket: the engineer hears silence meanwhile.
    """
    if call.ticket_id is None:
        return None
    return session.connection().execute(_TICKET_BRIEF, {"ticket_id": call.ticket_id}).first()


def _write_steps(session: Session, call: LiveCall) -> None:
    if call.new_steps:
        session.connection().execute(_ADD_STEPS, [{"call_id": call.id, **step} for step in call.new_steps])
        call.new_steps.clear()
