"""The call flow's next step: plain Python, no Flask, no database.

A call is a small state machine. Each webhook hands the caller's input (keys or
speech) to `advance`, which moves the state on and says what the line must do next
(open the ticket, look one up). `ivr.twiml.render` turns the resulting state into
TwiML, so a replayed webhook can be answered by rendering the same state again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ivr.menus import (ANOTHER_TICKET, CALLBACK_MENU, CONFIRM_MENU, MAIN_MENU, MAX_TRIES, SEVERITY_MENU, entered_digits,
                       open_tickets_menu)
from core.phones import to_e164
from tickets.sla import Severity


class Step(StrEnum):
    """Where a call is. The first group waits for the caller's keys; the rest do not."""

    MAIN_MENU = "main_menu"
    SEVERITY = "severity"
    CALLBACK_CHOICE = "callback_choice"
    CALLBACK_ENTRY = "callback_entry"
    CALLBACK_CONFIRM = "callback_confirm"
    TICKET_LOOKUP = "ticket_lookup"
    TICKET_CHOICE = "ticket_choice"
    CONNECTING = "connecting"
    VOICEMAIL = "voicemail"
    STATUS_READ = "status_read"
    CONNECTED = "connected"
    VOICEMAIL_DONE = "voicemail_done"
    NO_MESSAGE = "no_message"
    # An engineer callback: an outbound call to the engineer, then to the customer.
    ENGINEER_CALLBACK = "engineer_callback"


MENU_STEPS = frozenset(
    {Step.MAIN_MENU, Step.SEVERITY, Step.CALLBACK_CHOICE, Step.CALLBACK_ENTRY, Step.CALLBACK_CONFIRM, Step.TICKET_LOOKUP,
     Step.TICKET_CHOICE}
)


class Notice(StrEnum):
    """What the line says before the next prompt: why it asks again, or what just happened."""

    NOT_UNDERSTOOD = "not_understood"
    INVALID_NUMBER = "invalid_number"
    TICKET_NOT_FOUND = "ticket_not_found"
    LOOKUP_GAVE_UP = "lookup_gave_up"
    DEFAULT_NEW_ISSUE = "default_new_issue"
    DEFAULT_SEVERITY = "default_severity"
    TICKET_OPENED = "ticket_opened"
    NEXT_TARGET = "next_target"


class Effect(StrEnum):
    """Work the flow needs from the service layer after a step."""

    NONE = "none"
    OPEN_TICKET = "open_ticket"
    LOOK_UP_TICKET = "look_up_ticket"
    OFFER_TICKETS = "offer_tickets"  # a known caller asked for a status: find their open tickets


class FlowState(Protocol):
    """The fields of a call the flow reads and moves on (`ivr.live_call.LiveCall` has them)."""

    step: str
    tries: int
    notice: str | None
    severity: str | None
    caller_id: str | None
    callback_number: str | None
    pending_number: str | None
    callback_settled: bool
    looked_up_number: str | None
    requester_id: int | None
    offered_tickets: str | None


@dataclass(frozen=True)
class CallerInput:
    """What Twilio reported the caller did at a Gather: keys, words, or nothing."""

    digits: str | None = None
    speech: str | None = None


def _go(state: FlowState, step: Step, notice: Notice | None = None) -> None:
    state.step = step
    state.tries = 0
    state.notice = notice


def _failed(state: FlowState, notice: Notice) -> bool:
    """Count a wrong key or silence; True when the menu must now take its default."""
    state.tries += 1
    state.notice = notice
    return state.tries >= MAX_TRIES


def _ask_for_callback(state: FlowState) -> None:
    _go(state, Step.CALLBACK_CHOICE if state.caller_id else Step.CALLBACK_ENTRY, state.notice)


def _settle_callback(state: FlowState, number: str | None) -> Effect:
    state.callback_number = number
    state.callback_settled = True
    _go(state, Step.CONNECTING, Notice.TICKET_OPENED)
    return Effect.OPEN_TICKET


