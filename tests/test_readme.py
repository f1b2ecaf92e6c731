"""The README shows what the line really does: its sample call is the demo line's own output."""

from __future__ import annotations

import re
import shlex
from datetime import datetime, timezone
from pathlib import Path

from flask import Flask

from tests.support import FakeClock

README = Path(__file__).resolve().parents[1] / "README.md"
SAMPLE_COMMAND = "$ .venv/bin/flask --app app call "
# The instant of the README's sample call (Thursday 26 November, 03:23 in New York).
SAMPLE_CALL_AT = datetime(2026, 11, 26, 8, 23, tzinfo=timezone.utc)


def readme_sample() -> tuple[list[str], list[str]]:
    """The sample call's arguments, and the lines the README shows it printing."""
    block = README.read_text().split(SAMPLE_COMMAND, 1)[1].split("```", 1)[0]
    command, *shown = block.rstrip("\n").split("\n")
    return shlex.split(command), shown


def without_call_sids(lines: list[str]) -> list[str]:
    """`lines` with every call SID made alike: each call gets a new random one."""
    return [re.sub(r"\bCA[0-9a-f]{32}\b", "CA…", line) for line in lines]


def test_the_readme_sample_call_is_word_for_word_what_the_demo_line_prints(
    app: Flask, live_line: str, clock: FakeClock
) -> None:
    clock.set(SAMPLE_CALL_AT)
    runner = app.test_cli_runner()
    assert "loaded the demo team" in runner.invoke(args=["seed-demo"]).output
    args, shown = readme_sample()
    result = runner.invoke(args=["call", "--url", live_line, *args])
    assert result.exit_code == 0, result.output
    printed = result.output.rstrip("\n").split("\n")
    assert without_call_sids(printed) == without_call_sids(shown), "\n".join(printed)
