"""Who is on the line: scripted callers and engineers answer in order and refuse what nobody could answer."""

import pytest

from phonesim import ScriptedCaller, ScriptedEngineers, ScriptExhausted
from tests.phonesim.line import call, make_line


def test_scripted_engineers_by_number_consume_lists_and_repeat_single_behaviours():
    engineers = ScriptedEngineers({"+1": ["busy", "accept"], "+2": "refuse"})

    assert engineers.ring("+1") == "busy"
    assert engineers.ring("+1").label == "accept"
    assert engineers.ring("+1") == "no-answer"
    assert engineers.ring("+2").label == engineers.ring("+2").label == "refuse"
    assert engineers.ring("+3") == "no-answer"
    with pytest.raises(ValueError):
        ScriptedEngineers(["maybe"])


def test_a_script_that_runs_out_at_a_gather_raises_script_exhausted():
    app = make_line()

    with pytest.raises(ScriptExhausted, match="Press 1 for support"):
        call(app, [])


def test_a_caller_built_to_hang_up_when_done_hangs_up_instead():
    app = make_line()

    record = call(app, ScriptedCaller([], hang_up_when_done=True))

    assert record.ended_by == "caller-hangup"


def test_an_answer_that_is_not_digits_is_refused_when_the_script_is_written():
    with pytest.raises(ValueError):
        ScriptedCaller(["one"])


def test_the_scripted_caller_hears_what_the_line_says_to_them_but_not_the_whisper():
    app = make_line()
    caller = ScriptedCaller(["1"])

    record = call(app, caller, ["accept"])

    assert caller.heard == record.heard
    assert not any("Press 1 to accept" in text for text in caller.heard)
