"""The call itself: Twilio's side of a call, executing the line's TwiML verb by verb for both legs.

`place_call` rings the line and plays the call to its end; the `CallRecord` it returns holds every
request, what the caller heard, each <Dial> and each voicemail. Time on the call is simulated: each
sentence, key, ring and silence moves a clock that only CallDuration and DialCallDuration read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import NamedTuple
from urllib.parse import urljoin

from phonesim.errors import PhoneError, TooManySteps, TwimlError
from phonesim.parties import (
    HANGUP,
    SILENCE,
    UNANSWERED_STATUSES,
    Answer,
    Caller,
    Engineer,
    Engineers,
    GatherPrompt,
    RecordPrompt,
    ScriptedEngineers,
    Speech,
    Voicemail,
    check_answer,
)
from phonesim.transports import (
    API_VERSION,
    DEFAULT_ACCOUNT_SID,
    Reply,
    Transport,
    check_status,
    new_sid,
    signed_request,
)
from phonesim.twiml import bool_attr, int_attr, method_attr, text_of, twiml_of

TWILIO_API = "https://api.twilio.com/2010-04-01"

# How the call ended, as CallRecord.ended_by reports it.
HANGUP_VERB = "hangup-verb"
CALLER_HANGUP = "caller-hangup"
NO_MORE_VERBS = "no-more-verbs"
REJECT = "reject"

# The simulated clock. Only CallDuration and DialCallDuration read it, so round numbers do.
SECONDS_PER_SENTENCE = 1
SECONDS_PER_KEY = 1
SECONDS_PER_PLAY = 5
SECONDS_OF_SPEECH = 2
SECONDS_OF_RINGING = 4
SECONDS_OF_BEEP = 1


class Exchange(NamedTuple):
    """One request the phone made and the line's answer."""

    url: str
    params: dict[str, str]
    status: int
    body: str


@dataclass
class DialAttempt:
    """One <Dial>: who was rung, what they heard and did, and what Twilio reported."""

    number: str
    behaviour: str
    dial_call_status: str
    bridged: bool
    whisper: str = ""
    dial_call_sid: str = ""


@dataclass
class Recording:
    """A voicemail left at a <Record>."""

    sid: str
    url: str
    duration: int
    text: str
    digits: str = ""
    transcribed: bool = False


@dataclass
class CallRecord:
    """Everything that happened on one call."""

    call_sid: str
    heard: list[str] = field(default_factory=list)
    played: list[str] = field(default_factory=list)
    requests: list[Exchange] = field(default_factory=list)
    dials: list[DialAttempt] = field(default_factory=list)
    recordings: list[Recording] = field(default_factory=list)
    ended_by: str = ""
    status: str = ""
    duration: int = 0
    last_twiml: str = ""
    events: list[str] = field(default_factory=list)

    def requests_to(self, url_prefix: str) -> list[Exchange]:
        """The requests whose URL starts with `url_prefix`."""
        return [r for r in self.requests if r.url.startswith(url_prefix)]

    def transcript(self) -> str:
        """The call as a human-readable log, one event a line."""
        return "\n".join(self.events)


def _sentences(text: str) -> int:
    return max(1, len([s for s in re.split(r"[.!?]+", text) if s.strip()]))


@dataclass
class _Goto:
    """Fetch the next document: where execution continues after an action or a redirect."""

    url: str
    method: str
    params: dict[str, str]


@dataclass
class _Document:
    url: str
    root: ET.Element
    body: str


@dataclass
class _Leg:
    """One call leg: the caller's (parent) or an engineer's whisper leg (child)."""

    sid: str
    base: dict[str, str]  # params on every request of this leg, CallStatus aside
    party: Caller | Engineer
    child: bool = False
    status: str = "ringing"
    heard: list[str] = field(default_factory=list)

    @property
    def who(self) -> str:
        return "  ENGINEER" if self.child else "CALLER"

    @property
    def speaker(self) -> str:
        return "  WHISPER" if self.child else "LINE"


