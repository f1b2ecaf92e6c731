"""TwiML for each state of a call, built with `twilio.twiml.voice_response`.

Rendering depends only on the call's stored state, so a webhook Twilio repeats gets
the same answer again without anything changing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr import prompts
from ivr.flow import Notice, Step, offered_tickets
from ivr.menus import SEVERITY_MENU, open_tickets_menu
from ivr.live_call import LiveCall
from tickets.sla import target_description

# How long the line waits for keys before treating the menu as silent.
MENU_TIMEOUT = 6
NUMBER_TIMEOUT = 10
# How long each engineer's phone rings before the next one is tried.
RING_SECONDS = 20
# Twilio transcribes recordings of up to two minutes only (warning 13617).
VOICEMAIL_MAX_SECONDS = 120


class CallLinks(Protocol):
    """The URLs a call's TwiML points Twilio at (built by the views with `url_for`)."""

    def gather(self, call: LiveCall) -> str: ...
    def dial_result(self, call: LiveCall) -> str: ...
    def whisper(self, call: LiveCall, target_index: int) -> str: ...
    def recorded(self, call: LiveCall) -> str: ...
    def transcript(self, call: LiveCall) -> str: ...


@dataclass(frozen=True)
class FallbackLinks:
    """The URLs of the database-free fallback path."""

    dialed: str
    recorded: str
    transcript: str


_NOTICES = {
    Notice.NOT_UNDERSTOOD: prompts.NOT_UNDERSTOOD,
    Notice.INVALID_NUMBER: prompts.INVALID_NUMBER,
    Notice.LOOKUP_GAVE_UP: prompts.LOOKUP_GAVE_UP,
    Notice.DEFAULT_NEW_ISSUE: prompts.DEFAULT_NEW_ISSUE,
    Notice.DEFAULT_SEVERITY: prompts.DEFAULT_SEVERITY,
    Notice.NEXT_TARGET: prompts.NEXT_TARGET,
}


def render(call: LiveCall, links: CallLinks, timezone: str, region: str) -> VoiceResponse:
    """The TwiML that plays the call's current step."""
    response = VoiceResponse()
    step = Step(call.step)
    if call.seq == 0:
        response.say(prompts.greeting(call.greeting_name))
    if call.notice == Notice.TICKET_NOT_FOUND:
        response.say(prompts.ticket_not_found(call.looked_up_number or ""))
    elif call.notice == Notice.TICKET_OPENED and call.ticket is not None:
        ticket = call.ticket
        response.say(
            prompts.ticket_opened(
                ticket.number, ticket.severity, target_description(ticket.severity), ticket.response_due_at, timezone
            )
        )
    elif call.notice in _NOTICES:
        response.say(_NOTICES[Notice(call.notice)])

    if step is Step.MAIN_MENU:
        _menu(response, links.gather(call), prompts.MAIN_MENU)
    elif step is Step.SEVERITY:
        _menu(response, links.gather(call), prompts.SEVERITY_MENU, hints=SEVERITY_MENU.words)
    elif step is Step.CALLBACK_CHOICE:
        _menu(response, links.gather(call), prompts.callback_choice(call.caller_id or "", region))
    elif step is Step.CALLBACK_ENTRY:
        _number_entry(response, links.gather(call), prompts.CALLBACK_ENTRY)
    elif step is Step.CALLBACK_CONFIRM:
        _menu(response, links.gather(call), prompts.confirm_number(call.pending_number or "", region))
    elif step is Step.TICKET_LOOKUP:
        _number_entry(response, links.gather(call), prompts.TICKET_LOOKUP)
    elif step is Step.TICKET_CHOICE:
        tickets = offered_tickets(call)
        _menu(response, links.gather(call), prompts.open_tickets(tickets), hints=open_tickets_menu(len(tickets)).words)
    elif step is Step.CONNECTING:
        _dial(response, call, links)
    elif step is Step.VOICEMAIL:
        response.say(prompts.VOICEMAIL)
        response.record(
            action=links.recorded(call),
            method="POST",
            max_length=VOICEMAIL_MAX_SECONDS,
            finish_on_key="#",
            play_beep=True,
            transcribe=True,
            transcribe_callback=links.transcript(call),
        )
        # Twilio only reaches this when nothing was recorded.
        response.say(prompts.NO_MESSAGE)
        response.hangup()
    elif step is Step.STATUS_READ:
        ticket = call.looked_up_ticket
        if ticket is not None:
            response.say(
                prompts.ticket_status(
                    ticket.number,
                    ticket.severity,
                    ticket.status,
                    ticket.response_due_at,
                    ticket.first_response_at,
                    ticket.resolved_at,
                    timezone,
                )
            )
        _goodbye(response, prompts.STATUS_GOODBYE)
    elif step is Step.CONNECTED:
        _goodbye(response, prompts.CONNECTED_GOODBYE)
    elif step is Step.VOICEMAIL_DONE:
        _goodbye(response, prompts.voicemail_saved(call.ticket.number) if call.ticket else prompts.FALLBACK_THANKS)
    elif step is Step.NO_MESSAGE:
        _goodbye(response, prompts.NO_MESSAGE)
    return response


