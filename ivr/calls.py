"""The call service: each webhook's work on the call log, tickets and routing, in one transaction.

Every function takes the session, the time and the line's settings as arguments and
commits its own change. A webhook Twilio sends twice finds the call already moved on
(the `seq` in each action URL no longer matches) and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr import flow, live_call
from ivr.flow import CallerInput, Effect, Notice, Step
from ivr.live_call import LiveCall
from ivr.menus import ACCEPT_KEY, MAX_OFFERED_TICKETS
from core.limits import clipped, whole_number
from core.metrics import CALLS_ENDED, count_on_commit
from core.phones import to_e164
from core.settings import Settings
from oncall.schedule import Duty
from oncall.service import duty_at
from people.service import known_caller
from tickets import notify
from tickets import records
from tickets.models import Ticket
from tickets.sla import BusinessCalendar, Severity

# Longest caller input kept verbatim in the call log; the rest is garbage by then.
MAX_LOGGED_INPUT = 200
# Durations are stored in 32-bit INTEGER columns; anything longer than 68 years is not a duration.
MAX_SECONDS = 2**31 - 1


def whole_seconds(text: str | None) -> int | None:
    """Twilio's `CallDuration`, `RecordingDuration`, …: whole seconds, or None when missing or absurd."""
    return whole_number(text, MAX_SECONDS)


@dataclass(frozen=True)
class Line:
    """The settings a call needs: where numbers are national, the SLA calendar, the fallback."""

    region: str
    calendar: BusinessCalendar
    fallback_number: str | None

    @property
    def timezone(self) -> str:
        """The support time zone, for times spoken to callers."""
        return self.calendar.timezone

    @classmethod
    def of(cls, settings: Settings) -> Line:
        """The line as the settings describe it."""
        return cls(region=settings.phone_region, calendar=settings.calendar, fallback_number=settings.fallback_number)


def _clip(text: str | None) -> str:
    return clipped(text or "", MAX_LOGGED_INPUT, say_length=True)


def _commit(session: Session, call: LiveCall) -> None:
    live_call.save(session, call)
    session.commit()


def answer_call(
    session: Session,
    *,
    call_sid: str,
    from_number: str | None,
    to_number: str | None,
    caller_name: str | None,
    now: datetime,
    line: Line,
    greets: bool = False,
) -> LiveCall:
    """Start the call's log row (once: a repeated first webhook finds the same row), recognising a
    known person's caller ID; `greets`: the webhook greets, so a repeated one names them again."""
    call = live_call.find(session, call_sid)
    if call is not None:
        if greets and call.seq == 0 and call.requester_id is not None:
            known = known_caller(session, person_id=call.requester_id)
            call.greeting_name = known.greeting_name if known else None
        return call
    call = LiveCall(
        call_sid=call_sid,
        from_number=from_number,
        to_number=to_number,
        caller_name=caller_name,
        started_at=now,
        status="in-progress",
        step=Step.MAIN_MENU,
        caller_id=to_e164(from_number, line.region),
    )
    call.log(now, "call_started", f"from {from_number or 'unknown'}" + (f" ({caller_name})" if caller_name else ""))
    if call.caller_id is None:
        call.log(now, "caller_id_unusable", f"caller ID {from_number!r} cannot be called back")
    else:
        known = known_caller(session, phone=call.caller_id)
        if known is not None:
            call.requester_id, call.greeting_name = known.person_id, known.greeting_name
            call.log(now, "known_caller", f"{known.name}" + (f" of {known.organization}" if known.organization else ""))
    try:
        live_call.insert_new(session, call)
        session.commit()
    except IntegrityError:
        # The same first webhook, delivered twice at once: the other request won.
        session.rollback()
        call = live_call.find(session, call_sid)
        assert call is not None
    return call


def _is_current(call: LiveCall, step: str | None, seq: str | None) -> bool:
    return step == call.step and seq == str(call.seq) and call.ended_at is None


def take_keys(
    session: Session, call: LiveCall, *, step: str | None, seq: str | None, said: CallerInput, now: datetime, line: Line
) -> None:
    """Apply what the caller pressed or said at the menu the call is waiting at."""
    if not _is_current(call, step, seq) or Step(call.step) not in flow.MENU_STEPS:
        return
    if said.digits is not None:
        call.log(now, "keys", f"{call.step}: pressed {_clip(said.digits)!r}")
    elif said.speech is not None:
        call.log(now, "speech", f"{call.step}: said {_clip(said.speech)!r}")
    else:
        call.log(now, "silence", f"{call.step}: no input")
    before = call.step
    effect = flow.advance(call, said, line.region)
    if effect is Effect.OFFER_TICKETS and call.requester_id is not None:
        tickets = records.open_tickets_of(session, call.requester_id, MAX_OFFERED_TICKETS)
        flow.tickets_offered(call, tickets)
        call.log(now, "open_tickets", "offered " + (", ".join(f"{n} ({s})" for n, s in tickets) or "none"))
    if effect is Effect.LOOK_UP_TICKET:
        found = records.find_ticket(session, call.looked_up_number or "")
        call.looked_up_ticket = found
        flow.ticket_looked_up(call, found is not None)
        call.log(now, "ticket_lookup", f"ticket {call.looked_up_number}: {'found' if found else 'not found'}")
        if found is not None:
            call.outcome = "status_lookup"
    if call.step != before:
        call.log(now, "step", f"{before} → {call.step}" + (f" ({call.notice})" if call.notice else ""))
    if effect is Effect.OPEN_TICKET:
        open_ticket_for_call(session, call, now, line)
    call.seq += 1
    _commit(session, call)


