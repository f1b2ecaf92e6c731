"""The call flow's decisions, without Flask or a database: keys, speech, re-prompts, defaults."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ivr.flow import (CallerInput, Effect, Notice, Step, advance, after_dial, callback_for_abandoned_call, offered_tickets,
                      ticket_looked_up, tickets_offered)
from ivr.menus import MAX_TRIES, entered_digits


@dataclass
class State:
    step: str = Step.MAIN_MENU
    tries: int = 0
    notice: str | None = None
    severity: str | None = None
    caller_id: str | None = "+14155551234"
    callback_number: str | None = None
    pending_number: str | None = None
    callback_settled: bool = False
    looked_up_number: str | None = None
    requester_id: int | None = None
    offered_tickets: str | None = None


def keys(digits: str | None = None, speech: str | None = None) -> CallerInput:
    return CallerInput(digits=digits, speech=speech)


@pytest.mark.parametrize(
    ("said", "step"),
    [
        (keys("1"), Step.SEVERITY),
        (keys("2"), Step.TICKET_LOOKUP),
        (keys(speech="I want to report a new issue"), Step.SEVERITY),
        (keys(speech="status please"), Step.TICKET_LOOKUP),
    ],
)
def test_main_menu_goes_where_the_caller_asks(said: CallerInput, step: Step) -> None:
    state = State()
    assert advance(state, said, "US") is Effect.NONE
    assert state.step == step and state.tries == 0


@pytest.mark.parametrize("bad", [keys("9"), keys("*"), keys(), keys(speech="banana"), keys("12")])
def test_a_wrong_key_or_silence_at_the_main_menu_asks_again(bad: CallerInput) -> None:
    state = State()
    advance(state, bad, "US")
    assert state.step == Step.MAIN_MENU
    assert state.tries == 1 and state.notice == Notice.NOT_UNDERSTOOD


def test_three_failures_at_the_main_menu_lead_to_a_new_issue() -> None:
    state = State()
    for _ in range(MAX_TRIES):
        advance(state, keys(), "US")
    assert state.step == Step.SEVERITY and state.notice == Notice.DEFAULT_NEW_ISSUE


@pytest.mark.parametrize(
    ("said", "severity"),
    [(keys("1"), "critical"), (keys("2"), "high"), (keys("3"), "normal"), (keys("4"), "low"), (keys(speech="Critical!"), "critical"), (keys(speech="low priority"), "low")],
)
def test_severity_keys_and_words(said: CallerInput, severity: str) -> None:
    state = State(step=Step.SEVERITY)
    advance(state, said, "US")
    assert state.severity == severity
    assert state.step == Step.CALLBACK_CHOICE


def test_three_failures_at_severity_make_it_normal() -> None:
    state = State(step=Step.SEVERITY)
    for _ in range(MAX_TRIES - 1):
        advance(state, keys("7"), "US")
        assert state.severity is None
    advance(state, keys("7"), "US")
    assert state.severity == "normal" and state.notice == Notice.DEFAULT_SEVERITY


def test_without_a_usable_caller_id_severity_leads_straight_to_number_entry() -> None:
    state = State(step=Step.SEVERITY, caller_id=None)
    advance(state, keys("2"), "US")
    assert state.step == Step.CALLBACK_ENTRY


def test_callback_at_the_calling_number_opens_the_ticket() -> None:
    state = State(step=Step.CALLBACK_CHOICE, severity="high")
    assert advance(state, keys("1"), "US") is Effect.OPEN_TICKET
    assert state.callback_number == "+14155551234" and state.callback_settled
    assert state.step == Step.CONNECTING and state.notice == Notice.TICKET_OPENED


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("4155550123", "+14155550123"), ("14155550123#", "+14155550123"), ("011442079460000", "+442079460000")],
)
def test_entered_numbers_are_read_in_the_phone_region_and_stored_in_e164(typed: str, stored: str) -> None:
    state = State(step=Step.CALLBACK_ENTRY)
    advance(state, keys(typed), "US")
    assert state.pending_number == stored and state.step == Step.CALLBACK_CONFIRM


def test_confirming_the_entered_number_opens_the_ticket_with_it() -> None:
    state = State(step=Step.CALLBACK_CONFIRM, pending_number="+14155550123")
    assert advance(state, keys("1"), "US") is Effect.OPEN_TICKET
    assert state.callback_number == "+14155550123"


def test_asking_to_enter_the_number_again_goes_back_to_entry() -> None:
    state = State(step=Step.CALLBACK_CONFIRM, pending_number="+14155550123")
    advance(state, keys("2"), "US")
    assert state.step == Step.CALLBACK_ENTRY and state.callback_number is None


@pytest.mark.parametrize("garbage", ["123", "abc", "9" * 5000, "' OR 1=1 --", "٤١٥٥٥٥٠١٢٣", ""])
def test_an_invalid_number_is_refused_with_a_reprompt(garbage: str) -> None:
    state = State(step=Step.CALLBACK_ENTRY)
    assert advance(state, keys(garbage or None), "US") is Effect.NONE
    assert state.step == Step.CALLBACK_ENTRY and state.tries == 1
    assert state.pending_number is None


def test_three_invalid_numbers_fall_back_to_the_caller_id() -> None:
    state = State(step=Step.CALLBACK_ENTRY)
    effects = [advance(state, keys("000"), "US") for _ in range(MAX_TRIES)]
    assert effects[-1] is Effect.OPEN_TICKET
    assert state.callback_number == "+14155551234"


def test_three_invalid_numbers_without_caller_id_open_the_ticket_without_a_callback() -> None:
    state = State(step=Step.CALLBACK_ENTRY, caller_id=None)
    for _ in range(MAX_TRIES):
        effect = advance(state, keys(), "US")
    assert effect is Effect.OPEN_TICKET
    assert state.callback_number is None and state.callback_settled


def test_ticket_lookup_asks_for_a_lookup_and_reads_a_found_ticket() -> None:
    state = State(step=Step.TICKET_LOOKUP)
    assert advance(state, keys("10042#"), "US") is Effect.LOOK_UP_TICKET
    assert state.looked_up_number == "10042"
    ticket_looked_up(state, found=True)
    assert state.step == Step.STATUS_READ


def test_three_missing_tickets_lead_to_a_new_issue() -> None:
    state = State(step=Step.TICKET_LOOKUP)
    for _ in range(MAX_TRIES):
        advance(state, keys("99999"), "US")
        ticket_looked_up(state, found=False)
    assert state.step == Step.SEVERITY and state.notice == Notice.LOOKUP_GAVE_UP


def test_an_abandoned_call_keeps_the_best_callback_it_has() -> None:
    assert callback_for_abandoned_call(State(pending_number="+14155550123"))[0] == "+14155550123"
    assert callback_for_abandoned_call(State())[0] == "+14155551234"
    assert callback_for_abandoned_call(State(caller_id=None))[0] is None


@pytest.mark.parametrize(
    ("index", "count", "accepted", "connected", "step"),
    [
        (0, 3, True, True, Step.CONNECTED),
        (0, 3, False, False, Step.CONNECTING),
        (1, 3, False, False, Step.CONNECTING),
        (2, 3, False, False, Step.VOICEMAIL),
        (2, 3, True, True, Step.CONNECTED),
    ],
)
def test_after_a_dial_only_an_accepted_whisper_connects_else_the_next_target_or_voicemail(
    index: int, count: int, accepted: bool, connected: bool, step: Step
) -> None:
    outcome = after_dial(index, count, accepted)
    assert outcome.connected is connected and outcome.next_step is step


@pytest.mark.parametrize(
    ("digits", "speech", "expected"),
    [("123#", None, "123"), (None, "one two three", "123"), (None, "four oh five", "405"), ("12a", None, None), ("1" * 21, None, None)],
)
def test_entered_digits_accepts_keys_and_spoken_digits_only(digits, speech, expected) -> None:
    assert entered_digits(digits, speech) == expected


# ----------------------------------------------------------------------------- a known caller's open tickets


def test_a_known_caller_asking_for_a_status_is_offered_their_open_tickets_first() -> None:
    state = State(requester_id=7)
    assert advance(state, keys("2"), "US") is Effect.OFFER_TICKETS
    tickets_offered(state, [(10042, "critical"), (10039, "normal")])
    assert (state.step, state.offered_tickets) == (Step.TICKET_CHOICE, "10042:critical,10039:normal")
    assert offered_tickets(state) == [("10042", "critical"), ("10039", "normal")]


def test_a_known_caller_without_open_tickets_is_asked_for_a_number() -> None:
    state = State(requester_id=7)
    advance(state, keys("2"), "US")
    tickets_offered(state, [])
    assert state.step == Step.TICKET_LOOKUP


@pytest.mark.parametrize(("said", "number"), [(keys("1"), "10042"), (keys("2"), "10039"), (keys(speech="two"), "10039")])
def test_a_key_or_its_word_chooses_an_offered_ticket(said: CallerInput, number: str) -> None:
    state = State(step=Step.TICKET_CHOICE, requester_id=7, offered_tickets="10042:critical,10039:normal")
    assert advance(state, said, "US") is Effect.LOOK_UP_TICKET
    assert state.looked_up_number == number


@pytest.mark.parametrize("said", [keys("0"), keys(speech="another ticket")])
def test_zero_asks_for_another_tickets_number(said: CallerInput) -> None:
    state = State(step=Step.TICKET_CHOICE, requester_id=7, offered_tickets="10042:critical")
    assert advance(state, said, "US") is Effect.NONE
    assert state.step == Step.TICKET_LOOKUP


def test_three_wrong_keys_at_the_ticket_choice_ask_for_a_number_instead() -> None:
    state = State(step=Step.TICKET_CHOICE, requester_id=7, offered_tickets="10042:critical")
    for _ in range(2):
        advance(state, keys("7"), "US")
        assert (state.step, state.notice) == (Step.TICKET_CHOICE, Notice.NOT_UNDERSTOOD)
    advance(state, keys(), "US")
    assert state.step == Step.TICKET_LOOKUP
