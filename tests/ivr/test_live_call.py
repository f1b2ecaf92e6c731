"""The webhooks' lean path to the call log: one SELECT, one UPDATE of what changed, one INSERT of new steps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ivr import live_call
from ivr.flow import Step
from ivr.live_call import LiveCall
from ivr.models import CallEvent, CallLog
from tickets.records import open_ticket
from core.calendar import business_calendar
from tickets.sla import Severity

SID = "CA" + "5e" * 16


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def a_new_call(session: Session, clock) -> LiveCall:
    call = LiveCall(call_sid=SID, started_at=clock.now, step=Step.MAIN_MENU, from_number="+14155550100",
                    caller_id="+14155550100")
    call.log(clock.now, "call_started", "from +14155550100")
    live_call.insert_new(session, call)
    session.commit()
    return call


def test_a_new_call_reads_back_through_the_call_log_model_column_for_column(session: Session, clock) -> None:
    call = a_new_call(session, clock)

    row = session.scalar(select(CallLog).where(CallLog.call_sid == SID))
    assert row is not None and row.id == call.id
    assert {name: getattr(row, name) for name in live_call.COLUMNS} == {name: getattr(call, name) for name in live_call.COLUMNS}
    assert [(e.kind, e.detail) for e in row.events] == [("call_started", "from +14155550100")]


def test_saving_writes_only_the_changed_columns_and_the_new_steps(session: Session, clock) -> None:
    a_new_call(session, clock)
    call = live_call.find(session, SID)
    assert call is not None and call.step == Step.MAIN_MENU

    call.step, call.seq = Step.SEVERITY, call.seq + 1
    call.log(clock.now, "keys", "main_menu: pressed '1'")
    call.log(clock.now, "step", "main_menu → severity")
    with statements(session) as seen:
        live_call.save(session, call)
    session.commit()

    if session.get_bind().dialect.name == "postgresql":  # one round trip: UPDATE in a WITH, feeding the INSERT
        assert len(seen) == 1, seen
        assert seen[0].startswith("WITH moved AS \n(UPDATE call_log SET") and "INSERT INTO call_events" in seen[0]
    else:
        assert len(seen) == 2, seen
        assert seen[0].startswith("UPDATE call_log SET") and seen[1].startswith("INSERT INTO call_events")
    update = seen[0].split("WHERE")[0]
    assert "step" in update and "seq" in update
    assert "from_number" not in update and "status" not in update
    kinds = session.scalars(select(CallEvent.kind).where(CallEvent.call_id == call.id).order_by(CallEvent.id)).all()
    assert kinds == ["call_started", "keys", "step"]
    assert live_call.find(session, SID).seq == 1  # type: ignore[union-attr]
    session.rollback()


def test_steps_saved_with_a_change_keep_the_order_they_were_logged_in(session: Session, clock) -> None:
    a_new_call(session, clock)
    call = live_call.find(session, SID)
    assert call is not None
    kinds = [f"step_{i}" for i in range(7)]
    call.outcome = "abandoned"
    for kind in kinds:
        call.log(clock.now, kind, "at the same instant")
    live_call.save(session, call)
    session.commit()

    saved = session.scalars(select(CallEvent.kind).where(CallEvent.call_id == call.id).order_by(CallEvent.id)).all()
    assert saved == ["call_started", *kinds]
    assert session.scalar(select(CallLog.outcome).where(CallLog.id == call.id)) == "abandoned"
    session.rollback()


def test_saving_a_call_that_did_not_change_runs_no_statement(session: Session, clock) -> None:
    a_new_call(session, clock)
    call = live_call.find(session, SID)
    assert call is not None

    with statements(session) as seen:
        live_call.save(session, call)
    assert seen == []
    session.rollback()


def test_a_second_first_webhook_cannot_start_the_same_call_twice(session: Session, clock) -> None:
    a_new_call(session, clock)

    with pytest.raises(IntegrityError):
        live_call.insert_new(session, LiveCall(call_sid=SID, started_at=clock.now, step=Step.MAIN_MENU))
    session.rollback()
    assert session.scalar(select(CallLog.id).where(CallLog.call_sid == SID)) is not None


def test_a_call_reads_its_ticket_through_the_session_once_it_refers_to_one(session: Session, clock) -> None:
    a_new_call(session, clock)
    call = live_call.find(session, SID)
    assert call is not None and call.ticket is None
    ticket = open_ticket(session, severity=Severity.HIGH, source="phone", now=clock.now,
                         calendar=business_calendar("America/New_York", "US"), call_sid=SID)
    session.flush()

    call.ticket = ticket
    live_call.save(session, call)
    session.commit()

    again = live_call.find(session, SID)
    assert again is not None and again.ticket_id == ticket.id
    assert again.ticket is not None and again.ticket.number == ticket.number
    session.rollback()


def test_reading_a_call_takes_no_row_lock_so_it_never_waits_for_another_webhook(session: Session, engine, clock) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite locks the whole database per transaction")
    a_new_call(session, clock)
    with engine.connect() as other:
        other.execute(select(CallLog.id).where(CallLog.call_sid == SID).with_for_update())  # another webhook's lock
        session.connection().exec_driver_sql("SET LOCAL lock_timeout = '300ms'")

        read = live_call.read(session, SID)
        assert read is not None and read.call_sid == SID
        with pytest.raises(OperationalError):
            live_call.find(session, SID)  # the locking read waits its turn
        other.rollback()
    session.rollback()