class _Call:
    """Twilio's side of one call: fetches TwiML and executes it for both legs."""

    def __init__(
        self,
        *,
        auth_token: str,
        transport: Transport,
        caller: Caller,
        engineers: Engineers | None,
        base: dict[str, str],
        status_callback_url: str | None,
        max_requests: int,
    ):
        self.auth_token = auth_token
        self.transport = transport
        self.engineers = engineers
        self.status_callback_url = status_callback_url
        self.max_requests = max_requests
        self.record = CallRecord(call_sid=base["CallSid"])
        self.parent = _Leg(sid=base["CallSid"], base=base, party=caller)
        self.clock = 0
        self.answered_at: int | None = None
        self.reject_reason = ""
        self.started = datetime.now(timezone.utc)
        # Twilio sends recording-status and transcription callbacks asynchronously, after a short
        # voicemail call has normally ended; they go out after the status callback.
        self.deferred: list[_Goto] = []

    # requests

    def _send(self, url: str, method: str, params: dict[str, str]) -> Reply:
        if len(self.record.requests) >= self.max_requests:
            last = self.record.requests[-1].url
            raise TooManySteps(f"more than {self.max_requests} requests; the last went to {last}")
        url, reply = signed_request(self.transport, self.auth_token, method, url, params)
        self.record.requests.append(Exchange(url, dict(params), reply.status, reply.body))
        return check_status(url, reply)

    def _params(self, leg: _Leg, extra: dict[str, str]) -> dict[str, str]:
        return {**leg.base, "CallStatus": leg.status, **extra}

    def _fetch(self, leg: _Leg, goto: _Goto) -> _Document:
        reply = self._send(goto.url, goto.method, self._params(leg, goto.params))
        root = twiml_of(goto.url, reply)
        if not leg.child:
            self.record.last_twiml = reply.body
        return _Document(goto.url, root, reply.body)

    # execution

    def _log(self, line: str) -> None:
        self.record.events.append(line)

    def _answer(self, leg: _Leg) -> None:
        """Twilio picks up a ringing call when a verb first needs the line."""
        if leg.status == "ringing":
            leg.status = "in-progress"
            if not leg.child:
                self.answered_at = self.clock

    def _run_leg(self, leg: _Leg, goto: _Goto) -> str:
        """Execute documents on `leg` until it ends; returns how it ended."""
        while True:
            document = self._fetch(leg, goto)
            for verb in document.root:
                outcome = self._perform(verb, leg, document)
                if isinstance(outcome, _Goto):
                    goto = outcome
                    break
                if outcome is not None:
                    return outcome
            else:
                return NO_MORE_VERBS

    def _perform(self, verb: ET.Element, leg: _Leg, document: _Document) -> _Goto | str | None:
        handler = {
            "Say": self._say,
            "Play": self._play,
            "Pause": self._pause,
            "Gather": self._gather,
            "Redirect": self._redirect,
            "Hangup": self._hangup,
            "Reject": self._reject,
            "Dial": self._dial,
            "Record": self._record,
        }.get(verb.tag)
        if handler is None:
            raise TwimlError(f"<{verb.tag}> is not a voice verb this phone executes")
        return handler(verb, leg, document)

    def _say(self, verb: ET.Element, leg: _Leg, document: _Document) -> None:
        text = text_of(verb)
        if not text:
            return None  # Twilio treats an empty <Say> like a <Pause>: it does not answer the call
        self._answer(leg)
        leg.heard.append(text)
        if not leg.child:
            self.record.heard.append(text)
        leg.party.hear(text)
        self._log(f"{leg.speaker}: {text}")
        self.clock += _sentences(text) * SECONDS_PER_SENTENCE * max(1, int_attr(verb, "loop", 1))
        return None

    def _play(self, verb: ET.Element, leg: _Leg, document: _Document) -> None:
        url = text_of(verb)
        self._answer(leg)
        if not leg.child:
            self.record.played.append(url)
        self._log(f"{leg.speaker} plays {url}")
        self.clock += SECONDS_PER_PLAY
        return None

    def _pause(self, verb: ET.Element, leg: _Leg, document: _Document) -> None:
        seconds = int_attr(verb, "length", 1)
        self._log(f"{leg.speaker} pauses {seconds}s")
        self.clock += seconds
        return None

    def _redirect(self, verb: ET.Element, leg: _Leg, document: _Document) -> _Goto:
        target = text_of(verb)
        if not target:
            raise TwimlError("<Redirect> needs a URL")
        return _Goto(urljoin(document.url, target), method_attr(verb), {})

    def _hangup(self, verb: ET.Element, leg: _Leg, document: _Document) -> str:
        self._answer(leg)
        self._log(f"{leg.speaker} hangs up")
        return HANGUP_VERB

    def _reject(self, verb: ET.Element, leg: _Leg, document: _Document) -> str:
        reason = verb.get("reason", "rejected")
        if leg.status == "ringing" and not leg.child:
            self.reject_reason = reason
        self._log(f"{leg.speaker} rejects the call ({reason})")
        return REJECT

    def _gather(self, verb: ET.Element, leg: _Leg, document: _Document) -> _Goto | str | None:
        inputs = frozenset((verb.get("input") or "dtmf").split())
        if not inputs or not inputs <= {"dtmf", "speech"}:
            raise TwimlError(f"<Gather input={verb.get('input')!r}> must be dtmf, speech or both")
        num_digits = int_attr(verb, "numDigits", None)
        action = urljoin(document.url, verb.get("action") or document.url)
        method = method_attr(verb)
        self._answer(leg)
        said = []
        for nested in verb:
            if nested.tag not in ("Say", "Play", "Pause"):
                raise TwimlError(f"<{nested.tag}> cannot be nested in <Gather>")
            self._perform(nested, leg, document)
            if nested.tag == "Say" and text_of(nested):
                said.append(text_of(nested))
        prompt = GatherPrompt(
            said=" ".join(said),
            inputs=inputs,
            num_digits=num_digits,
            finish_on_key=verb.get("finishOnKey", "#"),
            timeout=int_attr(verb, "timeout", 5),
        )
        answer = check_answer(leg.party.answer_gather(prompt))
        if answer is HANGUP:
            self._log(f"{leg.who} hangs up")
            return CALLER_HANGUP
        params = self._gathered(answer, prompt, leg)
        if params is not None:
            return _Goto(action, method, params)
        if bool_attr(verb, "actionOnEmptyResult", False):
            return _Goto(action, method, {})
        return None  # no input: Twilio falls through to the next verb

    def _gathered(self, answer: Answer, prompt: GatherPrompt, leg: _Leg) -> dict[str, str] | None:
        """The action params for `answer`, or None when the Gather got no input it listens for."""
        if isinstance(answer, Voicemail):
            raise TypeError("a Voicemail answers a <Record>, not a <Gather>")
        if isinstance(answer, Speech):
            ignored = "" if prompt.accepts_speech else " (the gather only listens for keys)"
            self._log(f'{leg.who} says "{answer.text}"{ignored}')
            self.clock += SECONDS_OF_SPEECH
            if not prompt.accepts_speech:
                self.clock += prompt.timeout
                return None
            return {"SpeechResult": answer.text, "Confidence": str(answer.confidence)}
        if answer is SILENCE or answer == "":
            self._log(f"{leg.who} stays silent")
            self.clock += prompt.timeout
            return None
        ignored = "" if prompt.accepts_digits else " (the gather only listens for speech)"
        self._log(f"{leg.who} presses {answer}{ignored}")
        if not prompt.accepts_digits:
            self.clock += len(answer) * SECONDS_PER_KEY + prompt.timeout
            return None
        digits, finished_on_key, ended_early = self._collect(answer, prompt)
        if not ended_early:
            self.clock += prompt.timeout  # input ends when the caller stops pressing keys
        # Since 2024-02-09 a bare finishOnKey ends the Gather too (TwiML changelog), so Digits may be "".
        return {"Digits": digits, "FinishedOnKey": finished_on_key}

    def _collect(self, keys: str, prompt: GatherPrompt) -> tuple[str, str, bool]:
        """Digits kept, the finishOnKey pressed (or ""), and whether a key or numDigits ended input."""
        digits = ""
        for key in keys:
            self.clock += SECONDS_PER_KEY
            if prompt.finish_on_key and key in prompt.finish_on_key:
                return digits, key, True
            digits += key
            if prompt.num_digits and len(digits) >= prompt.num_digits:
                return digits, "", True
        return digits, "", False

    def _dial(self, verb: ET.Element, leg: _Leg, document: _Document) -> _Goto | None:
        if leg.child:
            raise TwimlError("<Dial> is not allowed in a <Number url> document")
        number, whisper_url, whisper_method = self._dialled(verb, document)
        answer_on_bridge = bool_attr(verb, "answerOnBridge", False)
        if not answer_on_bridge:
            self._answer(leg)
        dial_sid = new_sid("CA")
        self._log(f"DIAL {number}")
        ring_seconds = int_attr(verb, "timeout", 30)
        picked = self.engineers.ring(number, ring_seconds) if self.engineers else "no-answer"
        if isinstance(picked, str):
            if picked not in UNANSWERED_STATUSES:
                raise ValueError(f"an unanswered ring must be one of {UNANSWERED_STATUSES}, got {picked!r}")
            self.clock += ring_seconds if picked == "no-answer" else 1
            attempt = DialAttempt(number, picked, picked, bridged=False, dial_call_sid=dial_sid)
            params = {"DialCallStatus": picked, "DialCallSid": dial_sid, "DialBridged": "false"}
        else:
            attempt, params = self._connect(picked, number, dial_sid, verb, whisper_url, whisper_method)
            if attempt.bridged and answer_on_bridge:
                self._answer(leg)
        self.record.dials.append(attempt)
        self._log(f"DIAL {number} → {_describe(attempt)}")
        if verb.get("action"):
            return _Goto(urljoin(document.url, verb.get("action")), method_attr(verb), params)
        return None  # without an action Twilio goes on with the next verb

    def _dialled(self, verb: ET.Element, document: _Document) -> tuple[str, str | None, str]:
        nouns = list(verb)
        if not nouns:
            number = text_of(verb)
            if not number:
                raise TwimlError("<Dial> has no number")
            return number, None, "POST"
        unsupported = [n.tag for n in nouns if n.tag != "Number"]
        if unsupported:
            raise TwimlError(f"<Dial><{unsupported[0]}> is not supported by this phone")
        if len(nouns) > 1:
            raise TwimlError("this phone dials one <Number> per <Dial>")
        noun = nouns[0]
        url = noun.get("url")
        return text_of(noun), urljoin(document.url, url) if url else None, method_attr(noun)

    def _connect(
        self, engineer: Engineer, number: str, dial_sid: str, verb: ET.Element, whisper_url: str | None, method: str
    ) -> tuple[DialAttempt, dict[str, str]]:
        """The engineer picked up: play them the whisper, then bridge unless it hung up."""
        self.clock += SECONDS_OF_RINGING
        picked_up_at = self.clock
        caller_id = verb.get("callerId") or self.parent.base["From"]
        child = _Leg(
            sid=dial_sid,
            base={
                "AccountSid": self.parent.base["AccountSid"],
                "ApiVersion": API_VERSION,
                "CallSid": dial_sid,
                "ParentCallSid": self.parent.sid,
                "Direction": "outbound-dial",
                "From": caller_id,
                "To": number,
                "Caller": caller_id,
                "Called": number,
            },
            party=engineer,
            child=True,
            status="in-progress",
        )
        # The whisper bridges the call when its TwiML runs out of verbs; a <Hangup>/<Reject> in it,
        # or the engineer hanging up, drops the engineer. Twilio then still reports
        # DialCallStatus=completed (it was "no-answer" before the 2020-12-09 <Dial> change) and
        # tells the two apart with DialBridged=true|false. Source: Twilio TwiML changelog,
        # https://www.twilio.com/docs/voice/twiml/changelog, entry 2020.12.09: "In case of <Hangup>
        # or <Reject> in screening URL, DialCallStatus will be set to completed, previously it was
        # set to no-answer" and "A new action callback parameter DialBridged ... true only if the
        # call was bridged with the parent".
        bridged = True
        if whisper_url:
            bridged = self._run_leg(child, _Goto(whisper_url, method, {})) == NO_MORE_VERBS
        if bridged:
            self.clock += engineer.talk_seconds
        attempt = DialAttempt(
            number,
            engineer.label,
            "completed",
            bridged=bridged,
            whisper=" ".join(child.heard),
            dial_call_sid=dial_sid,
        )
        params = {
            "DialCallStatus": "completed",
            "DialCallSid": dial_sid,
            "DialCallDuration": str(self.clock - picked_up_at),
            "DialBridged": "true" if bridged else "false",
        }
        return attempt, params

    def _record(self, verb: ET.Element, leg: _Leg, document: _Document) -> _Goto | str | None:
        if leg.child:
            raise TwimlError("<Record> in a <Number url> document is not supported by this phone")
        prompt = RecordPrompt(
            max_length=int_attr(verb, "maxLength", 3600),
            finish_on_key=verb.get("finishOnKey", "1234567890*#"),
            timeout=int_attr(verb, "timeout", 5),
            play_beep=bool_attr(verb, "playBeep", True),
            transcribe=bool_attr(verb, "transcribe", False),
        )
        self._answer(leg)
        if prompt.play_beep:
            self._log(f"{leg.speaker}: *beep*")
            self.clock += SECONDS_OF_BEEP
        answer = check_answer(leg.party.answer_record(prompt))
        if answer is HANGUP:
            self._log(f"{leg.who} hangs up")
            return CALLER_HANGUP
        if isinstance(answer, Speech):
            raise TypeError("Speech answers a <Gather>; leave a Voicemail at a <Record>")
        if not isinstance(answer, Voicemail):
            # Twilio makes no action request for an empty recording and goes on with the next verb.
            self._log(f"{leg.who} leaves no message")
            self.clock += prompt.timeout
            return None
        return self._voicemail(answer, prompt, verb, leg, document)

    def _voicemail(
        self, message: Voicemail, prompt: RecordPrompt, verb: ET.Element, leg: _Leg, document: _Document
    ) -> _Goto | str:
        seconds = min(message.seconds, prompt.max_length)
        self.clock += seconds
        digits = ""
        if message.hang_up:
            digits = "hangup"
        elif message.key and message.key in prompt.finish_on_key:
            digits = message.key
        elif seconds < prompt.max_length:
            self.clock += prompt.timeout  # the silence timeout ends the recording
        sid = new_sid("RE")
        url = f"{TWILIO_API}/Accounts/{leg.base['AccountSid']}/Recordings/{sid}"
        transcribe_callback = verb.get("transcribeCallback")
        # Since 2024-08-05 a transcribeCallback alone no longer asks for a transcription: Twilio
        # needs transcribe="true" too (TwiML changelog).
        transcribed = prompt.transcribe and bool(transcribe_callback)
        self.record.recordings.append(Recording(sid, url, seconds, message.text, digits, transcribed))
        ending = {"hangup": " and hangs up", "": ""}.get(digits, f" and presses {digits}")
        self._log(f'{leg.who} leaves a {seconds}s voicemail: "{message.text}"{ending}')
        self._defer_recording_callbacks(verb, leg, document, sid, url, seconds, message.text if transcribed else None)
        params = {"RecordingUrl": url, "RecordingSid": sid, "RecordingDuration": str(seconds)}
        if digits:
            params["Digits"] = digits
        action = urljoin(document.url, verb.get("action") or document.url)
        if message.hang_up:
            # Twilio still requests the action, but nobody is left to hear the TwiML it returns.
            leg.status = "completed"
            self._send(action, method_attr(verb), self._params(leg, params))
            return CALLER_HANGUP
        return _Goto(action, method_attr(verb), params)

    def _defer_recording_callbacks(
        self, verb, leg: _Leg, document: _Document, sid: str, url: str, seconds: int, transcript: str | None
    ) -> None:
        if verb.get("recordingStatusCallback"):
            self.deferred.append(
                _Goto(
                    urljoin(document.url, verb.get("recordingStatusCallback")),
                    method_attr(verb, "recordingStatusCallbackMethod"),
                    {
                        "AccountSid": leg.base["AccountSid"],
                        "CallSid": leg.sid,
                        "RecordingSid": sid,
                        "RecordingUrl": url,
                        "RecordingStatus": "completed",
                        "RecordingDuration": str(seconds),
                        "RecordingChannels": "1",
                        "RecordingSource": "RecordVerb",
                        "RecordingStartTime": self._timestamp(self.clock - seconds),
                    },
                )
            )
        if transcript is not None:
            transcription_sid = new_sid("TR")
            account = leg.base["AccountSid"]
            self.deferred.append(
                _Goto(
                    urljoin(document.url, verb.get("transcribeCallback")),
                    "POST",
                    {
                        "TranscriptionSid": transcription_sid,
                        "TranscriptionText": transcript,
                        "TranscriptionStatus": "completed" if transcript else "failed",
                        "TranscriptionUrl": f"{TWILIO_API}/Accounts/{account}/Transcriptions/{transcription_sid}",
                        "RecordingSid": sid,
                        "RecordingUrl": url,
                        "CallSid": leg.sid,
                        "AccountSid": leg.base["AccountSid"],
                        "From": leg.base["From"],
                        "To": leg.base["To"],
                    },
                )
            )

    def _timestamp(self, at_second: int) -> str:
        return format_datetime(self.started + timedelta(seconds=at_second))

    # the whole call

    def run(self, voice_url: str) -> CallRecord:
        ended_by = self._run_leg(self.parent, _Goto(voice_url, "POST", {}))
        if ended_by == NO_MORE_VERBS:
            self._log("LINE has no more instructions: Twilio hangs up")
        if self.answered_at is not None:
            status = "completed"
        elif self.reject_reason == "busy":
            status = "busy"
        else:
            status = "no-answer"  # inbound calls that end before being answered (TwiML changelog 2024.07.30)
        duration = self.clock - self.answered_at if self.answered_at is not None else 0
        self.parent.status = status
        record = self.record
        record.ended_by, record.status, record.duration = ended_by, status, duration
        if self.status_callback_url:
            self._send(
                self.status_callback_url,
                "POST",
                self._params(
                    self.parent,
                    {
                        "CallDuration": str(duration),
                        "Timestamp": self._timestamp(self.clock),
                        "CallbackSource": "call-progress-events",
                        "SequenceNumber": "0",
                    },
                ),
            )
        self._log(f"STATUS {status} {duration}s")
        for callback in self.deferred:
            self._send(callback.url, callback.method, callback.params)
            if "TranscriptionText" in callback.params:
                self._log(f'TRANSCRIPTION: "{callback.params["TranscriptionText"]}"')
        return record


