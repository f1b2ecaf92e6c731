"""Twilio's voice webhooks. Each view checks the signature, reads the form, calls one
service function and returns TwiML; the call's state is in the database, keyed by CallSid.

Contract §1: a webhook never answers 500. A database error (or any bug) becomes the
fallback TwiML: the caller goes to `FALLBACK_NUMBER` or a voicemail kept in the local
spool, and the request's own parameters are spooled so nothing the caller said is lost.
"""

from __future__ import annotations

import logging
import re

import click
from flask import Blueprint, Response, request, url_for
from flask.cli import with_appcontext
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from core.clock import current_clock
from core.db import db
from core.settings import current_settings
from ivr import callback, calls, live_call, prompts, twiml
from ivr.calls import Line
from ivr.flow import CallerInput, Step
from ivr.menus import MAX_DIGITS
from ivr.live_call import LiveCall
from ivr.signature import signed_by_twilio
from ivr.spool import replay_spool, spool_request, spooled_entries

log = logging.getLogger(__name__)

bp = Blueprint("ivr", __name__, url_prefix="/ivr", cli_group=None)

CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
MAX_PARAM_LENGTH = 500
# Enough to drain an outage's voicemails over a few calls without delaying one callback.
SPOOL_ENTRIES_PER_CALLBACK = 20


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _line() -> Line:
    return Line.of(current_settings())


def _param(name: str, limit: int = MAX_PARAM_LENGTH) -> str | None:
    """A form parameter, stripped; None when absent or empty. Overlong values are cut."""
    value = request.form.get(name, "").strip()
    return value[:limit] or None


def _seconds_param(name: str) -> int | None:
    return calls.whole_seconds(_param(name, 32))


def _call_sid(value: str | None) -> str | None:
    return value if value and CALL_SID.fullmatch(value) else None


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


def _fallback_links() -> twiml.FallbackLinks:
    return twiml.FallbackLinks(
        dialed=url_for("ivr.fallback_dialed"),
        recorded=url_for("ivr.fallback_recorded"),
        transcript=url_for("ivr.fallback_transcript", _external=True),
    )


def _render(call: LiveCall) -> Response:
    settings = current_settings()
    return _twiml(twiml.render(call, _Links(), settings.support_timezone, settings.phone_region))


def _fallback_twiml() -> Response:
    return _twiml(twiml.fallback(current_settings().fallback_number, _fallback_links()))


def _spool(kind: str) -> None:
    # The full path keeps the query (step and sequence), so replayed keys land where they were pressed.
    spool_request(current_settings().spool_dir, kind, request.full_path, request.form.to_dict(), current_clock())


@bp.errorhandler(Exception)
def _webhook_failed(error: Exception) -> Response | HTTPException:
    if isinstance(error, HTTPException):
        return error
    log.exception("webhook %s failed; answering with the fallback", request.path)
    try:
        db().rollback()
    except Exception:  # the database may be the thing that is down
        log.warning("rollback after a failed webhook failed too", exc_info=True)
    kind = "voicemail" if request.form.get("RecordingUrl") else "transcript" if request.form.get("TranscriptionText") else "webhook"
    _spool(kind)
    if request.endpoint in {"ivr.status", "ivr.transcript", "ivr.engineer_callback_status"}:
        return _twiml(VoiceResponse())
    if request.endpoint and request.endpoint.startswith("ivr.engineer_callback"):
        return _twiml(twiml.goodbye(prompts.CALLBACK_UNAVAILABLE))
    if request.endpoint in {"ivr.whisper", "ivr.whisper_answer"}:
        # The engineer's leg may not <Dial>: hang it up, and the caller's Dial moves on.
        return _twiml(twiml.whisper_answer(accepted=False))
    return _fallback_twiml()


def _call_or_fallback() -> LiveCall | Response:
    """The call this webhook belongs to; a call we never saw starts afresh at the menu."""
    sid = _call_sid(_param("CallSid"))
    if sid is None:
        return _fallback_twiml()
    return calls.answer_call(
        db(),
        call_sid=sid,
        from_number=_param("From", 64),
        to_number=_param("To", 64),
        caller_name=_param("CallerName", 120),
        now=current_clock(),
        line=_line(),
    )


@bp.post("/voice")
@signed_by_twilio
def voice() -> Response:
    """A call comes in: greet and offer the main menu."""
    call = _call_or_fallback()
    return call if isinstance(call, Response) else _render(call)


