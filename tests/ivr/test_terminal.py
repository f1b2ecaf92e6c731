"""The terminal phone (`flask --app app call`) against the line served over real HTTP."""

from __future__ import annotations

import io
import os
import pty
import select as select_module
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from phonesim import HANGUP, SILENCE, GatherPrompt, RecordPrompt, Speech, Voicemail
from ivr.terminal import TerminalCaller, TerminalEngineers, script_answers, timed_line
from tests.support import PRIYA, Team

ROOT = Path(__file__).resolve().parents[2]


def test_a_scripted_terminal_call_ends_with_a_ticket_and_a_connected_call(app, live_line: str, team: Team) -> None:
    result = app.test_cli_runner().invoke(args=["call", "--url", live_line, "--keys", "1,1,1", "--engineer", "accept"])
    assert result.exit_code == 0, result.output
    assert "LINE: Your ticket number is 1 0 0 0 1." in result.output
    assert f"DIAL {PRIYA} → engineer accepts (DialCallStatus completed, bridged)" in result.output
    assert "outcome connected, answered by Priya Raman" in result.output
    assert "TICKET 10001: critical, acknowledged" in result.output


def test_nobody_answering_reaches_the_voicemail_prompt_and_hanging_up_there_keeps_the_ticket(
    app, live_line: str, team: Team
) -> None:
    result = app.test_cli_runner().invoke(
        args=["call", "--url", live_line, "--keys", "1,2,1", "--engineer", "no-answer"])
    assert result.exit_code == 0, result.output
    assert "Nobody could take your call right now" in result.output
    assert "outcome missed" in result.output and "TICKET 10001: high, open" in result.output


def test_an_unreachable_line_is_a_clear_error(app) -> None:
    result = app.test_cli_runner().invoke(args=["call", "--url", "http://127.0.0.1:9", "--keys", "1"])
    assert result.exit_code != 0 and "cannot reach the line" in result.output


@pytest.mark.parametrize(
    ("typed", "answer"),
    [("1\n", "1"), ("4155550123#\n", "4155550123#"), ("\n", SILENCE), ("h\n", HANGUP),
     ("say critical\n", Speech("critical")), ("", SILENCE)],
)
def test_the_keyboard_caller_turns_lines_into_answers(typed: str, answer) -> None:
    heard: list[str] = []
    caller = TerminalCaller(lambda seconds: timed_line(io.StringIO(typed), seconds), heard.append)
    prompt = GatherPrompt(said="menu", inputs=frozenset({"dtmf", "speech"}), num_digits=1, finish_on_key="#", timeout=5)
    assert caller.answer_gather(prompt) == answer
    assert heard and "h to hang up" in heard[-1]


MENU = GatherPrompt(said="menu", inputs=frozenset({"dtmf", "speech"}), num_digits=1, finish_on_key="#", timeout=6)
NUMBER_ENTRY = GatherPrompt(said="number", inputs=frozenset({"dtmf", "speech"}), num_digits=None, finish_on_key="#",
                            timeout=10)
AT_THE_BEEP = RecordPrompt(max_length=120, finish_on_key="#", timeout=5, play_beep=True, transcribe=True)


def test_the_keyboard_caller_waits_as_long_as_twilio_would() -> None:
    waited: list[float] = []

    def read(seconds: float) -> str:
        waited.append(seconds)
        return "Our export fails\n"

    caller = TerminalCaller(read, lambda text: None)
    caller.answer_gather(MENU)
    caller.answer_gather(NUMBER_ENTRY)
    assert caller.answer_record(AT_THE_BEEP) == Voicemail("Our export fails", seconds=2)
    # A menu key: the Gather's timeout; a number: the timeout for each of up to 16 keys; a message: its maxLength.
    assert waited == [6, 160, 120]


def test_a_script_speaks_hangs_up_and_leaves_a_voicemail() -> None:
    assert script_answers("1, say critical,,4155550123#,vm Export fails since the upgrade,h") == [
        "1", Speech("critical"), SILENCE, "4155550123#", Voicemail("Export fails since the upgrade", seconds=2), HANGUP]


def test_a_script_item_that_is_no_answer_is_refused_with_its_name(app) -> None:
    result = app.test_cli_runner().invoke(args=["call", "--keys", "1,critical"])
    assert result.exit_code == 2
    assert "'critical' is not an answer" in result.output and "`say <words>`" in result.output


def test_a_scripted_call_speaks_its_choices_and_leaves_a_voicemail(app, live_line: str, team: Team) -> None:
    result = app.test_cli_runner().invoke(args=[
        "call", "--url", live_line, "--engineer", "no-answer",
        "--keys", "say new issue,say high,say yes,vm Our nightly export fails since the upgrade"])
    assert result.exit_code == 0, result.output
    assert 'CALLER says "high"' in result.output
    assert "TICKET 10001: high, open" in result.output
    assert "voicemail: Our nightly export fails since the upgrade" in result.output


