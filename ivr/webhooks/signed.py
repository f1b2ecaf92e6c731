"""What every Twilio voice webhook shares: the signature check, reading its parameters,
answering TwiML, and what happens when handling one fails.

Contract §1: a webhook never answers 500. Each view says, with `@webhook(answer)`, what its
family answers when anything goes wrong (a database error, a bug): the caller's fallback,
a goodbye to an engineer, or an empty document for a status callback. Whatever failed,
the request's own parameters are spooled first, so nothing the caller said is lost.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Response, request
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from core.clock import current_clock
from core.db import db
from core.settings import current_settings
from ivr.calls import Line, whole_seconds
from ivr.models import CALL_SID
from ivr.signature import signed_by_twilio
from ivr.spool import spool_request

log = logging.getLogger(__name__)

MAX_PARAM_LENGTH = 500

Answer = Callable[[], Response]


def twiml_response(response: VoiceResponse) -> Response:
    """A TwiML document as Twilio wants it."""
    return Response(str(response), mimetype="text/xml")


def nothing_to_say() -> Response:
    """The answer to a callback whose document Twilio ignores (status, transcription)."""
    return twiml_response(VoiceResponse())


def line() -> Line:
    """The support line as this process's settings describe it."""
    return Line.of(current_settings())


def param(name: str, limit: int = MAX_PARAM_LENGTH) -> str | None:
    """A form parameter, stripped; None when absent or empty. Overlong values are cut."""
    value = request.form.get(name, "").strip()
    return value[:limit] or None


def seconds_param(name: str) -> int | None:
    """A parameter that counts seconds (`RecordingDuration`, `CallDuration`), or None."""
    return whole_seconds(param(name, 32))


def call_sid(value: str | None) -> str | None:
    """`value` if it is a well-formed CallSid, else None."""
    return value if value and CALL_SID.fullmatch(value) else None


def spool_this_request(kind: str) -> None:
    """Keep this request's parameters on the local disk, for `ivr.spool.replay_spool`."""
    # The full path keeps the query (step and sequence), so replayed keys land where they were pressed.
    spool_request(current_settings().spool_dir, kind, request.full_path, request.form.to_dict(), current_clock())


def failed(answer: Answer) -> Response:
    """Log the failure, roll back, spool what Twilio sent, and answer with `answer`."""
    log.exception("webhook %s failed; answering with the fallback", request.path)
    try:
        db().rollback()
    except Exception:  # the database may be the thing that is down
        log.warning("rollback after a failed webhook failed too", exc_info=True)
    kind = "voicemail" if request.form.get("RecordingUrl") else "transcript" if request.form.get("TranscriptionText") else "webhook"
    try:
        spool_this_request(kind)
    except OSError:  # a full or broken disk must not turn the answer into a 500 as well
        log.exception("spooling the failed webhook %s failed too", request.path)
    return answer()


def webhook(answer_on_failure: Answer) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """A Twilio webhook: signed (403 otherwise), and answered by `answer_on_failure` if it fails."""

    def wrap(view: Callable[..., Response]) -> Callable[..., Response]:
        checked = signed_by_twilio(view)

        @functools.wraps(view)
        def run(*args: Any, **kwargs: Any) -> Response:
            try:
                return checked(*args, **kwargs)
            except HTTPException:
                raise
            except Exception:
                return failed(answer_on_failure)

        return run

    return wrap
