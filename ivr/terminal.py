"""A terminal phone: ring the line from a shell and hear (read) what a caller would.

`flask --app app call` plays Twilio against a running line with `phonesim`: it signs
every webhook with the line's auth token, prints each `<Say>`, reads keys from the
keyboard at each `<Gather>`, plays a simulated engineer at each `<Dial>`, and prints the
call log and the ticket when the call ends. `--keys 1,1,1 --engineer accept` runs the
same call without a keyboard. `flask --app app text "ACK 10042" --from +1…` does the
same for an SMS.
"""

from __future__ import annotations

import io
import select
import sys
from collections.abc import Callable
from functools import partial
from typing import TextIO
from zoneinfo import ZoneInfo

import click
from flask.cli import with_appcontext
from sqlalchemy import select as sql_select

from core.db import db
from core.settings import Settings, current_settings
from ivr.models import CallLog
from oncall.models import Contact
from tickets.messages import short_time
from phonesim import (
    DTMF_KEYS,
    HANGUP,
    SILENCE,
    Answer,
    CallRecord,
    GatherPrompt,
    HttpTransport,
    PhoneError,
    RecordPrompt,
    ScriptedCaller,
    ScriptedEngineers,
    Speech,
    Voicemail,
    new_sid,
    place_call,
    report_hang_up,
    send_sms,
)

DEFAULT_LINE = "http://127.0.0.1:5000"
# The number dialled and texted when TWILIO_PHONE_NUMBER is not set.
DEFAULT_SUPPORT_NUMBER = "+18005550199"
ENGINEER_CHOICES = ("accept", "refuse", "silent", "no-answer", "busy")
ENDINGS = {"hangup-verb": "the line hung up", "caller-hangup": "you hung up", "no-more-verbs": "the line had no more to say",
           "reject": "the line rejected the call"}
HANG_UP_WORDS = frozenset({"h", "hangup", "hang up"})
SPEECH_PREFIX = "say "
VOICEMAIL_PREFIXES = ("vm ", "voicemail ")
# Twilio waits a Gather's timeout for each key; a number is at most 15 digits and the #.
MOST_KEYS_IN_A_NUMBER = 16


