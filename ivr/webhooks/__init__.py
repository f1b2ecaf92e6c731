"""Twilio's voice webhooks (contract §1), under `/ivr`, in three families: the caller's
call (`caller`), engineer callbacks (`engineer_callback`) and the database-free path
(`fallback`). What they share, the signature check and the never-500 failure path, is
`signed`. This module holds the blueprint and its URL map.
"""

from __future__ import annotations

from flask import Blueprint, Response
from werkzeug.exceptions import HTTPException

from ivr.webhooks import caller, engineer_callback, fallback
from ivr.webhooks.signed import failed

bp = Blueprint("ivr", __name__, url_prefix="/ivr")

ROUTES = (
    ("/voice", caller.voice),
    ("/gather", caller.gather),
    ("/dial-result", caller.dial_result),
    ("/whisper", caller.whisper),
    ("/whisper-answer", caller.whisper_answer),
    ("/recorded", caller.recorded),
    ("/transcript", caller.transcript),
    ("/status", caller.status),
    ("/engineer-callback", engineer_callback.engineer_callback),
    ("/engineer-callback/answer", engineer_callback.engineer_callback_answer),
    ("/engineer-callback/result", engineer_callback.engineer_callback_result),
    ("/engineer-callback/status", engineer_callback.engineer_callback_status),
    ("/fallback", fallback.fallback),
    ("/fallback/dialed", fallback.fallback_dialed),
    ("/fallback/recorded", fallback.fallback_recorded),
    ("/fallback/transcript", fallback.fallback_transcript),
)
for rule, view in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=["POST"])


@bp.errorhandler(Exception)
def _failed_outside_a_view(error: Exception) -> Response | HTTPException:
    """What fails before a view runs (a request hook, say) still answers the caller's fallback."""
    if isinstance(error, HTTPException):
        return error
    return failed(fallback.fallback_twiml)
