"""Who is on the line: what the caller and the engineers the line dials hear and answer.

A `Caller` answers Gathers and Records, `Engineers` pick up (or not) the numbers the line dials.
`ScriptedCaller` and `ScriptedEngineers` drive tests; a terminal phone implements the same small
protocols by reading the keyboard.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from phonesim.errors import ScriptExhausted

ANSWERING_BEHAVIOURS = ("accept", "refuse", "silent")
UNANSWERED_STATUSES = ("no-answer", "busy", "failed")
DTMF_KEYS = frozenset("0123456789*#")


class Signal(Enum):
    """Answers that are not input: staying silent, or hanging up."""

    SILENCE = "silence"
    HANGUP = "hangup"

    def __repr__(self) -> str:
        return self.name


SILENCE = Signal.SILENCE
HANGUP = Signal.HANGUP


@dataclass(frozen=True)
class Speech:
    """Words spoken at a Gather that listens for speech."""

    text: str
    confidence: float = 0.92


@dataclass(frozen=True)
class Voicemail:
    """A message left at a <Record>.

    The recording ends when the caller presses `key` (if it is one of the Record's finishOnKey
    keys), hangs up (`hang_up=True`), or otherwise goes quiet until the silence timeout.
    """

    text: str
    seconds: int = 10
    key: str | None = None
    hang_up: bool = False


Answer = str | Speech | Voicemail | Signal
"""Digits pressed ("1", "4155550123#"), Speech, a Voicemail, SILENCE or HANGUP."""


@dataclass(frozen=True)
class GatherPrompt:
    """A <Gather> as the person on the line meets it."""

    said: str
    inputs: frozenset[str]
    num_digits: int | None
    finish_on_key: str
    timeout: int

    @property
    def accepts_digits(self) -> bool:
        return "dtmf" in self.inputs

    @property
    def accepts_speech(self) -> bool:
        return "speech" in self.inputs


@dataclass(frozen=True)
class RecordPrompt:
    """A <Record> as the caller meets it (after the beep)."""

    max_length: int
    finish_on_key: str
    timeout: int
    play_beep: bool
    transcribe: bool


class Caller(Protocol):
    """The person who rang the line."""

    def hear(self, text: str) -> None:
        """The line says `text` (a <Say>)."""

    def answer_gather(self, prompt: GatherPrompt) -> Answer:
        """Digits, Speech, SILENCE or HANGUP."""

    def answer_record(self, prompt: RecordPrompt) -> Answer:
        """A Voicemail, SILENCE or HANGUP."""


class Engineer(Protocol):
    """Somebody who picked up a number the line dialled; hears the whisper and may answer it."""

    label: str  # how the transcript names their behaviour ("accept", "refuse", ...)
    talk_seconds: int  # how long the conversation lasts once bridged to the caller

    def hear(self, text: str) -> None:
        """The whisper document says `text`."""

    def answer_gather(self, prompt: GatherPrompt) -> Answer:
        """Digits, Speech, SILENCE or HANGUP."""


class Engineers(Protocol):
    """Whoever answers the numbers the line dials."""

    def ring(self, number: str, seconds: int = 30) -> Engineer | str:
        """An Engineer who picked up within `seconds` (the Dial's timeout), or the DialCallStatus of a call nobody answered."""


def check_answer(answer: object) -> Answer:
    """`answer` if a person on the line can give it; ValueError for anything else."""
    if isinstance(answer, (Speech, Voicemail, Signal)):
        return answer
    if isinstance(answer, str) and set(answer) <= DTMF_KEYS:
        return answer
    raise ValueError(f"{answer!r} is not an answer: use digits, Speech, Voicemail, SILENCE or HANGUP")


class ScriptedCaller:
    """A caller who gives scripted answers, one per Gather or Record, in order."""

    def __init__(self, answers: Sequence[Answer] = (), *, hang_up_when_done: bool = False):
        self._answers = deque(check_answer(a) for a in answers)
        self.hang_up_when_done = hang_up_when_done
        self.heard: list[str] = []

    def hear(self, text: str) -> None:
        self.heard.append(text)

    def answer_gather(self, prompt: GatherPrompt) -> Answer:
        return self._next(f'a <Gather> ("{prompt.said}")')

    def answer_record(self, prompt: RecordPrompt) -> Answer:
        return self._next("a <Record>")

    def _next(self, where: str) -> Answer:
        if self._answers:
            return self._answers.popleft()
        if self.hang_up_when_done:
            return HANGUP
        raise ScriptExhausted(f"the caller's script ran out at {where}")


@dataclass
class ScriptedEngineer:
    """An engineer who answered: "accept" presses 1 at the whisper, "refuse" 9, "silent" nothing."""

    label: str
    talk_seconds: int = 60
    heard: list[str] = field(default_factory=list)

    def hear(self, text: str) -> None:
        self.heard.append(text)

    def answer_gather(self, prompt: GatherPrompt) -> Answer:
        return {"accept": "1", "refuse": "9"}.get(self.label, SILENCE)


class ScriptedEngineers:
    """Engineers whose behaviour per ring is scripted.

    `behaviours` is a sequence consumed one per Dial, or a mapping from number to a behaviour
    (used on every ring of that number) or to a sequence (consumed one per ring). Behaviours:
    "accept", "refuse", "silent" (they answer), "no-answer", "busy", "failed". A number with no
    behaviour left does not answer.
    """

    def __init__(
        self,
        behaviours: Sequence[str] | Mapping[str, str | Sequence[str]],
        *,
        talk_seconds: int = 60,
    ):
        self.talk_seconds = talk_seconds
        if isinstance(behaviours, Mapping):
            self._by_number = {
                number: b if isinstance(b, str) else deque(b) for number, b in behaviours.items()
            }
            self._in_order = None
            listed = [x for b in self._by_number.values() for x in ([b] if isinstance(b, str) else b)]
        else:
            self._by_number = None
            self._in_order = deque(behaviours)
            listed = list(self._in_order)
        for behaviour in listed:
            if behaviour not in ANSWERING_BEHAVIOURS + UNANSWERED_STATUSES:
                raise ValueError(f"unknown engineer behaviour {behaviour!r}")

    def ring(self, number: str, seconds: int = 30) -> Engineer | str:
        behaviour = self._next(number)
        if behaviour in UNANSWERED_STATUSES:
            return behaviour
        return ScriptedEngineer(behaviour, talk_seconds=self.talk_seconds)

    def _next(self, number: str) -> str:
        if self._in_order is not None:
            return self._in_order.popleft() if self._in_order else "no-answer"
        planned = self._by_number.get(number)
        if isinstance(planned, str):
            return planned
        return planned.popleft() if planned else "no-answer"