def routing_targets(duty: Duty, fallback_number: str | None) -> list[dict[str, Any]]:
    """Who to ring, in order: on duty, the backups, then the fallback number."""
    targets: list[dict[str, Any]] = []
    for member in ([duty.on_duty] if duty.on_duty else []) + list(duty.escalation):
        if member.phone and all(t["phone"] != member.phone for t in targets):
            targets.append({"contact_id": member.contact_id, "name": member.name, "phone": member.phone})
    if fallback_number and all(t["phone"] != fallback_number for t in targets):
        targets.append({"contact_id": None, "name": "the fallback line", "phone": fallback_number})
    return targets


# Where a call that ends without an outcome was left by nobody answering, not by the caller in the menu.
UNANSWERED_STEPS = frozenset({Step.CONNECTING, Step.VOICEMAIL, Step.NO_MESSAGE})


def open_ticket_for_call(session: Session, call: LiveCall, now: datetime, line: Line, abandoned: bool = False) -> Ticket:
    """Open the call's ticket (once) and snapshot who the call will ring."""
    if call.ticket is not None:
        return call.ticket
    if abandoned:
        callback, origin = flow.callback_for_abandoned_call(call)
    else:
        callback, origin = call.callback_number, "chosen by the caller"
    # Read who is on duty before taking the ticket number: taking it locks the counter row until
    # this transaction commits (PostgreSQL), and every other new ticket waits for that lock.
    duty = duty_at(session, now)
    ticket = records.open_ticket(
        session,
        severity=Severity(call.severity or Severity.NORMAL),
        reported_severity=Severity(call.severity) if call.severity else None,
        source="phone",
        now=now,
        calendar=line.calendar,
        caller_number=call.caller_id,
        callback_number=callback,
        call_sid=call.call_sid,
        requester_id=call.requester_id,
        notes=[("callback_number", f"{callback or 'none'}: {origin}")],
    )
    call.ticket = ticket
    call.log(now, "ticket_opened", f"ticket {ticket.number} ({ticket.severity}), callback {callback or 'none'}")
    notify.new_ticket(session, ticket, duty, line.timezone, now)
    if abandoned:
        records.note(ticket, now, "caller_hung_up", f"the caller hung up at {call.step}; kept what they had said")
        return ticket
    call.targets = routing_targets(duty, line.fallback_number)
    call.target_index = 0
    names = ", ".join(f"{t['name']} {t['phone']}" for t in call.targets) or "nobody (voicemail)"
    call.log(now, "routing", f"will ring {names}")
    if call.targets:
        _log_ringing(call, now)
    else:
        call.step = Step.VOICEMAIL
    return ticket


def _log_ringing(call: LiveCall, now: datetime) -> None:
    target = call.targets[call.target_index]
    call.log(now, "dial", f"ringing {target['name']} {target['phone']}")


def take_dial_result(
    session: Session, call: LiveCall, *, seq: str | None, dial_status: str, dial_sid: str | None, now: datetime
) -> None:
    """After one target rang: connected, the next target, or voicemail."""
    if not _is_current(call, Step.CONNECTING, seq):
        return
    index = call.target_index
    target = call.targets[index]
    accepted = call.accepted_target == index
    call.log(
        now,
        "dial_result",
        f"{target['name']} {target['phone']}: DialCallStatus={_clip(dial_status) or 'missing'}, "
        + ("accepted" if accepted else "not accepted"),
    )
    outcome = flow.after_dial(index, len(call.targets), accepted)
    if outcome.connected:
        call.answered_by = f"{target['name']} ({target['phone']})"
        call.outcome = "connected" if target.get("contact_id") is not None else "fallback"
        call.step = Step.CONNECTED
        call.notice = None
    elif outcome.next_step is Step.CONNECTING:
        call.target_index = index + 1
        call.notice = Notice.NEXT_TARGET
        _log_ringing(call, now)
    else:
        call.step = Step.VOICEMAIL
        call.notice = None
        if call.ticket is not None:
            records.note(call.ticket, now, "missed_call", "nobody answered; the caller was offered voicemail")
            notify.missed_call(session, call.ticket, duty_at(session, now), now)
    call.seq += 1
    _commit(session, call)