def advance(state: FlowState, said: CallerInput, region: str) -> Effect:
    """Move a call waiting at a menu on by what the caller pressed or said.

    A wrong key or silence asks again; the third one takes the menu's default
    (contract §2), so nobody is ever dropped.
    """
    step = Step(state.step)
    if step is Step.MAIN_MENU:
        choice = MAIN_MENU.choose(said.digits, said.speech)
        if choice == "ticket_status":
            if state.requester_id is not None:
                return Effect.OFFER_TICKETS
            _go(state, Step.TICKET_LOOKUP)
        elif choice == "new_issue":
            _go(state, Step.SEVERITY)
        elif _failed(state, Notice.NOT_UNDERSTOOD):
            _go(state, Step.SEVERITY, Notice.DEFAULT_NEW_ISSUE)
        return Effect.NONE

    if step is Step.SEVERITY:
        choice = SEVERITY_MENU.choose(said.digits, said.speech)
        if choice is None and not _failed(state, Notice.NOT_UNDERSTOOD):
            return Effect.NONE
        state.severity = choice or Severity.NORMAL
        state.notice = None if choice else Notice.DEFAULT_SEVERITY
        _ask_for_callback(state)
        return Effect.NONE

    if step is Step.CALLBACK_CHOICE:
        choice = CALLBACK_MENU.choose(said.digits, said.speech)
        if choice == "other_number":
            _go(state, Step.CALLBACK_ENTRY)
            return Effect.NONE
        if choice == "this_number" or _failed(state, Notice.NOT_UNDERSTOOD):
            return _settle_callback(state, state.caller_id)
        return Effect.NONE

    if step is Step.CALLBACK_ENTRY:
        digits = entered_digits(said.digits, said.speech)
        number = to_e164(digits, region) if digits else None
        if number:
            state.pending_number = number
            _go(state, Step.CALLBACK_CONFIRM)
        elif _failed(state, Notice.INVALID_NUMBER):
            return _settle_callback(state, state.caller_id)
        return Effect.NONE

    if step is Step.CALLBACK_CONFIRM:
        choice = CONFIRM_MENU.choose(said.digits, said.speech)
        if choice == "reenter":
            _go(state, Step.CALLBACK_ENTRY)
            return Effect.NONE
        # The number was valid when entered, so the default after three tries is to keep it.
        if choice == "confirm" or _failed(state, Notice.NOT_UNDERSTOOD):
            return _settle_callback(state, state.pending_number)
        return Effect.NONE

    if step is Step.TICKET_LOOKUP:
        digits = entered_digits(said.digits, said.speech)
        if digits:
            state.looked_up_number = digits
            return Effect.LOOK_UP_TICKET
        if _failed(state, Notice.NOT_UNDERSTOOD):
            _go(state, Step.SEVERITY, Notice.LOOKUP_GAVE_UP)
        return Effect.NONE

    if step is Step.TICKET_CHOICE:
        tickets = offered_tickets(state)
        choice = open_tickets_menu(len(tickets)).choose(said.digits, said.speech)
        if choice == ANOTHER_TICKET:
            _go(state, Step.TICKET_LOOKUP)
        elif choice is not None:
            state.looked_up_number = tickets[int(choice)][0]
            return Effect.LOOK_UP_TICKET
        elif _failed(state, Notice.NOT_UNDERSTOOD):
            _go(state, Step.TICKET_LOOKUP)
        return Effect.NONE

    raise ValueError(f"a call at step {step} is not waiting for keys")


def tickets_offered(state: FlowState, tickets: Sequence[tuple[int, str]]) -> None:
    """A known caller's open tickets (number, severity), newest first: a menu of them, or the number entry."""
    if tickets:
        state.offered_tickets = ",".join(f"{number}:{severity}" for number, severity in tickets)
        _go(state, Step.TICKET_CHOICE)
    else:
        _go(state, Step.TICKET_LOOKUP)


def offered_tickets(state: FlowState) -> list[tuple[str, str]]:
    """The tickets the call offered, as (number, severity), in the order their keys go."""
    return [(number, severity) for item in (state.offered_tickets or "").split(",") if item
            for number, _, severity in [item.partition(":")]]


def ticket_looked_up(state: FlowState, found: bool) -> None:
    """The lookup's answer: read the ticket, or ask again (a new ticket after three misses)."""
    if found:
        _go(state, Step.STATUS_READ)
    elif _failed(state, Notice.TICKET_NOT_FOUND):
        _go(state, Step.SEVERITY, Notice.LOOKUP_GAVE_UP)


def callback_for_abandoned_call(state: FlowState) -> tuple[str | None, str]:
    """The best callback number a caller left before hanging up, and where it came from."""
    if state.callback_settled:
        return state.callback_number, "chosen by the caller"
    if state.pending_number:
        return state.pending_number, "entered but not confirmed before the caller hung up"
    if state.caller_id:
        return state.caller_id, "the caller ID (the caller hung up before choosing)"
    return None, "none (caller ID withheld)"


@dataclass(frozen=True)
class DialOutcome:
    """What became of ringing one target."""

    connected: bool
    next_step: Step


def after_dial(target_index: int, target_count: int, accepted: bool) -> DialOutcome:
    """After ringing target `target_index`: connected, the next target, or voicemail.

    Only pressing the accept key in the whisper counts as answering: Twilio reports
    `completed` for a phone that was picked up by its own voicemail, or by someone who
    heard the whisper and hung up, so `DialCallStatus` alone cannot tell.
    """
    if accepted:
        return DialOutcome(connected=True, next_step=Step.CONNECTED)
    if target_index + 1 < target_count:
        return DialOutcome(connected=False, next_step=Step.CONNECTING)
    return DialOutcome(connected=False, next_step=Step.VOICEMAIL)
