"""A tiny signature-checking support line to play the phone against, and the helpers that ring it.

`make_line()` serves the documents of `LINE` (each overridable per test) and refuses any request
whose X-Twilio-Signature does not match; every request it accepted is in `app.hits`.
"""

import re
from dataclasses import dataclass

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

from phonesim import FlaskClientTransport, ScriptedCaller, place_call

TOKEN = "test-auth-token"
BASE = "https://line.example.com"
ENGINEER = "+14155550123"
CALLER = "+14155550100"
LINE_NUMBER = "+18005550199"
CALL_SID = re.compile(r"^CA[0-9a-f]{32}$")
EMPTY = "<Response/>"


def xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def no_content(values) -> Response:
    return Response("", 204)


def menu(values):
    choice = values.get("Digits")
    if choice == "1":
        return "<Response><Redirect>support</Redirect></Response>"
    if choice == "2":
        return "<Response><Redirect>voicemail</Redirect></Response>"
    return "<Response><Say>Not an option.</Say><Redirect>voice</Redirect></Response>"


def whisper_answer(values):
    if values.get("Digits") == "1":
        return "<Response><Say>Connecting.</Say></Response>"
    return "<Response><Hangup/></Response>"


def dial_done(values):
    if values.get("DialBridged") == "true":
        return "<Response><Say>Thanks for calling.</Say><Hangup/></Response>"
    return "<Response><Say>Nobody is available.</Say><Redirect>voicemail</Redirect></Response>"


# A small support line: menu, whisper-screened dial, voicemail with transcription.
LINE = {
    "/ivr/voice": (
        "<Response><Say>Welcome to the test line.</Say>"
        '<Gather numDigits="1" action="menu" timeout="3"><Say>Press 1 for support, 2 for voicemail.</Say></Gather>'
        "<Say>We did not hear you. Goodbye.</Say><Hangup/></Response>"
    ),
    "/ivr/menu": menu,
    "/ivr/support": (
        f'<Response><Dial action="dial-done" timeout="20" callerId="{LINE_NUMBER}">'
        f'<Number url="whisper">{ENGINEER}</Number></Dial></Response>'
    ),
    "/ivr/whisper": (
        '<Response><Gather numDigits="1" action="whisper-answer" timeout="5">'
        "<Say>Support call from the test line. Press 1 to accept.</Say></Gather>"
        "<Say>No answer. Goodbye.</Say><Hangup/></Response>"
    ),
    "/ivr/whisper-answer": whisper_answer,
    "/ivr/dial-done": dial_done,
    "/ivr/voicemail": (
        "<Response><Say>Leave a message after the beep.</Say>"
        '<Record action="recorded" maxLength="60" transcribe="true" transcribeCallback="transcribed" '
        'recordingStatusCallback="recording-status"/>'
        "<Say>We got nothing.</Say><Hangup/></Response>"
    ),
    "/ivr/recorded": "<Response><Say>Thank you. Goodbye.</Say><Hangup/></Response>",
    "/ivr/transcribed": no_content,
    "/ivr/recording-status": no_content,
    "/ivr/status": no_content,
    "/sms": lambda values: f"<Response><Message>Got: {values['Body']}</Message></Response>",
}


@dataclass
class Hit:
    method: str
    path: str
    url: str
    values: dict


def make_line(**overrides) -> Flask:
    """The test line; `overrides` maps a path (underscores for slashes) to TwiML or a handler."""
    docs = dict(LINE)
    docs.update({"/" + name.replace("__", "/").replace("_", "-"): doc for name, doc in overrides.items()})
    app = Flask(__name__)
    app.hits = []
    validator = RequestValidator(TOKEN)

    @app.route("/<path:path>", methods=["GET", "POST"])
    def webhook(path):
        params = request.form.to_dict() if request.method == "POST" else {}
        if not validator.validate(request.url, params, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        values = request.values.to_dict()
        app.hits.append(Hit(request.method, "/" + path, request.url, values))
        doc = docs.get("/" + path)
        if doc is None:
            abort(404)
        result = doc(values) if callable(doc) else doc
        return result if isinstance(result, Response) else xml(result)

    return app


def call(app, answers=(), engineers=None, *, voice_url=f"{BASE}/ivr/voice", transport=None, **kwargs):
    caller = answers if hasattr(answers, "answer_gather") else ScriptedCaller(answers)
    return place_call(
        voice_url=voice_url,
        status_callback_url=f"{BASE}/ivr/status",
        auth_token=TOKEN,
        transport=transport or FlaskClientTransport(app.test_client()),
        caller=caller,
        engineers=engineers,
        **kwargs,
    )


def paths(app) -> list[str]:
    return [hit.path for hit in app.hits]


def hit(app, path: str) -> dict:
    found = [h.values for h in app.hits if h.path == path]
    assert len(found) == 1, f"{path} was requested {len(found)} times: {paths(app)}"
    return found[0]
