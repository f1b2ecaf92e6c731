"""Engineer callbacks: the line rings the engineer, then puts them through to the customer.

The worker places the call to the engineer (`calls.create`, from the outbox); Twilio then
asks `/ivr/engineer-callback` what to play. The engineer presses 1, the line dials the
ticket's callback number with the support number as caller ID, and the result lands in
the call log and, when the customer answered, as the ticket's first response.

A scheduled call (`tickets.scheduled_calls`) takes the same path at its time: the engineer
hears "scheduled call for ticket …, press 1 to connect", the line dials the number the call
was planned with, and an engineer who does not take it hands it to the next one on duty.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session
from twilio.twiml.voice_response import Gather, VoiceResponse

from core.limits import row_id
from ivr import prompts
from ivr.flow import Step
from ivr.menus import ACCEPT_KEY
from ivr.models import CallEvent, CallLog
from oncall.schedule import Duty
from tickets import records, scheduled_calls
from tickets.models import Notification, ScheduledCall, Ticket

CALLBACK_RING_SECONDS = 30


def callback_ticket(session: Session, notification_id: str | None) -> tuple[Notification, Ticket] | None:
    """The callback request (or scheduled call's ring) and its ticket, if `notification_id` names one that has
    a number to call."""
    number = row_id(notification_id)
    notification = session.get(Notification, number) if number is not None else None
    if notification is None or notification.ticket is None:
        return None
    if notification.kind == "scheduled_call":
        return (notification, notification.ticket) if scheduled_call_of(session, notification) is not None else None
    if notification.kind != "callback" or not notification.ticket.callback_number:
        return None
    return notification, notification.ticket


def scheduled_call_of(session: Session, notification: Notification) -> ScheduledCall | None:
    """The scheduled call a ring to an engineer is for (None for an engineer callback)."""
    if notification.kind != "scheduled_call" or notification.scheduled_call_id is None:
        return None
    return session.get(ScheduledCall, notification.scheduled_call_id)


def customer_number(session: Session, notification: Notification, ticket: Ticket) -> str:
    """The number the engineer is put through to: the scheduled call's, or the ticket's callback number."""
    scheduled = scheduled_call_of(session, notification)
    return scheduled.customer_phone if scheduled is not None else ticket.callback_number or ""


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


def offer(ticket: Ticket, answer_url: str, scheduled: bool = False) -> VoiceResponse:
    """Ask the engineer to press 1 to call the customer (a scheduled call's whisper when `scheduled`)."""
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, action=answer_url, method="POST", timeout=8)
    gather.say(prompts.scheduled_call_offer(ticket.number) if scheduled else prompts.callback_offer(ticket.severity,
                                                                                                   ticket.number))
    response.append(gather)
    response.say(prompts.CALLBACK_NOT_TAKEN)
    response.hangup()
    return response


def engineer_pressed(session: Session, call: CallLog, notification: Notification, ticket: Ticket,
                     digits: str | None, support_number: str | None, region: str, result_url: str, now: datetime,
                     duty_at: Callable[[datetime], Duty]) -> VoiceResponse:
    """1 dials the customer from the support number; anything else ends the callback (a scheduled call goes on
    to the next engineer on duty)."""
    accepted = (digits or "").strip() == ACCEPT_KEY
    customer = customer_number(session, notification, ticket)
    scheduled = scheduled_call_of(session, notification)
    engineer = notification.recipient or notification.to_number
    if accepted:
        log_step(call, now, "dial", f"ringing the customer at {customer}")
        if scheduled is not None:
            scheduled_calls.engineer_accepted(session, scheduled, now, engineer)
    else:
        log_step(call, now, "callback_declined", f"the engineer pressed {digits!r}")
    session.commit()
    response = VoiceResponse()
    if not accepted:
        if scheduled is not None:
            scheduled_calls.engineer_declined(session, scheduled, notification.id, now, duty_at(now), engineer)
        response.say(prompts.CALLBACK_NOT_TAKEN)
        response.hangup()
        return response
    response.say(prompts.callback_dialing(customer, region))
    dial = response.dial(action=result_url, method="POST", timeout=CALLBACK_RING_SECONDS, caller_id=support_number)
    dial.number(customer)
    return response


def customer_call_ended(session: Session, call: CallLog, notification: Notification, ticket: Ticket, engineer: str,
                        dial_status: str, dial_sid: str | None, duration: int | None, now: datetime) -> VoiceResponse:
    """The customer leg ended: a connected callback is the ticket's first response if none came before."""
    response = VoiceResponse()
    connected = dial_status == "completed"
    customer = customer_number(session, notification, ticket)
    scheduled = scheduled_call_of(session, notification)
    log_step(call, now, "dial_result", f"customer {customer}: DialCallStatus={dial_status or 'missing'}"
             + (f", DialCallSid={dial_sid}" if dial_sid else "") + (f", {duration} s" if duration is not None else ""))
    if connected:
        call.outcome = "connected"
        call.answered_by = f"the customer ({customer})"
        # Who the callback rang, kept as a line call keeps its engineers, so the API names them alike.
        call.targets = [{"contact_id": None, "name": "the customer", "phone": customer}]
        call.accepted_target = 0
        response.say(prompts.CALLBACK_DONE)
    else:
        response.say(prompts.callback_unanswered(dial_status))
    if scheduled is not None:
        scheduled_calls.customer_call_ended(session, scheduled, now, engineer, connected, duration)
    elif connected:
        records.note(ticket, now, "callback", f"{engineer} called the customer back ({duration or 0} s)")
        records.record_first_response(ticket, now, engineer, "called the customer back")
    else:
        records.note(ticket, now, "callback_unanswered", f"{engineer} rang {customer}: {dial_status}")
    response.hangup()
    session.commit()
    return response


def callback_call_ended(session: Session, *, call_sid: str, notification: Notification, ticket: Ticket,
                        call_status: str, duration: int | None, from_number: str | None, to_number: str | None,
                        now: datetime, duty_at: Callable[[datetime], Duty]) -> CallLog:
    """The callback call ended. One the engineer never answered still leaves a row and a note; a scheduled
    call nobody took there goes on to the next engineer on duty."""
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
    scheduled = scheduled_call_of(session, notification)
    if scheduled is not None:  # still ringing this engineer: they never took it
        scheduled_calls.engineer_declined(session, scheduled, notification.id, now, duty_at(now),
                                          notification.recipient or notification.to_number)
    return call
