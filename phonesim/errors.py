"""What the phone raises when a call cannot go on: the line broke a rule Twilio holds, or the test did."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phonesim.call import CallRecord


class PhoneError(Exception):
    """Base of the errors the phone raises. `record` holds the call up to the failure."""

    record: CallRecord | None = None


class TwimlError(PhoneError):
    """The line answered something that is not TwiML this phone can execute."""


class WebhookError(PhoneError):
    """The line answered a webhook with a non-2xx status or a content type Twilio would refuse."""

    def __init__(self, url: str, status: int, body: str, content_type: str = ""):
        self.url = url
        self.status = status
        self.body = body
        self.content_type = content_type
        super().__init__(f"{url} answered {status} ({content_type or 'no Content-Type'}): {body[:500]}")


class TooManySteps(PhoneError):
    """The call made more requests than `max_requests`: most likely a loop in the line."""


class ScriptExhausted(PhoneError):
    """The caller's script ran out while the line still waited for input: a bug in the test."""