def test_a_scripted_hang_up_in_the_menu_abandons_the_call(app, live_line: str, team: Team) -> None:
    result = app.test_cli_runner().invoke(args=["call", "--url", live_line, "--keys", "1,h"])
    assert result.exit_code == 0, result.output
    assert "CALLER hangs up" in result.output and "outcome abandoned" in result.output


def test_a_ringing_phone_shows_whose_it_is_and_the_engineer_answers_the_whisper() -> None:
    shown: list[str] = []
    typed = iter(["p\n", "1\n"])
    waited: list[float] = []

    def read(seconds: float) -> str:
        waited.append(seconds)
        return next(typed)

    engineers = TerminalEngineers(read, shown.append, {PRIYA: "Priya Raman"}.get)
    engineer = engineers.ring(PRIYA, 20)
    engineer.hear("Support call: critical ticket 1 0 0 0 1. Press 1 to accept the call.")
    assert engineer.answer_gather(MENU) == "1"
    assert engineer.label == "accept"
    assert shown[0].startswith(f"RINGING {PRIYA} (Priya Raman): (p)ick up")
    assert "  WHISPER: Support call: critical ticket 1 0 0 0 1. Press 1 to accept the call." in shown
    assert waited == [20, 6], "the phone rings as long as the Dial's timeout, the whisper waits its Gather's"


def test_a_phone_nobody_picks_up_is_no_answer_and_b_is_busy() -> None:
    engineers = TerminalEngineers(lambda seconds: None, lambda text: None)
    assert engineers.ring(PRIYA, 20) == "no-answer"
    assert TerminalEngineers(lambda seconds: "b\n", lambda text: None).ring(PRIYA, 20) == "busy"


def test_ctrl_c_at_a_menu_hangs_up() -> None:
    def interrupted(seconds: float) -> str:
        raise KeyboardInterrupt

    caller = TerminalCaller(interrupted, lambda text: None)
    prompt = GatherPrompt(said="menu", inputs=frozenset({"dtmf"}), num_digits=1, finish_on_key="#", timeout=5)
    assert caller.answer_gather(prompt) == HANGUP


BRANCHES = [
    # (keys, engineer, caller ID, expected ticket line, expected outcome)
    ("1,1,1", "accept", "+12125550147", "TICKET 10001: critical, acknowledged", "outcome connected"),
    ("1,2,1", "refuse", "+12125550147", "TICKET 10001: high, open", "outcome missed"),
    ("1,3,2,4155550123#,1", "accept", "+12125550147", "callback +14155550123", "outcome connected"),
    ("1,4,4155550123#,1", "accept", "anonymous", "TICKET 10001: low, acknowledged", "outcome connected"),
    (",,,1,1", "accept", "+12125550147", "TICKET 10001: critical, acknowledged", "outcome connected"),
    ("1,9,9,9,1", "accept", "+12125550147", "TICKET 10001: normal, acknowledged", "outcome connected"),
    ("2,55555#,,,", None, "+12125550147", None, "outcome abandoned"),
    ("1", None, "+12125550147", None, "outcome abandoned"),
]


@pytest.mark.parametrize(("keys", "engineer", "caller", "ticket", "outcome"), BRANCHES)
def test_every_branch_of_the_menus_over_http_ends_in_the_expected_rows(
    app, live_line: str, team: Team, session: Session, keys: str, engineer, caller: str, ticket, outcome: str
) -> None:
    args = ["call", "--url", live_line, "--keys", keys, "--from", caller]
    if engineer:
        args += ["--engineer", engineer]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert outcome in result.output
    if ticket:
        assert ticket in result.output
    else:
        assert "TICKET" not in result.output
    session.commit()
    from ivr.models import CallLog

    assert session.scalar(select(CallLog.outcome)) == outcome.split()[-1]


def test_a_status_lookup_over_http_reads_the_ticket(app, live_line: str, team: Team) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["call", "--url", live_line, "--keys", "1,2,1", "--engineer", "accept"])
    result = runner.invoke(args=["call", "--url", live_line, "--keys", "2,10001#"])
    assert "Ticket 1 0 0 0 1 is a high ticket, and it is acknowledged." in result.output
    assert "outcome status_lookup" in result.output


