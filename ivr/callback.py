"""Engineer callbacks: the line rings the engineer, then puts them through to the customer.

The worker places the call to the engineer (`calls.create`, from the outbox); Twilio then
asks `/ivr/engineer-callback` what to play. The engineer presses 1, the line dials the
ticket's callback number with the support number as caller ID, and the result lands in
the call log and, when the customer answered, as the ticket's first response.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session
from twilio.twiml.voice_response import Gather, VoiceResponse

from core.limits import row_id
from ivr import prompts
from ivr.flow import Step
from ivr.menus import ACCEPT_KEY
from ivr.models import CallEvent, CallLog
from tickets import records
from tickets.models import Notification, Ticket

CALLBACK_RING_SECONDS = 30


def callback_ticket(session: Session, notification_id: str | None) -> tuple[Notification, Ticket] | None:
    """The callback request and its ticket, if `notification_id` names one that has a number to call."""
    number = row_id(notification_id)
    notification = session.get(Notification, number) if number is not None else None
    if notification is None or notification.kind != "callback" or notification.ticket is None:
        return None
    if not notification.ticket.callback_number:
        return None
    return notification, notification.ticket


def find_call(session: Session, call_sid: str) -> CallLog | None:
    """The callback call's row, locked for this transaction, or None.

    Callbacks are a few calls a day, so they keep to the ORM; a customer's call takes the
    leaner path in `ivr.live_call`.
    """
    return session.scalar(
        select(CallLog).where(CallLog.call_sid == call_sid).with_for_update().execution_options(populate_existing=True)
    )


def log_step(call: CallLog, at: datetime, kind: str, detail: str = "") -> None:
    """Add a step to the callback call's log without loading the steps before it."""
    event = CallEvent(call=call, at=at, kind=kind, detail=detail)
    session = object_session(call)
    if session is not None:
        session.add(event)


def engineer_answered(session: Session, *, call_sid: str, notification: Notification, ticket: Ticket,
                      from_number: str | None, to_number: str | None, now: datetime) -> CallLog:
    """The engineer picked up the callback call: start its call-log row (once)."""
    call = find_call(session, call_sid)
    if call is None:
        call = CallLog(call_sid=call_sid, from_number=from_number, to_number=to_number, started_at=now,
                       status="in-progress", step=Step.ENGINEER_CALLBACK, ticket=ticket)
        log_step(call, now, "callback_started",
                 f"engineer callback for ticket {ticket.number}: ringing {notification.recipient or to_number}")
        session.add(call)
        session.commit()
    return call


def offer(ticket: Ticket, answer_url: str) -> VoiceResponse:
    """Ask the engineer to press 1 to call the customer."""
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, action=answer_url, method="POST", timeout=8)
    gather.say(prompts.callback_offer(ticket.severity, ticket.number))
    response.append(gather)
    response.say(prompts.CALLBACK_NOT_TAKEN)
    response.hangup()
    return response


def engineer_pressed(session: Session, call: CallLog, ticket: Ticket, digits: str | None, support_number: str | None,
                     region: str, result_url: str, now: datetime) -> VoiceResponse:
    """1 dials the customer from the support number; anything else ends the callback."""
    accepted = (digits or "").strip() == ACCEPT_KEY
    if accepted:
        log_step(call, now, "dial", f"ringing the customer at {ticket.callback_number}")
    else:
        log_step(call, now, "callback_declined", f"the engineer pressed {digits!r}")
    session.commit()
    response = VoiceResponse()
    if not accepted:
        response.say(prompts.CALLBACK_NOT_TAKEN)
        response.hangup()
        return response
    response.say(prompts.callback_dialing(ticket.callback_number or "", region))
    dial = response.dial(action=result_url, method="POST", timeout=CALLBACK_RING_SECONDS, caller_id=support_number)
    dial.number(ticket.callback_number)
    return response


def customer_call_ended(session: Session, call: CallLog, ticket: Ticket, engineer: str, dial_status: str,
                        dial_sid: str | None, duration: int | None, now: datetime) -> VoiceResponse:
    """The customer leg ended: a connected callback is the ticket's first response if none came before."""
    response = VoiceResponse()
    connected = dial_status == "completed"
    log_step(call, now, "dial_result", f"customer {ticket.callback_number}: DialCallStatus={dial_status or 'missing'}"
             + (f", DialCallSid={dial_sid}" if dial_sid else "") + (f", {duration} s" if duration is not None else ""))
    if connected:
        call.outcome = "connected"
        call.answered_by = f"the customer ({ticket.callback_number})"
        # Who the callback rang, kept as a line call keeps its engineers, so the API names them alike.
        call.targets = [{"contact_id": None, "name": "the customer", "phone": ticket.callback_number}]
        call.accepted_target = 0
        records.note(ticket, now, "callback", f"{engineer} called the customer back ({duration or 0} s)")
        records.record_first_response(ticket, now, engineer, "called the customer back")
        response.say(prompts.CALLBACK_DONE)
    else:
        records.note(ticket, now, "callback_unanswered", f"{engineer} rang {ticket.callback_number}: {dial_status}")
        response.say(prompts.callback_unanswered(dial_status))
    response.hangup()
    session.commit()
    return response


def callback_call_ended(session: Session, *, call_sid: str, notification: Notification, ticket: Ticket,
                        call_status: str, duration: int | None, from_number: str | None, to_number: str | None,
                        now: datetime) -> CallLog:
    """The callback call ended. One the engineer never answered still leaves a row and a note."""
    call = find_call(session, call_sid)
    if call is None:
        call = CallLog(call_sid=call_sid, from_number=from_number, to_number=to_number, started_at=now,
                       status=call_status, step=Step.ENGINEER_CALLBACK, ticket=ticket)
        log_step(call, now, "callback_started",
                 f"engineer callback for ticket {ticket.number}: ringing {notification.recipient or to_number}")
        session.add(call)
        records.note(ticket, now, "callback_unanswered",
                     f"{notification.recipient or notification.to_number} did not take the callback call ({call_status})")
    if call.ended_at is None:
        call.ended_at, call.duration, call.status = now, duration, call_status
        call.outcome = call.outcome or "missed"  # the engineer (or the customer) never took it
        log_step(call, now, "status", f"CallStatus={call_status}" + (f", {duration} s" if duration is not None else ""))
    session.commit()
    return call