def _describe(attempt: DialAttempt) -> str:
    phrases = {
        "accept": "engineer accepts",
        "refuse": "engineer refuses",
        "silent": "engineer stays silent",
        "no-answer": "nobody answers",
        "busy": "line busy",
        "failed": "call fails",
    }
    described = phrases.get(attempt.behaviour, f"engineer ({attempt.behaviour})")
    outcome = ", bridged" if attempt.bridged else (", not bridged" if attempt.dial_call_status == "completed" else "")
    return f"{described} (DialCallStatus {attempt.dial_call_status}{outcome})"


def _inbound(account_sid: str, call_sid: str, from_number: str, to_number: str) -> dict[str, str]:
    """The params on every request about an incoming call, CallStatus aside."""
    return {
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
        "CallSid": call_sid,
        "Direction": "inbound",
        "From": from_number,
        "To": to_number,
        "Caller": from_number,
        "Called": to_number,
    }


def place_call(
    *,
    voice_url: str,
    status_callback_url: str | None,
    auth_token: str,
    transport: Transport,
    caller: Caller,
    engineers: Engineers | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    from_number: str = "+14155550100",
    to_number: str = "+18005550199",
    caller_name: str | None = None,
    call_sid: str | None = None,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    max_requests: int = 60,
) -> CallRecord:
    """Ring the line at `voice_url` as Twilio would and play the call to its end.

    `engineers` may be an Engineers object, or a list/mapping of behaviours for ScriptedEngineers.
    Errors raised along the way carry the call so far in their `record` attribute.
    """
    if engineers is not None and not hasattr(engineers, "ring"):
        engineers = ScriptedEngineers(engineers)
    base = _inbound(account_sid, call_sid or new_sid("CA"), from_number, to_number)
    if caller_name:
        base["CallerName"] = caller_name
    call = _Call(
        auth_token=auth_token,
        transport=transport,
        caller=caller,
        engineers=engineers,
        base=base,
        status_callback_url=status_callback_url,
        max_requests=max_requests,
    )
    try:
        return call.run(voice_url)
    except PhoneError as exc:
        exc.record = call.record
        raise


def report_hang_up(
    *,
    status_callback_url: str,
    auth_token: str,
    transport: Transport,
    call_sid: str,
    from_number: str,
    to_number: str,
    account_sid: str = DEFAULT_ACCOUNT_SID,
) -> Reply:
    """Post the status callback Twilio sends when the caller hangs up, for a call `place_call` did not finish.

    Returns the line's reply whatever its status: nobody is left on the call to hear of a failure.
    """
    params = {**_inbound(account_sid, call_sid, from_number, to_number), "CallStatus": "completed"}
    return signed_request(transport, auth_token, "POST", status_callback_url, params)[1]
