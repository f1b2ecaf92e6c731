"""What a ticket's fields may hold, checked before anything changes; refusals say what to fix.

Shared by the REST API, the ticket page and the SMS commands, so one rule has one wording.
"""

from __future__ import annotations

from typing import Any

from core.limits import Refusal, clipped, storable
from core.phones import checked_phone
from tickets.models import STATUSES, Ticket
from tickets.sla import Severity, parse_severity

MAX_DESCRIPTION_LENGTH = 10_000
MAX_NOTE_LENGTH = 2_000
CREATE_FIELDS = frozenset({"severity", "description", "caller_number", "callback_number"})
UPDATE_FIELDS = frozenset({"status", "severity", "description", "callback_number", "reason"})
# How much of a client's input a refusal repeats back.
MAX_ECHO = 60


class InvalidTicketChange(Refusal):
    """A ticket change that cannot be saved."""


class TicketNotFound(LookupError):
    """No ticket has that number."""


class TicketConflict(InvalidTicketChange):
    """The ticket's state does not allow the action now: already resolved, no number to call…"""

    def __init__(self, message: str, ticket: Ticket | None = None) -> None:
        super().__init__(message)
        self.ticket = ticket  # as it stands, for a reply that says who got there first


def shown(value: Any) -> str:
    """`value` as a refusal repeats it: quoted, and cut short when long."""
    return clipped(repr(value), MAX_ECHO, say_length=True)


def parse_status(value: Any) -> str:
    """A ticket status from user input (case and surrounding spaces ignored); ValueError names the allowed ones."""
    if isinstance(value, str) and value.strip().lower() in STATUSES:
        return value.strip().lower()
    raise ValueError(f"unknown status {shown(value)}; allowed values: {', '.join(STATUSES)}")


def checked_severity(fields: dict[str, Any]) -> Severity:
    """The `severity` field, or InvalidTicketChange naming the allowed ones."""
    try:
        return parse_severity(fields.get("severity"))
    except ValueError:
        allowed = ", ".join(s.value for s in Severity)
        raise InvalidTicketChange(
            f"severity must be one of {allowed}; got {shown(fields.get('severity'))}", "severity"
        ) from None


def checked_status(fields: dict[str, Any]) -> str:
    """The `status` field, or InvalidTicketChange naming the allowed ones."""
    try:
        return parse_status(fields.get("status"))
    except ValueError:
        raise InvalidTicketChange(
            f"status must be one of {', '.join(STATUSES)}; got {shown(fields.get('status'))}"
        ) from None


def checked_description(value: Any) -> str | None:
    """A description as it will be saved (surrounding spaces dropped; empty is None)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTicketChange("description must be text or null")
    value = value.strip()
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise InvalidTicketChange(f"description must be at most {MAX_DESCRIPTION_LENGTH} characters")
    if not storable(value):
        raise InvalidTicketChange("description must not contain NUL characters or unpaired surrogates")
    return value or None


def checked_optional_phone(name: str, value: Any, region: str) -> str | None:
    """An optional phone number in E.164: none given is None."""
    if value is None or value == "":
        return None
    return checked_phone(name, value, region, lambda message: InvalidTicketChange(message, name))


def refuse_unknown(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    """Refuse fields a client may not set, naming the ones it may."""
    unknown = set(fields) - allowed
    if unknown:
        names = ", ".join(shown(name) for name in sorted(unknown)[:10])
        raise InvalidTicketChange(
            f"unknown or read-only fields: {names}; allowed fields: {', '.join(sorted(allowed))}"
        )


def checked_note(text: Any) -> str:
    """A note as it will be saved (surrounding spaces dropped), or InvalidTicketChange saying what to fix."""
    return _checked_message(text, "note", "write what was done or found")


def checked_reply(text: Any) -> str:
    """A reply to the customer as it will be saved and mailed, or InvalidTicketChange saying what to fix."""
    return _checked_message(text, "reply", "write what the customer should read")


def checked_reason(text: Any) -> str | None:
    """Why support reclassified a ticket, as the customer will read it; None when none is given."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    return _checked_message(text, "reason", "say why the severity changes")


def _checked_message(text: Any, what: str, hint: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidTicketChange(f"the {what} is empty; {hint}", what)
    text = text.strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidTicketChange(f"a {what} may be at most {MAX_NOTE_LENGTH} characters; this one has {len(text)}",
                                  what)
    if not storable(text):
        raise InvalidTicketChange(f"the {what} must not contain NUL characters or unpaired surrogates", what)
    return text
