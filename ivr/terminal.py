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

import click
from flask.cli import with_appcontext
from sqlalchemy import select as sql_select

from core.db import db
from core.settings import Settings, current_settings
from ivr.models import CallLog
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
    Signal,
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
HANG_UP_WORDS = frozenset({"h", "hangup", "hang up"})


def timed_line(stream: TextIO, seconds: float) -> str | None:
    """A line typed within `seconds`, or None when the time runs out (Twilio's Gather timeout) or input ended."""
    try:
        ready, _, _ = select.select([stream], [], [], seconds)
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (a test's StringIO): just read it
        ready = [stream]
    if not ready:
        return None
    return stream.readline() or None


class TerminalCaller:
    """A caller at the keyboard: keys then Enter; `say <words>` speaks; Enter alone is silence; `h` hangs up.

    Ctrl-C hangs up too, so the line logs the call as it would a real hang-up.
    """

    def __init__(self, read: Callable[[float], str | None], write: Callable[[str], None]) -> None:
        self.read = read
        self.write = write

    def hear(self, text: str) -> None:
        self.write(f"LINE: {text}")

    def _ask(self, hint: str, seconds: float) -> str | Signal:
        """The line typed within `seconds`; SILENCE for none or an empty one, HANGUP for `h` or Ctrl-C."""
        self.write(f"  [{hint}; {seconds:g} s]")
        try:
            line = self.read(seconds)
        except KeyboardInterrupt:
            return HANGUP
        typed = (line or "").strip()
        if not typed:
            return SILENCE
        return HANGUP if typed.lower() in HANG_UP_WORDS else typed

    def answer_gather(self, prompt: GatherPrompt) -> Answer:
        hint = "type keys then Enter" if prompt.accepts_digits else "type `say …`"
        typed = self._ask(f"{hint}, `say <words>` to speak, Enter for silence, h to hang up", prompt.timeout)
        if isinstance(typed, Signal):
            return typed
        if typed.lower().startswith("say "):
            return Speech(typed[4:].strip())
        keys = "".join(ch for ch in typed if ch in DTMF_KEYS)
        return keys or Speech(typed)

    def answer_record(self, prompt: RecordPrompt) -> Answer:
        typed = self._ask("type your message then Enter (it stands in for the recording), h to hang up", 60)
        if isinstance(typed, Signal):
            return typed
        return Voicemail(typed, seconds=max(2, len(typed.split()) // 2))


class TerminalEngineers:
    """Engineers whose answer the person at the keyboard chooses when their phone rings."""

    def __init__(self, read: Callable[[float], str | None], write: Callable[[str], None]) -> None:
        self.read = read
        self.write = write

    def ring(self, number: str):
        self.write(f"RINGING {number}: (a)ccept, (r)efuse, (s)ilent, (n)o answer, (b)usy?")
        choice = (self.read(30) or "n").strip().lower()[:1]
        behaviour = {"a": "accept", "r": "refuse", "s": "silent", "b": "busy"}.get(choice, "no-answer")
        return ScriptedEngineers([behaviour]).ring(number)


def support_number(settings: Settings) -> str:
    """The support line's own number: TWILIO_PHONE_NUMBER, or a stand-in when it is not set."""
    return settings.twilio_phone_number or DEFAULT_SUPPORT_NUMBER


def describe_outcome(call: CallLog | None) -> list[str]:
    """The call log row and its ticket as lines of text, for the end of a terminal call."""
    if call is None:
        return ["(this call is not in the local database: the line you rang keeps another one)"]
    lines = [
        f"CALL {call.call_sid}: {call.status}, outcome {call.outcome or '—'}"
        + (f", answered by {call.answered_by}" if call.answered_by else ""),
    ]
    lines += [f"  {event.at:%H:%M:%S} {event.kind}: {event.detail}" for event in call.events]
    ticket = call.ticket
    if ticket is not None:
        lines.append(
            f"TICKET {ticket.number}: {ticket.severity}, {ticket.status}, due {ticket.response_due_at:%Y-%m-%d %H:%M} UTC, "
            f"callback {ticket.callback_number or 'none'}"
        )
        if ticket.transcript:
            lines.append(f"  voicemail: {ticket.transcript}")
    return lines


def echo_outcome(call_sid: str) -> None:
    """Print what the local database kept of the call `call_sid`: its log row and its ticket."""
    for line in describe_outcome(db().scalar(sql_select(CallLog).where(CallLog.call_sid == call_sid))):
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
        answers: list[Answer] = [k.strip() if k.strip() else SILENCE for k in keys.split(",")]
        caller = ScriptedCaller(answers, hang_up_when_done=True)
    else:
        caller = TerminalCaller(read, echo)
    engineers = ScriptedEngineers([engineer or "accept"] * 20) if (engineer or keys is not None) else TerminalEngineers(read, echo)
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
    except OSError as error:
        raise click.ClickException(f"cannot reach the line at {base}: {error}") from None
    if keys is not None:
        # Nobody watched it live: show the whole call, keys and whispers included.
        echo(record.transcript())
    for dial in record.dials:
        echo(f"DIALLED {dial.number}: {dial.behaviour}, DialCallStatus {dial.dial_call_status}")
    echo(f"CALL ENDED ({record.ended_by}), {record.duration} s")
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
