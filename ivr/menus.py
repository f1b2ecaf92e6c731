"""The keys callers and engineers press, and the words they may say instead: one mapping per menu.

Contract §2 fixes the keys; the words are a courtesy on top, matched whole-word and
case-insensitively against Twilio's `SpeechResult`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tickets.sla import Severity

# After this many wrong keys or silences a menu stops asking and takes its default.
MAX_TRIES = 3

# Longest key sequence worth reading: a phone number with an international prefix.
MAX_DIGITS = 20

# The key an engineer presses in the whisper to take the call.
ACCEPT_KEY = "1"


@dataclass(frozen=True)
class Menu:
    """A menu's choices by key, and the words that mean the same."""

    name: str
    keys: dict[str, str]
    words: dict[str, tuple[str, ...]]

    def choose(self, digits: str | None, speech: str | None) -> str | None:
        """The caller's choice, or None when the input means nothing here."""
        if digits:
            return self.keys.get(digits.strip())
        if speech:
            said = set(re.findall(r"[a-z0-9]+", speech.lower()))
            # Speech recognition may return the key as a numeral ("2") as well as a word.
            meant = {
                choice
                for key, choice in self.keys.items()
                if key in said or said.intersection(self.words.get(choice, ()))
            }
            # "Not critical, just a question" names two choices: better to ask again than guess.
            if len(meant) == 1:
                return meant.pop()
        return None


MAIN_MENU = Menu(
    name="main",
    keys={"1": "new_issue", "2": "ticket_status"},
    words={
        "new_issue": ("new", "issue", "report", "problem", "broken", "down", "one"),
        "ticket_status": ("status", "existing", "check", "update", "two"),
    },
)

SEVERITY_MENU = Menu(
    name="severity",
    keys={"1": Severity.CRITICAL, "2": Severity.HIGH, "3": Severity.NORMAL, "4": Severity.LOW},
    words={
        Severity.CRITICAL: ("critical", "urgent", "emergency", "outage", "one"),
        Severity.HIGH: ("high", "major", "two"),
        Severity.NORMAL: ("normal", "medium", "moderate", "three"),
        Severity.LOW: ("low", "minor", "question", "routine", "four"),
    },
)

CALLBACK_MENU = Menu(
    name="callback",
    keys={"1": "this_number", "2": "other_number"},
    words={
        "this_number": ("yes", "this", "same", "one"),
        "other_number": ("no", "another", "other", "different", "two"),
    },
)

CONFIRM_MENU = Menu(
    name="confirm",
    keys={"1": "confirm", "2": "reenter"},
    words={
        "confirm": ("yes", "correct", "right", "confirm", "one"),
        "reenter": ("no", "wrong", "again", "two"),
    },
)

# A known caller asking for a status hears their open tickets first, newest first, one key each;
# this key asks for another ticket's number instead.
MAX_OFFERED_TICKETS = 5
ANOTHER_TICKET_KEY = "0"
ANOTHER_TICKET = "another"
_PLACE_WORDS = ("one", "two", "three", "four", "five")


def open_tickets_menu(count: int) -> Menu:
    """The menu of a known caller's `count` open tickets: keys 1 to `count` choose one (the choice is
    its place, "0" for the first), ANOTHER_TICKET_KEY asks for another number."""
    keys = {str(place + 1): str(place) for place in range(count)}
    words: dict[str, tuple[str, ...]] = {str(place): (_PLACE_WORDS[place],) for place in range(count)}
    keys[ANOTHER_TICKET_KEY] = ANOTHER_TICKET
    words[ANOTHER_TICKET] = ("another", "other", "different", "zero")
    return Menu(name="open_tickets", keys=keys, words=words)


_SPOKEN_DIGITS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}


def entered_digits(digits: str | None, speech: str | None) -> str | None:
    """Digits typed (without the closing `#`) or spoken; None for anything else."""
    if digits:
        digits = digits.strip().rstrip("#")
        ok = digits.isascii() and digits.isdigit() and len(digits) <= MAX_DIGITS
        return digits if ok else None
    if speech:
        spoken = "".join(_SPOKEN_DIGITS.get(word, word) for word in re.findall(r"[a-z]+|\d+", speech.lower()))
        ok = spoken.isascii() and spoken.isdigit() and len(spoken) <= MAX_DIGITS
        return spoken if ok else None
    return None
