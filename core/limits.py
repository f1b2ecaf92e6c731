"""Limits on what the line stores and echoes, shared by every form, API field and message.

Ids are 32-bit integers in the schema; times outside the years below are typing mistakes;
both databases must be able to store every text the line keeps.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

# Ids are 32-bit integers in the schema; a larger one names nothing and must not reach a query.
MAX_ROW_ID = 2**31 - 1
# Times outside these years are typing mistakes, and past them datetime arithmetic overflows.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200
# The longest id a URL or form may carry: nine digits always fit MAX_ROW_ID.
MAX_ID_DIGITS = 9


class Refusal(ValueError):
    """A change that cannot be saved: the message says what to fix, `field` which field it concerns (if one),
    so a page shows it next to that field. Each area's refusals are its own subclass."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def storable(text: str) -> bool:
    """Whether both databases can store `text`: no NUL (PostgreSQL refuses it), no lone surrogates."""
    return "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)


def one_line(text: str) -> bool:
    """Whether `text` fits on one line of a page, a header or a calendar: no control characters."""
    return not any(unicodedata.category(ch) == "Cc" for ch in text)


def checked_name(value: Any, longest: int, refusal: Callable[[str], Exception]) -> str:
    """A contact's, person's or organisation's name as saved (spaces around it dropped), or `refusal` saying
    what is wrong (the caller's own error type, naming the field)."""
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > longest or not storable(value):
        raise refusal(f"name must be text of 1 to {longest} characters")
    if not one_line(value.strip()):
        raise refusal("name must be one line, without tabs or other control characters")
    return value.strip()


def whole_number(raw: Any, largest: int, *, digits: int | None = None) -> int | None:
    """The whole number from 0 to `largest` that `raw` spells (ASCII digits, at most `digits`
    of them, as many as `largest` has by default; spaces around allowed), or None: the one
    parser for ids, counts, places and seconds that come from outside."""
    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= (digits or len(str(largest)))):
        return None
    number = int(text)
    return number if number <= largest else None


def row_id(raw: Any) -> int | None:
    """The row id `raw` spells (ASCII digits, at most nine, spaces around allowed), or None."""
    number = whole_number(raw, MAX_ROW_ID)
    return number if number else None


def clipped(text: str, limit: int, *, say_length: bool = False) -> str:
    """`text` cut to `limit` characters with an ellipsis, for repeating a client's input back.

    `say_length` adds how long the whole text was, where the reader may want to know.
    """
    if len(text) <= limit:
        return text
    return text[:limit] + (f"… ({len(text)} characters)" if say_length else "…")

