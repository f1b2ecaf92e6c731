"""Every text message the line sends, in one place (the SMS twin of `ivr.prompts`).

Messages are short: an engineer reads them on a lock screen at 3 a.m. Times are in the
support time zone; each message says what to reply.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.limits import clipped
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
    excerpt = clipped(transcript, EXCERPT_LENGTH - 1)
    return f'{head} They said: "{excerpt}"'


def reopened(number: int, severity: str, requester: str, why: str | None) -> str:
    """To the engineer on duty when the requester says a resolved ticket is not resolved."""
    head = f"Ticket {number} ({severity}) reopened: {clipped(requester, 60)} says it is not resolved."
    tail = f" Reply ACK {number} or CALL {number}."
    return head + (f' "{clipped(why, EXCERPT_LENGTH - 1)}"' if why else "") + tail


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


def scheduled_call(number: int, customer_phone: str) -> str:
    """What the outbox shows for the call placed to an engineer at a scheduled call's time."""
    return f"Scheduled call for ticket {number} to {customer_phone}"


def scheduled_call_reminder(number: int, local_time: str, customer_phone: str, engineer: str) -> str:
    """The reminder both sides get a quarter of an hour before a scheduled call."""
    return (f"Reminder: support call about ticket {number} at {local_time}: {engineer} will be put through to "
            f"{customer_phone}.")


def scheduled_call_missed(number: int, local_time: str) -> str:
    """What the customer is told when the call planned for `local_time` did not happen."""
    return (f"Support could not make the call planned for {local_time} about ticket {number}. "
            "An engineer will call you back.")


def scheduled_call_description(number: int, subject: str | None, engineer: str, customer_phone: str) -> str:
    """The invitation's description: what the call is about and who calls whom."""
    about = f" ({subject})" if subject else ""
    return (f"Support call about ticket {number}{about}. At the time, the support line rings {engineer} and "
            f"puts them through to {customer_phone}.")


def scheduled_call_mail(number: int, words: str, when: str, engineer: str, customer_phone: str) -> str:
    """The mail that carries a scheduled call's invitation (`words`: planned, moved or cancelled)."""
    if words == "cancelled":
        return f"The support call about ticket {number} {when} is cancelled.\n"
    return (f"A support call about ticket {number} is {words}: {when}.\n\n"
            f"At the time the support line rings {engineer} and puts them through to {customer_phone}. "
            "The attached invitation adds it to your calendar.\n")


# How a digest names each kind of alert, after the ticket's severity and number.
DIGEST_WORDS = {
    "new_ticket": "new ticket",
    "missed_call": "missed call, call back",
    "voicemail": "voicemail",
    "sla_50": "half its response time gone",
    "sla_80": "80% of its response time gone",
    "sla_breach": "response target missed",
}
DIGEST_REPLY = "Reply ACK <ticket> or CALL <ticket>."


def digest_line(kind: str, severity: str | None, number: int | None, body: str) -> str:
    """One alert as a digest names it: "HIGH 10003: voicemail"."""
    if number is None or severity is None:
        return clipped(body, EXCERPT_LENGTH)
    return f"{severity.upper()} {number}: {DIGEST_WORDS.get(kind, kind.replace('_', ' '))}"


def digest(alerts: list[tuple[str, str]]) -> str:
    """Several alerts, most severe first, in one text of at most MAX_SMS_LENGTH characters.

    `alerts` holds each alert's full text and its digest line. All full texts if they fit;
    else every digest line; else as many lines as fit and how many more wait on the tickets page.
    """
    head = f"{len(alerts)} support alerts, most severe first:"
    full = head + "".join(f"\n- {body}" for body, _ in alerts)
    if len(full) <= MAX_SMS_LENGTH:
        return full
    lines = [line for _, line in alerts]
    for shown in range(len(lines), 0, -1):
        more = len(lines) - shown
        tail = f"\n…and {more} more on the tickets page." if more else ""
        text = head + "".join(f"\n- {line}" for line in lines[:shown]) + tail + "\n" + DIGEST_REPLY
        if len(text) <= MAX_SMS_LENGTH:
            return text
    return clipped(f"{head}\n- {lines[0]}", MAX_SMS_LENGTH - 1)


# ----------------------------------------------------------------------------- replies to engineers' texts

COMMAND_HELP = "Reply ACK <ticket>, RESOLVE <ticket>, CALL <ticket> or ONCALL."
NOT_ON_THE_TEAM = ("Sorry, this number is not on the support team, so it cannot send commands. "
                   "To report a problem, please call this number.")
NOT_UNDERSTOOD = "Sorry, I didn't understand that. " + COMMAND_HELP
TRY_AGAIN = "Sorry, something went wrong on our side. Please try again in a minute."


def no_such_ticket(number: str) -> str:
    """The ticket number in a command does not exist."""
    return f"There is no ticket {number}. " + COMMAND_HELP


def acknowledged(number: int, name: str) -> str:
    """ACK worked."""
    return f"Ticket {number} acknowledged. Thanks, {name.split()[0]}."


def already_acknowledged(number: int, by: str | None, at: datetime | None, timezone: str) -> str:
    """ACK on a ticket that already had its first response."""
    when = f" at {short_time(at, timezone)}" if at else ""
    return f"Ticket {number} was already acknowledged by {by or 'someone'}{when}."


def resolved(number: int) -> str:
    """RESOLVE worked."""
    return f"Ticket {number} resolved."


def already_resolved(number: int) -> str:
    """RESOLVE on a resolved ticket."""
    return f"Ticket {number} is already resolved."


def on_call_now(name: str | None, phone: str | None, until: datetime | None, then: str | None, timezone: str) -> str:
    """ONCALL: who is on duty now, until when, and who comes next."""
    if name is None:
        return "Nobody is on duty right now. Check the rotation on the admin page."
    text = f"On duty: {name} ({phone})"
    if until is not None:
        text += f" until {short_time(until, timezone)}"
    return text + (f". Next: {then}." if then else ".")


def calling_you(number: int, callback_number: str) -> str:
    """CALL accepted: the line will ring the engineer, then the customer."""
    return f"Callback queued: the line rings you in a moment, then connects you to {callback_number} for ticket {number}."
