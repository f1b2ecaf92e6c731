"""The terminal phone (`flask --app app call`) against the line served over real HTTP."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.phone import HANGUP, SILENCE, GatherPrompt, Speech
from ivr.terminal import TerminalCaller, timed_line
from tests.conftest import PRIYA, Team


def test_a_scripted_terminal_call_ends_with_a_ticket_and_a_connected_call(app, live_line: str, team: Team) -> None:
    result = app.test_cli_runner().invoke(args=["call", "--url", live_line, "--keys", "1,1,1", "--engineer", "accept"])
    assert result.exit_code == 0, result.output
    assert "LINE: Your ticket number is 1 0 0 0 1." in result.output
    assert f"DIALLED {PRIYA}: accept, DialCallStatus completed" in result.output
    assert "outcome connected, answered by Priya Raman" in result.output
    assert "TICKET 10001: critical, acknowledged" in result.output


def test_nobody_answering_reaches_the_voicemail_prompt_and_hanging_up_there_keeps_the_ticket(
    app, live_line: str, team: Team
) -> None:
    result = app.test_cli_runner().invoke(
        args=["call", "--url", live_line, "--keys", "1,2,1", "--engineer", "no-answer"])
    assert result.exit_code == 0, result.output
    assert "Nobody could take your call right now" in result.output
    assert "outcome abandoned" in result.output and "TICKET 10001: high, open" in result.output


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


def test_ctrl_c_at_a_menu_hangs_up() -> None:
    def interrupted(seconds: float) -> str:
        raise KeyboardInterrupt

    caller = TerminalCaller(interrupted, lambda text: None)
    prompt = GatherPrompt(said="menu", inputs=frozenset({"dtmf"}), num_digits=1, finish_on_key="#", timeout=5)
    assert caller.answer_gather(prompt) == HANGUP