def take_whisper_answer(session: Session, call: LiveCall, *, target_index: int, digits: str | None, now: datetime) -> bool:
    """The engineer's key in the whisper: 1 accepts (the ticket's first response), else passes."""
    if call.accepted_target is not None:
        return call.accepted_target == target_index
    if target_index != call.target_index or target_index >= len(call.targets) or call.step != Step.CONNECTING:
        return False
    target = call.targets[target_index]
    accepted = (digits or "").strip() == ACCEPT_KEY
    call.log(now, "whisper", f"{target['name']}: {'accepted' if accepted else 'pressed ' + repr(_clip(digits))}")
    if accepted:
        call.accepted_target = target_index
        if call.ticket_id is not None and target.get("contact_id") is not None:
            records.record_first_response_to(session, call.ticket_id, now, target["name"], "accepted the call")
        elif call.ticket is not None:
            records.note(call.ticket, now, "fallback_answered", f"the caller was put through to {target['phone']}")
    _commit(session, call)
    return accepted


def take_recording(
    session: Session, call: LiveCall, *, seq: str | None, recording_url: str | None, seconds: int | None, now: datetime,
    line: Line,
) -> None:
    """The caller's voicemail: onto the ticket, and the call is done.

    A caller who hangs up mid-message ends the call, and Twilio's status callback may
    come before this Record action: the recording is still taken then.
    """
    if call.step != Step.VOICEMAIL or seq != str(call.seq):
        return
    if not recording_url:
        call.step = Step.NO_MESSAGE
        call.log(now, "voicemail", "no recording")
    else:
        ticket = open_ticket_for_call(session, call, now, line)
        records.attach_recording(ticket, now, recording_url, seconds)
        call.step = Step.VOICEMAIL_DONE
        call.outcome = "voicemail"
        call.log(now, "voicemail", f"recording {recording_url}" + (f" ({seconds} s)" if seconds is not None else ""))
    call.notice = None
    call.seq += 1
    _commit(session, call)


def take_transcript(session: Session, call: LiveCall, *, text: str | None, status: str | None, now: datetime) -> None:
    """A voicemail's transcription, when Twilio has it (often after the call ended)."""
    if status != "completed" or not text:
        call.log(now, "transcript", f"transcription {status or 'missing'}; the recording stays on the ticket")
    elif call.ticket is not None and call.ticket.transcript != text:
        records.attach_transcript(call.ticket, now, text)
        call.log(now, "transcript", _clip(text))
    # The engineer hears of the voicemail once its words are known (or known to be missing).
    if call.ticket is not None and call.ticket.recording_url:
        notify.voicemail(session, call.ticket, duty_at(session, now), now)
    _commit(session, call)


def close_call(
    session: Session,
    *,
    call_sid: str,
    call_status: str,
    duration: int | None,
    from_number: str | None,
    to_number: str | None,
    now: datetime,
    line: Line,
) -> LiveCall:
    """Twilio's status callback: the call ended. Keep what the caller gave even if they hung up."""
    call = live_call.find(session, call_sid)
    if call is None:
        call = answer_call(
            session, call_sid=call_sid, from_number=from_number, to_number=to_number, caller_name=None, now=now, line=line
        )
    if call.ended_at is not None:
        return call
    call.ended_at = now
    call.duration = duration
    call.status = call_status
    call.log(now, "status", f"CallStatus={call_status}" + (f", {duration} s" if duration is not None else ""))
    if call.severity and call.ticket_id is None:
        open_ticket_for_call(session, call, now, line, abandoned=True)
    if call.outcome is None and call.accepted_target is not None:
        # The status callback can overtake the Dial action when the caller hangs up mid-conversation.
        target = call.targets[call.accepted_target]
        call.answered_by = f"{target['name']} ({target['phone']})"
        call.outcome = "connected" if target.get("contact_id") is not None else "fallback"
    if call.outcome is None:
        # Nobody took a call that reached the engineers (or the voicemail prompt): missed. A caller
        # who hangs up in the menu, before anyone is rung, abandoned it.
        call.outcome = "missed" if Step(call.step) in UNANSWERED_STEPS else "abandoned"
        if Step(call.step) is Step.CONNECTING and call.ticket is not None and call.ticket.first_response_at is None:
            records.note(call.ticket, now, "caller_hung_up", "the caller hung up while the line was ringing engineers")
            notify.missed_call(session, call.ticket, duty_at(session, now), now)
    count_on_commit(session, CALLS_ENDED, call.outcome or "unknown")
    _commit(session, call)
    return call