@bp.post("/gather")
@signed_by_twilio
def gather() -> Response:
    """The caller's keys or words at a menu (or silence, via the Redirect after the Gather)."""
    call = _call_or_fallback()
    if isinstance(call, Response):
        return call
    said = CallerInput(digits=_param("Digits", MAX_DIGITS * 4), speech=_param("SpeechResult"))
    calls.take_keys(
        db(), call, step=request.args.get("step"), seq=request.args.get("n"), said=said, now=current_clock(), line=_line()
    )
    return _render(call)


@bp.post("/dial-result")
@signed_by_twilio
def dial_result() -> Response:
    """The Dial to one engineer ended: connected, next engineer, or voicemail."""
    call = _call_or_fallback()
    if isinstance(call, Response):
        return call
    calls.take_dial_result(
        db(),
        call,
        seq=request.args.get("n"),
        dial_status=_param("DialCallStatus", 32) or "",
        dial_sid=_param("DialCallSid", 64),
        now=current_clock(),
    )
    return _render(call)


def _dialled_call(lock: bool = True) -> tuple[LiveCall, int] | None:
    sid = _call_sid(request.args.get("call")) or ""
    parent = live_call.find(db(), sid) if lock else live_call.read(db(), sid)
    target = request.args.get("target", "")
    if parent is None or not target.isdigit() or int(target) >= len(parent.targets):
        return None
    return parent, int(target)


@bp.post("/whisper")
@signed_by_twilio
def whisper() -> Response:
    """The engineer answered: tell them whose call it is and ask them to accept it."""
    found = _dialled_call(lock=False)  # only read: the engineer's key (whisper-answer) takes the lock
    if found is None or found[0].step != Step.CONNECTING:
        return _twiml(twiml.whisper_answer(accepted=False))
    call, target = found
    ticket = live_call.ticket_brief(db(), call)
    if ticket is None:
        return _twiml(twiml.whisper_answer(accepted=False))
    accept_url = url_for("ivr.whisper_answer", call=call.call_sid, target=target, _external=True)
    return _twiml(twiml.whisper(ticket.severity, ticket.number, ticket.caller_number, current_settings().phone_region, accept_url))


@bp.post("/whisper-answer")
@signed_by_twilio
def whisper_answer() -> Response:
    """The engineer's key: 1 bridges the call; anything else passes it on."""
    found = _dialled_call()
    accepted = False
    if found is not None:
        call, target = found
        accepted = calls.take_whisper_answer(db(), call, target_index=target, digits=_param("Digits", 32), now=current_clock())
    return _twiml(twiml.whisper_answer(accepted))


@bp.post("/recorded")
@signed_by_twilio
def recorded() -> Response:
    """The caller's voicemail is recorded: it goes on the ticket."""
    call = _call_or_fallback()
    if isinstance(call, Response):
        return call
    calls.take_recording(
        db(),
        call,
        seq=request.args.get("n"),
        recording_url=_param("RecordingUrl"),
        seconds=_seconds_param("RecordingDuration"),
        now=current_clock(),
        line=_line(),
    )
    return _render(call)


@bp.post("/transcript")
@signed_by_twilio
def transcript() -> Response:
    """Twilio's transcription of a voicemail: onto the ticket."""
    call = live_call.find(db(), _call_sid(request.args.get("call") or _param("CallSid")) or "")
    if call is not None:
        calls.take_transcript(
            db(), call, text=_param("TranscriptionText", 20000), status=_param("TranscriptionStatus", 32), now=current_clock()
        )
    return _twiml(VoiceResponse())


@bp.post("/status")
@signed_by_twilio
def status() -> Response:
    """Twilio's status callback: the call ended; close its log row."""
    sid = _call_sid(_param("CallSid"))
    if sid is not None:
        calls.close_call(
            db(),
            call_sid=sid,
            call_status=_param("CallStatus", 16) or "completed",
            duration=_seconds_param("CallDuration"),
            from_number=_param("From", 64),
            to_number=_param("To", 64),
            now=current_clock(),
            line=_line(),
        )
        _replay_some_of_the_spool()
    return _twiml(VoiceResponse())


def _replay_some_of_the_spool() -> None:
    """The database answered, so voicemails kept while it was down can go onto tickets now.

    Done here, after a call has ended, because nobody is waiting on the line; and here
    rather than in a worker because the spool is on this web host's own disk.
    """
    spool_dir = current_settings().spool_dir
    if not spooled_entries(spool_dir):
        return
    try:
        replay_spool(db(), spool_dir, _line(), limit=SPOOL_ENTRIES_PER_CALLBACK)
    except Exception:
        log.exception("replaying the spool failed; the entries stay for the next try")
        db().rollback()


# ------------------------------------------------------------------ engineer callbacks