def _menu(response: VoiceResponse, action: str, prompt: str, hints: dict | None = None) -> None:
    words = ", ".join(word for options in (hints or {}).values() for word in options if not word.isdigit())
    gather = Gather(
        input="dtmf speech",
        num_digits=1,
        action=action,
        method="POST",
        timeout=MENU_TIMEOUT,
        speech_timeout="auto",
        hints=words or None,
    )
    gather.say(prompt)
    response.append(gather)
    # No keys: Twilio falls through to here, and the same action counts the silence.
    response.redirect(action, method="POST")


def _number_entry(response: VoiceResponse, action: str, prompt: str) -> None:
    gather = Gather(
        input="dtmf speech", finish_on_key="#", action=action, method="POST", timeout=NUMBER_TIMEOUT, speech_timeout="auto"
    )
    gather.say(prompt)
    response.append(gather)
    response.redirect(action, method="POST")


def _dial(response: VoiceResponse, call: LiveCall, links: CallLinks) -> None:
    target = call.targets[call.target_index]
    if call.target_index == 0:
        response.say(prompts.CONNECTING)
    dial = response.dial(action=links.dial_result(call), method="POST", timeout=RING_SECONDS, answer_on_bridge=True)
    # The fallback line gets the whisper too, so its own voicemail cannot swallow the call.
    dial.number(target["phone"], url=links.whisper(call, call.target_index), method="POST")


def _goodbye(response: VoiceResponse, text: str) -> None:
    response.say(text)
    response.hangup()


def whisper(severity: str, ticket_number: int, caller: str | None, region: str, accept_url: str) -> VoiceResponse:
    """What the engineer's leg plays before the call is bridged: accept with 1, else pass."""
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, action=accept_url, method="POST", timeout=MENU_TIMEOUT)
    gather.say(prompts.whisper(severity, ticket_number, caller, region))
    response.append(gather)
    response.say(prompts.WHISPER_DECLINED)
    response.hangup()
    return response


def whisper_answer(accepted: bool) -> VoiceResponse:
    """After the engineer's key: bridging (the document ends) or hanging up their leg."""
    response = VoiceResponse()
    if accepted:
        response.say(prompts.WHISPER_ACCEPTED)
    else:
        response.say(prompts.WHISPER_DECLINED)
        response.hangup()
    return response


def fallback(fallback_number: str | None, links: FallbackLinks) -> VoiceResponse:
    """The line's answer when its database is out of reach: the fallback number, else a voicemail."""
    response = VoiceResponse()
    response.say(prompts.FALLBACK_APOLOGY)
    if fallback_number:
        response.say(prompts.FALLBACK_CONNECTING)
        dial = response.dial(action=links.dialed, method="POST", timeout=RING_SECONDS * 2, answer_on_bridge=True)
        dial.number(fallback_number)
        return response
    return fallback_voicemail(links, response)


def fallback_voicemail(links: FallbackLinks, response: VoiceResponse | None = None) -> VoiceResponse:
    """A voicemail whose details go to the local spool, not the database."""
    response = response or VoiceResponse()
    response.say(prompts.FALLBACK_VOICEMAIL)
    response.record(
        action=links.recorded,
        method="POST",
        max_length=VOICEMAIL_MAX_SECONDS,
        play_beep=True,
        transcribe=True,
        transcribe_callback=links.transcript,
    )
    _goodbye(response, prompts.FALLBACK_THANKS)
    return response


def goodbye(text: str) -> VoiceResponse:
    """A closing sentence and a hang-up."""
    response = VoiceResponse()
    _goodbye(response, text)
    return response
