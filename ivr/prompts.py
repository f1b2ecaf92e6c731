"""Everything the line says, in one place, so wording can be changed without touching the flow.

Numbers are spoken digit by digit ("1 0 0 4 2"), which text-to-speech reads one digit at
a time; times are spoken in the support time zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.phones import spoken_digits, spoken_phone
from ivr.menus import ANOTHER_TICKET_KEY

GREETING = "Thank you for calling support."


def greeting(name: str | None) -> str:
    """The first words of a call: a recognised caller hears their organisation (or their own name)."""
    return f"Thank you for calling support, {name}." if name else GREETING


MAIN_MENU = (
    "To report a new issue, press 1, or say new issue. "
    "To hear the status of an existing ticket, press 2, or say status."
)
NOT_UNDERSTOOD = "Sorry, I didn't get that."
DEFAULT_NEW_ISSUE = "Let's report a new issue."
SEVERITY_MENU = (
    "How severe is the problem? "
    "If the product is down or severely impaired, press 1 for critical. "
    "If major functionality is broken and there is no workaround, press 2 for high. "
    "If it partly affects you and there is a workaround, press 3 for normal. "
    "For a routine question, press 4 for low."
)
DEFAULT_SEVERITY = "I'll record this as a normal severity issue."
CALLBACK_ENTRY = (
    "Please enter the phone number we should call you back on, including the area code, "
    "then press the pound key."
)
INVALID_NUMBER = "Sorry, that is not a phone number I can call back."
TICKET_LOOKUP = "Please enter your ticket number, then press the pound key."
LOOKUP_GAVE_UP = "I couldn't find that ticket, so let's open a new one for you."
CONNECTING = "Connecting you to the on-duty engineer now. Please stay on the line."
NEXT_TARGET = "The engineer did not answer. Trying the next one. Please stay on the line."
VOICEMAIL = (
    "Nobody could take your call right now. After the tone, please describe the problem "
    "in up to two minutes, then press the pound key or hang up. We will call you back."
)
NO_MESSAGE = "We did not hear a message, but your ticket is open and we will call you back. Goodbye."
CONNECTED_GOODBYE = "Thank you for calling support. Goodbye."
STATUS_GOODBYE = "Thank you for calling. Goodbye."
WHISPER_ACCEPTED = "Connecting you to the caller now."
WHISPER_DECLINED = "Passing the call on. Goodbye."

# Said when the database cannot be reached (contract §1: "Primary handler fails").
FALLBACK_APOLOGY = "We're sorry, our support system is having trouble right now."
FALLBACK_CONNECTING = "Connecting you to our on-call line."
FALLBACK_VOICEMAIL = (
    "Please leave your name, the number to call you back on, and a description of the problem "
    "after the tone, then hang up. We will call you back as soon as possible."
)
FALLBACK_THANKS = "Thank you. We have your message and will call you back. Goodbye."


def spoken_time(at: datetime, timezone: str) -> str:
    """`at` as a listener understands it: "3:15 AM on Thursday, November 26, EST"."""
    local = at.astimezone(ZoneInfo(timezone))
    hour = local.strftime("%I").lstrip("0")
    return f"{hour}:{local:%M %p} on {local:%A, %B} {local.day}, {local:%Z}"


def callback_choice(caller_id: str, region: str) -> str:
    """Offer to call back the number the caller rings from."""
    return (
        f"Should we call you back at {spoken_phone(caller_id, region)}? "
        "Press 1 for yes, or press 2 to enter another number."
    )


def confirm_number(number: str, region: str) -> str:
    """Read an entered number back, digit by digit."""
    return f"You entered {spoken_phone(number, region)}. Press 1 if that is right, or press 2 to enter it again."


def ticket_opened(number: int, severity: str, target: str, due: datetime, timezone: str) -> str:
    """The new ticket's number, twice, and its response target."""
    digits = spoken_digits(str(number))
    return (
        f"Your ticket number is {digits}. Again, your ticket number is {digits}. "
        f"This is a {severity} ticket: we will respond within {target}, "
        f"by {spoken_time(due, timezone)}."
    )


_HOW_MANY = {1: "one open ticket", 2: "two open tickets", 3: "three open tickets", 4: "four open tickets",
             5: "five open tickets"}


def open_tickets(tickets: list[tuple[str, str]]) -> str:
    """A known caller's open tickets (number, severity), a key each, then the key for another ticket."""
    options = " ".join(f"For ticket {spoken_digits(number)}, {severity}, press {place}."
                       for place, (number, severity) in enumerate(tickets, 1))
    return f"You have {_HOW_MANY[len(tickets)]}. {options} For another ticket, press {ANOTHER_TICKET_KEY}."


def ticket_not_found(number: str) -> str:
    """Say that no ticket has this number."""
    return f"Sorry, I couldn't find ticket {spoken_digits(number)}."


def ticket_status(
    number: int,
    severity: str,
    status: str,
    due: datetime,
    first_response: datetime | None,
    resolved: datetime | None,
    timezone: str,
) -> str:
    """A ticket's severity, status and deadline, for the status branch of the menu."""
    text = f"Ticket {spoken_digits(str(number))} is a {severity} ticket, and it is {status}. "
    if resolved is not None:
        return text + f"It was resolved at {spoken_time(resolved, timezone)}."
    if first_response is not None:
        return text + f"An engineer first responded at {spoken_time(first_response, timezone)}."
    return text + f"A first response is due by {spoken_time(due, timezone)}."


def whisper(severity: str, number: int, caller: str | None, region: str) -> str:
    """What the engineer hears on answering a forwarded call, before accepting it."""
    who = f"from {spoken_phone(caller, region)}" if caller else "from a withheld number"
    return f"Support call: {severity} ticket {spoken_digits(str(number))} {who}. Press 1 to accept the call."


def voicemail_saved(number: int) -> str:
    """Thank the caller for a voicemail and remind them of their ticket."""
    return f"Thank you. Your message is on ticket {spoken_digits(str(number))}. We will call you back. Goodbye."


def callback_offer(severity: str, number: int) -> str:
    """What the engineer hears when the line rings them for an engineer callback."""
    return (f"Support callback for {severity} ticket {spoken_digits(str(number))}. "
            "Press 1 to call the customer now.")


def scheduled_call_offer(number: int) -> str:
    """The whisper an engineer hears when the line rings them at a scheduled call's time."""
    return f"Scheduled call for ticket {spoken_digits(str(number))}, press 1 to connect."


def callback_dialing(callback_number: str, region: str) -> str:
    """Said to the engineer while the customer's phone rings."""
    return f"Calling the customer at {spoken_phone(callback_number, region)}. Please hold."


CALLBACK_NOT_TAKEN = "No key pressed. The callback is cancelled. Goodbye."
CALLBACK_UNAVAILABLE = "This callback is no longer available. Goodbye."
CALLBACK_DONE = "The call with the customer has ended. Goodbye."


def callback_unanswered(status: str) -> str:
    """The customer did not pick up."""
    reason = {"busy": "was busy", "no-answer": "did not answer", "failed": "could not be reached"}.get(status, "did not answer")
    return f"The customer {reason}. The ticket notes the attempt. Goodbye."