def _callback_or_goodbye() -> tuple | Response:
    found = callback.callback_ticket(db(), request.args.get("notification"))
    if found is None:
        return _twiml(twiml.goodbye(prompts.CALLBACK_UNAVAILABLE))
    return found


def _callback_call_or_goodbye() -> tuple | Response:
    """The callback request, its ticket and the engineer's call already logged; else a goodbye."""
    found = _callback_or_goodbye()
    if isinstance(found, Response):
        return found
    call = callback.find_call(db(), _call_sid(_param("CallSid")) or "")
    if call is None:
        return _twiml(twiml.goodbye(prompts.CALLBACK_UNAVAILABLE))
    return (*found, call)


@bp.post("/engineer-callback")
@signed_by_twilio
def engineer_callback() -> Response:
    """The engineer answered the line's call: offer to dial the customer."""
    found = _callback_or_goodbye()
    if isinstance(found, Response):
        return found
    notification, ticket = found
    sid = _call_sid(_param("CallSid"))
    if sid is None:
        return _twiml(twiml.goodbye(prompts.CALLBACK_UNAVAILABLE))
    callback.engineer_answered(db(), call_sid=sid, notification=notification, ticket=ticket,
                               from_number=_param("From", 64), to_number=_param("To", 64), now=current_clock())
    answer_url = url_for("ivr.engineer_callback_answer", notification=notification.id)
    return _twiml(callback.offer(ticket, answer_url))


@bp.post("/engineer-callback/answer")
@signed_by_twilio
def engineer_callback_answer() -> Response:
    """The engineer's key: 1 dials the customer from the support number."""
    found = _callback_call_or_goodbye()
    if isinstance(found, Response):
        return found
    notification, ticket, call = found
    settings = current_settings()
    result_url = url_for("ivr.engineer_callback_result", notification=notification.id)
    return _twiml(callback.engineer_pressed(db(), call, ticket, _param("Digits", 32), settings.twilio_phone_number,
                                            settings.phone_region, result_url, current_clock()))


@bp.post("/engineer-callback/result")
@signed_by_twilio
def engineer_callback_result() -> Response:
    """The customer leg ended."""
    found = _callback_call_or_goodbye()
    if isinstance(found, Response):
        return found
    notification, ticket, call = found
    return _twiml(callback.customer_call_ended(
        db(), call, ticket, notification.recipient or notification.to_number, _param("DialCallStatus", 32) or "",
        _param("DialCallSid", 64), _seconds_param("DialCallDuration"), current_clock()))


@bp.post("/engineer-callback/status")
@signed_by_twilio
def engineer_callback_status() -> Response:
    """The callback call's status callback: close its row, even if the engineer never answered."""
    found = callback.callback_ticket(db(), request.args.get("notification"))
    sid = _call_sid(_param("CallSid"))
    if found is not None and sid is not None:
        notification, ticket = found
        callback.callback_call_ended(
            db(), call_sid=sid, notification=notification, ticket=ticket,
            call_status=_param("CallStatus", 16) or "completed", duration=_seconds_param("CallDuration"),
            from_number=_param("From", 64), to_number=_param("To", 64), now=current_clock())
    return _twiml(VoiceResponse())


# ------------------------------------------------------------------ the database-free path


@bp.post("/fallback")
@signed_by_twilio
def fallback() -> Response:
    """Twilio's "Primary handler fails" URL: answer without the database."""
    _spool("fallback_call")
    return _fallback_twiml()


@bp.post("/fallback/dialed")
@signed_by_twilio
def fallback_dialed() -> Response:
    """After ringing the fallback number: done if answered, else a spooled voicemail."""
    if _param("DialCallStatus", 32) == "completed":
        _spool("fallback_dial")
        return _twiml(twiml.goodbye(prompts.CONNECTED_GOODBYE))
    return _twiml(twiml.fallback_voicemail(_fallback_links()))


@bp.post("/fallback/recorded")
@signed_by_twilio
def fallback_recorded() -> Response:
    """A voicemail left while the database was down: into the spool."""
    if _param("RecordingUrl"):
        _spool("voicemail")
    return _twiml(twiml.goodbye(prompts.FALLBACK_THANKS))


@bp.post("/fallback/transcript")
@signed_by_twilio
def fallback_transcript() -> Response:
    """The transcript of a spooled voicemail: into the spool too."""
    _spool("transcript")
    return _twiml(VoiceResponse())


@bp.cli.command("replay-spool")
@with_appcontext
def replay_spool_command() -> None:
    """Move voicemails and steps kept while the database was down into the call log."""
    count = replay_spool(db(), current_settings().spool_dir, _line())
    click.echo(f"replayed {count} spooled entries")
