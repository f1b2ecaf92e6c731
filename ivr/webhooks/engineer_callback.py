"""The engineer-callback webhooks: the line rang an engineer for a ticket (`ivr.callback`);
they press 1 and are put through to the customer from the support number.

Each URL carries the callback request (`?notification=`). A request that names no callback
with a number to call, or any failure, ends the engineer's call with an apology.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Response, request, url_for

from core.clock import current_clock
from core.db import db
from core.settings import current_settings
from ivr import callback, prompts, twiml
from ivr.models import CallLog
from oncall.service import duty_at
from ivr.webhooks.signed import call_sid, nothing_to_say, param, seconds_param, twiml_response, webhook
from tickets.models import Notification, Ticket


def unavailable() -> Response:
    """Tell the engineer the callback cannot go ahead, and hang up."""
    return twiml_response(twiml.goodbye(prompts.CALLBACK_UNAVAILABLE))


def callback_webhook(view: Callable[[Notification, Ticket], Response]) -> Callable[[], Response]:
    """A step of an engineer callback: `view` gets the callback request and its ticket."""

    @webhook(unavailable)
    @functools.wraps(view)
    def run() -> Response:
        found = callback.callback_ticket(db(), request.args.get("notification"))
        if found is None:
            return unavailable()
        return view(*found)

    return run


def callback_call_webhook(view: Callable[[Notification, Ticket, CallLog], Response]) -> Callable[[], Response]:
    """A later step of an engineer callback: `view` also gets the engineer's call, already logged."""

    @callback_webhook
    @functools.wraps(view)
    def run(notification: Notification, ticket: Ticket) -> Response:
        call = callback.find_call(db(), call_sid(param("CallSid")) or "")
        if call is None:
            return unavailable()
        return view(notification, ticket, call)

    return run


@callback_webhook
def engineer_callback(notification: Notification, ticket: Ticket) -> Response:
    """The engineer answered the line's call: offer to dial the customer."""
    sid = call_sid(param("CallSid"))
    if sid is None:
        return unavailable()
    callback.engineer_answered(db(), call_sid=sid, notification=notification, ticket=ticket,
                               from_number=param("From", 64), to_number=param("To", 64), now=current_clock())
    answer_url = url_for("ivr.engineer_callback_answer", notification=notification.id)
    return twiml_response(callback.offer(ticket, answer_url, scheduled=notification.kind == "scheduled_call"))


@callback_call_webhook
def engineer_callback_answer(notification: Notification, ticket: Ticket, call: CallLog) -> Response:
    """The engineer's key: 1 dials the customer from the support number."""
    settings = current_settings()
    result_url = url_for("ivr.engineer_callback_result", notification=notification.id)
    return twiml_response(callback.engineer_pressed(db(), call, notification, ticket, param("Digits", 32),
                                                    settings.twilio_phone_number, settings.phone_region, result_url,
                                                    current_clock(), lambda at: duty_at(db(), at)))


@callback_call_webhook
def engineer_callback_result(notification: Notification, ticket: Ticket, call: CallLog) -> Response:
    """The customer leg ended."""
    return twiml_response(callback.customer_call_ended(
        db(), call, notification, ticket, notification.recipient or notification.to_number,
        param("DialCallStatus", 32) or "",
        param("DialCallSid", 64), seconds_param("DialCallDuration"), current_clock()))


@webhook(nothing_to_say)
def engineer_callback_status() -> Response:
    """The callback call's status callback: close its row, even if the engineer never answered."""
    found = callback.callback_ticket(db(), request.args.get("notification"))
    sid = call_sid(param("CallSid"))
    if found is not None and sid is not None:
        notification, ticket = found
        callback.callback_call_ended(
            db(), call_sid=sid, notification=notification, ticket=ticket,
            call_status=param("CallStatus", 16) or "completed", duration=seconds_param("CallDuration"),
            from_number=param("From", 64), to_number=param("To", 64), now=current_clock(),
            duty_at=lambda at: duty_at(db(), at))
    return nothing_to_say()