class PhoneInATerminal:
    """The terminal phone running in a child process whose controlling terminal is a pty the test types into."""

    def __init__(self, pid: int, terminal: int) -> None:
        self.pid = pid
        self.terminal = terminal
        self.shown = b""
        self.exit_code: int | None = None

    @property
    def screen(self) -> str:
        return self.shown.decode(errors="replace")

    def _read_some(self, seconds: float) -> bool:
        """Add what the terminal shows within `seconds`; False once the child closed its side."""
        ready, _, _ = select_module.select([self.terminal], [], [], seconds)
        if not ready:
            return True
        try:
            chunk = os.read(self.terminal, 4096)
        except OSError:  # EIO: the child's side of the pty is closed
            return False
        self.shown += chunk
        return bool(chunk)

    def read_until(self, text: bytes, seconds: float = 20, times: int = 1) -> None:
        """Read until `text` has been shown `times` times in all."""
        deadline = time.monotonic() + seconds
        while self.shown.count(text) < times:
            assert time.monotonic() < deadline, f"never saw {text!r}; the terminal showed:\n{self.screen}"
            assert self._read_some(0.2), f"the phone ended before showing {text!r}; the terminal showed:\n{self.screen}"

    def type(self, keys: bytes) -> None:
        os.write(self.terminal, keys)

    def wait(self, seconds: float) -> int | None:
        """The child's exit code once it ends within `seconds`, or None while it still runs.

        Keeps reading the terminal meanwhile, so that a child printing its last lines never blocks on a full pty.
        """
        deadline = time.monotonic() + seconds
        while self.exit_code is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.exit_code = os.waitstatus_to_exitcode(status)
            elif time.monotonic() >= deadline:
                break
            elif not self._read_some(0.05):
                time.sleep(0.05)
        return self.exit_code

    def stop(self) -> None:
        """Kill the child unless it has ended, reap it, and close the terminal: a failed test leaves no phone behind."""
        try:
            if self.wait(0) is None:
                os.kill(self.pid, signal.SIGKILL)
                self.wait(10)
        finally:
            os.close(self.terminal)


@contextmanager
def phone_in_a_terminal(args: list[str], env: dict[str, str]) -> Iterator[PhoneInATerminal]:
    """Run `python -m flask --app app <args>` in a pty; killed and reaped on the way out, whatever happened."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the terminal phone, with the pty as its controlling terminal
        try:
            # As a login shell leaves it: Ctrl-C interrupts. A test run in the background of a script inherits
            # SIGINT ignored, and the phone would never hear the key.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.chdir(ROOT)
            os.execve(sys.executable, [sys.executable, "-m", "flask", "--app", "app", *args], env)
        except BaseException as error:
            os.write(2, f"the terminal phone did not start: {error!r}\n".encode())
        os._exit(127)  # never go on running the test suite's copy in the child
    phone = PhoneInATerminal(pid, terminal)
    try:
        yield phone
    finally:
        phone.stop()


def test_interactive_keys_in_a_real_terminal_and_ctrl_c_hangs_up_cleanly(
    live_line: str, env: dict[str, str], team: Team, session: Session
) -> None:
    """A person at a terminal: the prompts show, typed keys go to the line, Ctrl-C hangs up."""
    with phone_in_a_terminal(["call", "--url", live_line], {**os.environ, **env, "PYTHONUNBUFFERED": "1"}) as phone:
        phone.read_until(b"To report a new issue, press 1")
        phone.read_until(b"h to hang up")
        phone.type(b"1\r")
        phone.read_until(b"How severe is the problem?")
        phone.type(b"2\r")
        phone.read_until(b"Should we call you back at")
        # Ctrl-C once the phone waits for keys at the third prompt, as a person presses it: before that, the
        # signal lands wherever the phone happens to be on a busy machine.
        phone.read_until(b"h to hang up", times=3)
        phone.type(b"\x03")  # Ctrl-C
        phone.read_until(b"outcome abandoned")
        exit_code = phone.wait(20)
    assert exit_code == 0, f"the phone ended with {exit_code}; the terminal showed:\n{phone.screen}"
    session.commit()
    from ivr.models import CallLog
    from tickets.models import Ticket

    assert session.scalar(select(CallLog.outcome)) == "abandoned"
    assert session.scalar(select(Ticket.severity)) == "high", "the severity the caller chose is kept"


def test_an_engineer_picks_up_in_a_real_terminal_and_hears_the_whisper(
    live_line: str, env: dict[str, str], team: Team, session: Session
) -> None:
    with phone_in_a_terminal(["call", "--url", live_line], {**os.environ, **env, "PYTHONUNBUFFERED": "1"}) as phone:
        for prompt, keys in ((b"To report a new issue", b"1\r"), (b"How severe is the problem?", b"1\r"),
                             (b"Should we call you back at", b"1\r")):
            phone.read_until(prompt)
            phone.read_until(b"h to hang up")
            phone.type(keys)
        phone.read_until(f"RINGING {PRIYA} (Priya Raman): (p)ick up".encode())
        phone.type(b"p\r")
        phone.read_until(b"WHISPER: Support call: critical ticket 1 0 0 0 1")
        phone.read_until(b"[engineer: type keys")
        phone.type(b"1\r")
        phone.read_until(b"outcome connected, answered by Priya Raman")
        exit_code = phone.wait(20)
    assert exit_code == 0, f"the phone ended with {exit_code}; the terminal showed:\n{phone.screen}"
    assert f"DIALLED {PRIYA}: accept, DialCallStatus completed" in phone.screen


def test_the_text_command_delivers_an_sms_and_prints_the_reply(app, live_line: str, team: Team) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["text", "oncall", "--from", PRIYA, "--url", live_line])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"REPLY: On duty: Priya Raman ({PRIYA}) until Mon 30 Nov 9:00 AM EST. Next: Tom Berg."
    stranger = runner.invoke(args=["text", "ACK 10001", "--from", "+12125559999", "--url", live_line])
    assert "REPLY: Sorry, this number is not on the support team" in stranger.output
