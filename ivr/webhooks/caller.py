"""The caller's webhooks: the menu, the dialled engineers and their whisper, voicemail,
its transcript, and the end of the call. Each view reads the form, calls one `ivr.calls`
function and returns TwiML; the call's state is in the database, keyed by CallSid.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from flask import Response, request, url_for

from core.clock import current_clock
from core.db import db
from core.limits import MAX_ROW_ID, whole_number
from core.settings import current_settings
from ivr import calls, live_call, twiml
from ivr.flow import CallerInput, Step
from ivr.live_call import LiveCall
from ivr.menus import MAX_DIGITS
from ivr.spool import replay_spool, spooled_entries
from ivr.webhooks.fallback import fallback_twiml
from ivr.webhooks.signed import call_sid, line, nothing_to_say, param, seconds_param, twiml_response, webhook

log = logging.getLogger(__name__)

# Enough to drain an outage's voicemails over a few calls without delaying one callback.
SPOOL_ENTRIES_PER_CALLBACK = 20


class _Links:
    """The URLs of a call's next webhooks.

    Actions are relative, so they follow the URL Twilio used; the whisper and the
    transcription callback run outside the caller's document, so they are absolute.
    """

    def gather(self, call: LiveCall) -> str:
        return url_for("ivr.gather", step=call.step, n=call.seq)

    def dial_result(self, call: LiveCall) -> str:
        return url_for("ivr.dial_result", n=call.seq)

    def whisper(self, call: LiveCall, target_index: int) -> str:
        return url_for("ivr.whisper", call=call.call_sid, target=target_index, _external=True)

    def recorded(self, call: LiveCall) -> str:
        return url_for("ivr.recorded", n=call.seq)

    def transcript(self, call: LiveCall) -> str:
        return url_for("ivr.transcript", call=call.call_sid, _external=True)


def _render(call: LiveCall) -> Response:
    settings = current_settings()
    return twiml_response(twiml.render(call, _Links(), settings.support_timezone, settings.phone_region))


def caller_webhook(view: Callable[[LiveCall], Response] | None = None, *,
                   greets: bool = False) -> Callable[..., Callable[[], Response]]:
    """A step of the caller's own call: `view` gets the call (a call never seen starts at the menu).

    `greets`: the view says the greeting, so a known caller's organisation is looked up even when
    Twilio sends the first webhook again. A request without a well-formed CallSid, or any failure,
    gets the fallback.
    """
    if view is None:
        return functools.partial(caller_webhook, greets=greets)

    @webhook(fallback_twiml)
    @functools.wraps(view)
    def run() -> Response:
        sid = call_sid(param("CallSid"))
        if sid is None:
            return fallback_twiml()
        call = calls.answer_call(
            db(),
            call_sid=sid,
            from_number=param("From", 64),
            to_number=param("To", 64),
            caller_name=param("CallerName", 120),
            now=current_clock(),
            line=line(),
            greets=greets,
        )
        return view(call)

    return run


@caller_webhook(greets=True)
def voice(call: LiveCall) -> Response:
    """A call comes in: greet and offer the main menu."""
    return _render(call)


@caller_webhook
def gather(call: LiveCall) -> Response:
    """The caller's keys or words at a menu (or silence, via the Redirect after the Gather)."""
    said = CallerInput(digits=param("Digits", MAX_DIGITS * 4), speech=param("SpeechResult"))
    calls.take_keys(db(), call, step=request.args.get("step"), seq=request.args.get("n"), said=said,
                    now=current_clock(), line=line())
    return _render(call)


@caller_webhook
def dial_result(call: LiveCall) -> Response:
    """The Dial to one engineer ended: connected, next engineer, or voicemail."""
    calls.take_dial_result(
        db(),
        call,
        seq=request.args.get("n"),
        dial_status=param("DialCallStatus", 32) or "",
        dial_sid=param("DialCallSid", 64),
        now=current_clock(),
    )
    return _render(call)


@caller_webhook
def recorded(call: LiveCall) -> Response:
    """The caller's voicemail is recorded: it goes on the ticket."""
    calls.take_recording(
        db(),
        call,
        seq=request.args.get("n"),
        recording_url=param("RecordingUrl"),
        seconds=seconds_param("RecordingDuration"),
        now=current_clock(),
        line=line(),
    )
    return _render(call)


def _dialled_call(lock: bool = True) -> tuple[LiveCall, int] | None:
    sid = call_sid(request.args.get("call")) or ""
    parent = live_call.find(db(), sid) if lock else live_call.read(db(), sid)
    target = whole_number(request.args.get("target"), MAX_ROW_ID)
    if parent is None or target is None or target >= len(parent.targets):
        return None
    return parent, target


def _pass_the_call_on() -> Response:
    # The engineer's leg may not <Dial>: hang it up, and the caller's Dial moves on.
    return twiml_response(twiml.whisper_answer(accepted=False))


@webhook(_pass_the_call_on)
def whisper() -> Response:
    """The engineer answered: tell them whose call it is and ask them to accept it."""
    found = _dialled_call(lock=False)  # only read: the engineer's key (whisper-answer) takes the lock
    if found is None or found[0].step != Step.CONNECTING:
        return _pass_the_call_on()
    call, target = found
    ticket = live_call.ticket_brief(db(), call)
    if ticket is None:
        return _pass_the_call_on()
    accept_url = url_for("ivr.whisper_answer", call=call.call_sid, target=target, _external=True)
    return twiml_response(twiml.whisper(ticket.severity, ticket.number, ticket.caller_number,
                                        current_settings().phone_region, accept_url))


@webhook(_pass_the_call_on)
def whisper_answer() -> Response:
    """The engineer's key: 1 bridges the call; anything else passes it on."""
    found = _dialled_call()
    accepted = False
    if found is not None:
        call, target = found
        accepted = calls.take_whisper_answer(db(), call, target_index=target, digits=param("Digits", 32),
                                             now=current_clock())
    return twiml_response(twiml.whisper_answer(accepted))


@webhook(nothing_to_say)
def transcript() -> Response:
    """Twilio's transcription of a voicemail: onto the ticket."""
    call = live_call.find(db(), call_sid(request.args.get("call") or param("CallSid")) or "")
    if call is not None:
        calls.take_transcript(db(), call, text=param("TranscriptionText", 20000),
                              status=param("TranscriptionStatus", 32), now=current_clock())
    return nothing_to_say()


@webhook(nothing_to_say)
def status() -> Response:
    """Twilio's status callback: the call ended; close its log row."""
    sid = call_sid(param("CallSid"))
    if sid is not None:
        calls.close_call(
            db(),
            call_sid=sid,
            call_status=param("CallStatus", 16) or "completed",
            duration=seconds_param("CallDuration"),
            from_number=param("From", 64),
            to_number=param("To", 64),
            now=current_clock(),
            line=line(),
        )
        _replay_some_of_the_spool()
    return nothing_to_say()


def _replay_some_of_the_spool() -> None:
    """The database answered, so voicemails kept while it was down can go onto tickets now.

    Done here, after a call has ended, because nobody is waiting on the line; and here
    rather than in a worker because the spool is on this web host's own disk.
    """
    spool_dir = current_settings().spool_dir
    if not spooled_entries(spool_dir):
        return
    try:
        replay_spool(db(), spool_dir, line(), limit=SPOOL_ENTRIES_PER_CALLBACK)
    except Exception:
        log.exception("replaying the spool failed; the entries stay for the next try")
        db().rollback()
