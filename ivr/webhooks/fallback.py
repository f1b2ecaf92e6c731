"""The database-free path: Twilio's "Primary handler fails" URL, and what any caller
webhook answers when it fails. The fallback number is rung, else a voicemail is recorded
into the local spool, and each request's parameters are spooled.
"""

from __future__ import annotations

from flask import Response, url_for

from core.settings import current_settings
from ivr import prompts, twiml
from ivr.webhooks.signed import nothing_to_say, param, spool_this_request, twiml_response, webhook


def _links() -> twiml.FallbackLinks:
    return twiml.FallbackLinks(
        dialed=url_for("ivr.fallback_dialed"),
        recorded=url_for("ivr.fallback_recorded"),
        transcript=url_for("ivr.fallback_transcript", _external=True),
    )


def fallback_twiml() -> Response:
    """Ring the fallback number (when set), else take a voicemail into the spool."""
    return twiml_response(twiml.fallback(current_settings().fallback_number, _links()))


@webhook(fallback_twiml)
def fallback() -> Response:
    """Twilio's "Primary handler fails" URL: answer without the database."""
    spool_this_request("fallback_call")
    return fallback_twiml()


@webhook(fallback_twiml)
def fallback_dialed() -> Response:
    """After ringing the fallback number: done if answered, else a spooled voicemail."""
    if param("DialCallStatus", 32) == "completed":
        spool_this_request("fallback_dial")
        return twiml_response(twiml.goodbye(prompts.CONNECTED_GOODBYE))
    return twiml_response(twiml.fallback_voicemail(_links()))


@webhook(fallback_twiml)
def fallback_recorded() -> Response:
    """A voicemail left while the database was down: into the spool."""
    if param("RecordingUrl"):
        spool_this_request("voicemail")
    return twiml_response(twiml.goodbye(prompts.FALLBACK_THANKS))


@webhook(nothing_to_say)
def fallback_transcript() -> Response:
    """The transcript of a spooled voicemail: into the spool too."""
    spool_this_request("transcript")
    return nothing_to_say()
