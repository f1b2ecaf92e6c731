"""A phone that plays Twilio against a support line.

The line is a set of Twilio voice webhooks answering TwiML. `place_call` does what Twilio does
when somebody rings the number: it posts the signed "A call comes in" request, executes the
TwiML it gets back verb by verb, follows every URL the TwiML names (Gather/Record/Dial actions,
`<Number url>` whisper documents, `<Redirect>`, recording and transcription callbacks) and ends
with the "Call status changes" callback. It knows no other URL of the line.

Who is on the line is pluggable: a `Caller` answers Gathers and Records, `Engineers` pick up (or
not) the numbers the line dials. `ScriptedCaller` and `ScriptedEngineers` drive tests; a
terminal phone can implement the same small protocols by reading the keyboard.

Requests travel through a `Transport`: `FlaskClientTransport` for the test client,
`HttpTransport` for a line served over real HTTP.

The modules: `errors` (what the phone raises), `parties` (who is on the line and what they
answer), `transports` (signed requests and how they travel), `twiml` (reading the line's
answers), `call` (the call itself and its record), `sms` (a message to the line).
"""

from phonesim.call import CallRecord, DialAttempt, Exchange, Recording, place_call, report_hang_up
from phonesim.errors import PhoneError, ScriptExhausted, TooManySteps, TwimlError, WebhookError
from phonesim.parties import (
    DTMF_KEYS,
    HANGUP,
    SILENCE,
    Answer,
    Caller,
    Engineer,
    Engineers,
    GatherPrompt,
    RecordPrompt,
    ScriptedCaller,
    ScriptedEngineer,
    ScriptedEngineers,
    Signal,
    Speech,
    Voicemail,
)
from phonesim.sms import send_sms
from phonesim.transports import FlaskClientTransport, HttpTransport, Reply, Transport, new_sid

__all__ = [
    "DTMF_KEYS",
    "HANGUP",
    "SILENCE",
    "Answer",
    "CallRecord",
    "Caller",
    "DialAttempt",
    "Engineer",
    "Engineers",
    "Exchange",
    "FlaskClientTransport",
    "GatherPrompt",
    "HttpTransport",
    "PhoneError",
    "RecordPrompt",
    "Recording",
    "Reply",
    "ScriptExhausted",
    "ScriptedCaller",
    "ScriptedEngineer",
    "ScriptedEngineers",
    "Signal",
    "Speech",
    "TooManySteps",
    "Transport",
    "TwimlError",
    "Voicemail",
    "WebhookError",
    "new_sid",
    "place_call",
    "report_hang_up",
    "send_sms",
]