def timed_line(stream: TextIO, seconds: float) -> str | None:
    """A line typed within `seconds`, or None when the time runs out (Twilio's Gather timeout) or input ended."""
    try:
        ready, _, _ = select.select([stream], [], [], seconds)
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (a test's StringIO): just read it
        ready = [stream]
    if not ready:
        return None
    return stream.readline() or None


def voicemail(text: str) -> Voicemail:
    """A message left at the beep, about as long as it takes to say."""
    return Voicemail(text, seconds=max(2, len(text.split()) // 2))


def typed_answer(typed: str, *, recording: bool = False) -> Answer:
    """What a caller's typed line means: keys, `say <words>`, `vm <message>`, `h` to hang up, nothing for silence.

    At a recording (`recording=True`) any words are the message.
    """
    text = typed.strip()
    lowered = text.lower()
    if not text:
        return SILENCE
    if lowered in HANG_UP_WORDS:
        return HANGUP
    for prefix in VOICEMAIL_PREFIXES:
        if lowered.startswith(prefix):
            return voicemail(text[len(prefix):].strip())
    if recording:
        return voicemail(text)
    if lowered.startswith(SPEECH_PREFIX):
        return Speech(text[len(SPEECH_PREFIX):].strip())
    keys = "".join(ch for ch in text if ch in DTMF_KEYS)
    return keys or Speech(text)


def script_answers(keys: str) -> list[Answer]:
    """`--keys` as the caller's answers, one per comma; click.BadParameter names an item that is none."""
    answers = []
    for item in keys.split(","):
        text = item.strip()
        lowered = text.lower()
        if not (set(text) <= DTMF_KEYS or lowered in HANG_UP_WORDS
                or lowered.startswith((SPEECH_PREFIX, *VOICEMAIL_PREFIXES))):
            raise click.BadParameter(
                f"{text!r} is not an answer: give keys (1, 4155550123#), nothing for silence, "
                "`say <words>`, `vm <message>` or `h`", param_hint="--keys")
        answers.append(typed_answer(text))
    return answers


def gather_wait(prompt: GatherPrompt) -> int:
    """How long Twilio lets a caller take over a Gather: its timeout for each key it can take."""
    if prompt.num_digits == 1 or not prompt.accepts_digits:
        return prompt.timeout
    return prompt.timeout * (prompt.num_digits or MOST_KEYS_IN_A_NUMBER)


class TerminalCaller:
    """A caller at the keyboard: keys then Enter; `say <words>` speaks; Enter alone is silence; `h` hangs up.

    Each prompt waits as long as Twilio would. Ctrl-C hangs up too, so the line logs the call as it
    would a real hang-up.
    """

    def __init__(self, read: Callable[[float], str | None], write: Callable[[str], None]) -> None:
        self.read = read
        self.write = write

    def hear(self, text: str) -> None:
        self.write(f"LINE: {text}")

    def _ask(self, hint: str, seconds: float) -> str | None:
        """The line typed within `seconds` ("" for none); None for Ctrl-C."""
        self.write(f"  [{hint}; {seconds:g} s]")
        try:
            return self.read(seconds) or ""
        except KeyboardInterrupt:
            return None

    def answer_gather(self, prompt: GatherPrompt) -> Answer:
        hint = "type keys then Enter" if prompt.accepts_digits else "type `say …`"
        typed = self._ask(f"{hint}, `say <words>` to speak, Enter for silence, h to hang up", gather_wait(prompt))
        return HANGUP if typed is None else typed_answer(typed)

    def answer_record(self, prompt: RecordPrompt) -> Answer:
        typed = self._ask("type your message then Enter (it stands in for the recording), h to hang up",
                          prompt.max_length)
        return HANGUP if typed is None else typed_answer(typed, recording=True)


class TerminalEngineer:
    """The engineer who picked up: the whisper shows, and the person at the keyboard answers it."""

    talk_seconds = 60

    def __init__(self, read: Callable[[float], str | None], write: Callable[[str], None]) -> None:
        self.read = read
        self.write = write
        self.label = "picked up"

    def hear(self, text: str) -> None:
        self.write(f"  WHISPER: {text}")

    def answer_gather(self, prompt: GatherPrompt) -> Answer:
        self.write(f"  [engineer: type keys then Enter, Enter for silence, h to hang up; {gather_wait(prompt):g} s]")
        answer = typed_answer(self.read(gather_wait(prompt)) or "")
        self.label = {"1": "accept", SILENCE: "silent", HANGUP: "hang up"}.get(answer, "refuse")
        return answer


class TerminalEngineers:
    """The phones the line dials, answered at the keyboard: who rings shows, and so does the whisper."""

    def __init__(self, read: Callable[[float], str | None], write: Callable[[str], None],
                 who: Callable[[str], str | None] = lambda number: None) -> None:
        self.read = read
        self.write = write
        self.who = who

    def ring(self, number: str, seconds: int = 30) -> TerminalEngineer | str:
        name = self.who(number)
        self.write(f"RINGING {number}" + (f" ({name})" if name else "")
                   + f": (p)ick up, (b)usy, Enter for no answer; {seconds} s")
        choice = (self.read(seconds) or "").strip().lower()[:1]
        if choice == "p":
            return TerminalEngineer(self.read, self.write)
        return "busy" if choice == "b" else "no-answer"


def support_number(settings: Settings) -> str:
    """The support line's own number: TWILIO_PHONE_NUMBER, or a stand-in when it is not set."""
    return settings.twilio_phone_number or DEFAULT_SUPPORT_NUMBER


def who_has(number: str) -> str | None:
    """Whose phone `number` is in the local database: an active contact's name, or the fallback number."""
    name = db().scalar(sql_select(Contact.name).where(Contact.phone == number, Contact.active.is_(True)))
    # End the read at once: on SQLite an open read would hold up the line's own writes during the call.
    db().rollback()
    if name is None and number == current_settings().fallback_number:
        return "the fallback number"
    return name


def describe_outcome(call: CallLog | None, timezone: str) -> list[str]:
    """The call log row and its ticket as lines of text, times in `timezone`, for the end of a terminal call."""
    if call is None:
        return ["(this call is not in the local database: the line you rang keeps another one)"]
    zone = ZoneInfo(timezone)
    lines = [
        f"CALL {call.call_sid}: {call.status}, outcome {call.outcome or '—'}"
        + (f", answered by {call.answered_by}" if call.answered_by else ""),
    ]
    lines += [f"  {event.at.astimezone(zone):%H:%M:%S} {event.kind}: {event.detail}" for event in call.events]
    ticket = call.ticket
    if ticket is not None:
        lines.append(
            f"TICKET {ticket.number}: {ticket.severity}, {ticket.status}, due {short_time(ticket.response_due_at, timezone)}, "
            f"callback {ticket.callback_number or 'none'}"
        )
        if ticket.transcript:
            lines.append(f"  voicemail: {ticket.transcript}")
    return lines


def echo_outcome(call_sid: str) -> None:
    """Print what the local database kept of the call `call_sid`: its log row and its ticket."""
    call = db().scalar(sql_select(CallLog).where(CallLog.call_sid == call_sid))
    for line in describe_outcome(call, current_settings().support_timezone):
        click.echo(line)


@click.command("call")
@click.option("--url", default=DEFAULT_LINE, show_default=True, help="The line's base URL.")
@click.option("--from", "from_number", default="+14155550100", show_default=True, help="The caller ID.")
@click.option("--to", "to_number", default=None, help="The support number dialled (default TWILIO_PHONE_NUMBER).")
@click.option("--keys", default=None, help="Answers for each menu, comma separated (e.g. 1,1,1); no keyboard needed.")
@click.option("--engineer", type=click.Choice(ENGINEER_CHOICES), default=None,
              help="How every engineer answers (default: ask at each ring, or accept with --keys).")
@with_appcontext
def call_command(url: str, from_number: str, to_number: str | None, keys: str | None, engineer: str | None) -> None:
    """Ring the line from this terminal and play the call as Twilio would."""
    settings = current_settings()
    echo = click.echo
    read = partial(timed_line, sys.stdin)
    if keys is not None:
        caller = ScriptedCaller(script_answers(keys), hang_up_when_done=True)
    else:
        caller = TerminalCaller(read, echo)
    if engineer or keys is not None:
        engineers = ScriptedEngineers([engineer or "accept"] * 20)
    else:
        engineers = TerminalEngineers(read, echo, who_has)
    base = url.rstrip("/")
    call_sid = new_sid("CA")
    to_number = to_number or support_number(settings)
    try:
        record: CallRecord = place_call(
            voice_url=f"{base}/ivr/voice",
            status_callback_url=f"{base}/ivr/status",
            auth_token=settings.twilio_auth_token,
            transport=HttpTransport(),
            caller=caller,
            engineers=engineers,
            from_number=from_number,
            to_number=to_number,
            call_sid=call_sid,
        )
    except KeyboardInterrupt:
        # Ctrl-C while the line was answering: hang up as Twilio reports a caller hanging up.
        report_hang_up(status_callback_url=f"{base}/ivr/status", auth_token=settings.twilio_auth_token,
                       transport=HttpTransport(), call_sid=call_sid, from_number=from_number, to_number=to_number)
        echo("HUNG UP")
        echo_outcome(call_sid)
        return
    except PhoneError as error:
        raise click.ClickException(f"the call failed: {error}") from None
    except TypeError as error:  # a scripted answer where the call wanted another kind (words at a recording)
        raise click.ClickException(f"the --keys script does not fit the call: {error}") from None
    except OSError as error:
        raise click.ClickException(f"cannot reach the line at {base}: {error}") from None
    if keys is not None:
        # Nobody watched it live: show the whole call, keys and whispers included.
        echo(record.transcript())
    else:
        for dial in record.dials:
            echo(f"DIALLED {dial.number}: {dial.behaviour}, DialCallStatus {dial.dial_call_status}")
        echo(f"CALL ENDED ({ENDINGS.get(record.ended_by, record.ended_by)}), {record.duration} s")
    echo_outcome(record.call_sid)


@click.command("text")
@click.argument("body")
@click.option("--url", default=DEFAULT_LINE, show_default=True, help="The line's base URL.")
@click.option("--from", "from_number", required=True, help="The sender's number (a contact's, to be obeyed).")
@with_appcontext
def text_command(body: str, url: str, from_number: str) -> None:
    """Send the line an SMS as Twilio would deliver it, and print the reply."""
    settings = current_settings()
    try:
        status, replies = send_sms(
            sms_url=f"{url.rstrip('/')}/sms",
            auth_token=settings.twilio_auth_token,
            transport=HttpTransport(),
            from_number=from_number,
            to_number=support_number(settings),
            body=body,
        )
    except (PhoneError, OSError) as error:
        raise click.ClickException(f"the message was not delivered: {error}") from None
    if status != 200:
        raise click.ClickException(f"the line answered {status}")
    for reply in replies or ["(no reply)"]:
        click.echo(f"REPLY: {reply}")
