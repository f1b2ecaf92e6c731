"""Every text message the line sends, in one place (the SMS twin of `ivr.prompts`).

Messages are short: an engineer reads them on a lock screen at 3 a.m. Times are in the
support time zone; each message says what to reply.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tickets.sla import target_description

# One SMS may carry up to 1600 characters (Twilio splits it into segments).
MAX_SMS_LENGTH = 1600
EXCERPT_LENGTH = 140


def short_time(at: datetime, timezone: str) -> str:
    """`at` as "Thu 26 Nov 12:00 AM EST" in `timezone`."""
    local = at.astimezone(ZoneInfo(timezone))
    return f"{local:%a %d %b} {local.strftime('%I:%M %p').lstrip('0')} {local:%Z}"


def _who(caller: str | None, callback: str | None) -> str:
    text = f"from {caller}" if caller else "from a withheld number"
    if callback and callback != caller:
        text += f", callback {callback}"
    elif not callback:
        text += ", no callback number"
    return text


def new_ticket(number: int, severity: str, caller: str | None, callback: str | None, due: datetime, timezone: str,
               source: str = "phone") -> str:
    """To the engineer on duty when a ticket is opened."""
    if caller or source == "phone":
        who = _who(caller, callback)
    else:
        # No caller to name: say where the ticket came from rather than "a withheld number".
        who = f"opened via {source}" + (f", callback {callback}" if callback else ", no callback number")
    return (f"New {severity} ticket {number} {who}. "
            f"Respond by {short_time(due, timezone)}. Reply ACK {number} or CALL {number}.")


def missed_call(number: int, severity: str, caller: str | None, callback: str | None) -> str:
    """To the engineer on duty when nobody took a caller's call."""
    return (f"Missed support call: {severity} ticket {number} {_who(caller, callback)}. "
            f"Reply CALL {number} to ring them back, or ACK {number}.")


def voicemail(number: int, severity: str, transcript: str | None) -> str:
    """To the engineer on duty when a caller left a voicemail."""
    head = f"Voicemail on {severity} ticket {number}. Reply CALL {number} to ring back."
    if not transcript:
        return head + " No transcript; the recording is on the ticket."
    excerpt = transcript if len(transcript) <= EXCERPT_LENGTH else transcript[: EXCERPT_LENGTH - 1] + "…"
    return f'{head} They said: "{excerpt}"'


def sla_warning(number: int, severity: str, percent: int, due: datetime, timezone: str) -> str:
    """At 50 % and 80 % of the target with no first response."""
    return (f"Ticket {number} ({severity}) has had no response for {percent}% of its "
            f"{target_description(severity)} target: due {short_time(due, timezone)}. Reply ACK {number}.")


def sla_breach(number: int, severity: str, due: datetime, timezone: str) -> str:
    """When the target passes with no first response."""
    return (f"SLA BREACHED: {severity} ticket {number} had no first response within "
            f"{target_description(severity)} (due {short_time(due, timezone)}). Reply ACK {number}.")


def callback(number: int, callback_number: str) -> str:
    """What the outbox shows for an engineer callback (a call, not a text)."""
    return f"Engineer callback for ticket {number} to {callback_number}"


def bundle(bodies: list[str]) -> str:
    """Several alerts for one engineer in one text (the outbox keeps it under MAX_SMS_LENGTH)."""
    return f"{len(bodies)} support alerts:" + "".join(f"\n- {body}" for body in bodies)
