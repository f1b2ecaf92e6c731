"""Texts from on-call engineers to the support number (contract §3): ACK, RESOLVE, ONCALL, CALL.

Only known, active contacts may use them; anyone else gets a polite refusal and
nothing changes. Replies are TwiML `<Message>`s.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException

from core.clock import current_clock
from core.db import InsertUnlessPresent, db
from core.settings import current_settings
from ivr.signature import signed_by_twilio
from ivr.models import InboundText
from oncall.models import Contact
from core.phones import to_e164
from oncall.service import duty_outlook
from tickets import messages
from tickets.fields import InvalidTicketChange, TicketConflict, TicketNotFound
from tickets.service import acknowledge_ticket, resolve_ticket, start_callback

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__)

_TICKET_COMMAND = re.compile(r"#?\s*(ACK|RESOLVE|CALL)\s+#?\s*(\d{1,12})")
_ONCALL = re.compile(r"#?\s*ON\s*CALL")


@dataclass(frozen=True)
class Command:
    """An engineer's command: the verb and, for the ticket commands, the ticket number."""

    verb: str
    ticket: str | None = None


def parse_command(body: str) -> Command | None:
    """The command in a text, or None. Case, extra spaces and a leading `#` don't matter."""
    text = " ".join(body.split()).upper()
    if _ONCALL.fullmatch(text):
        return Command("ONCALL")
    match = _TICKET_COMMAND.fullmatch(text)
    return Command(match.group(1), match.group(2)) if match else None


def _reply(text: str) -> Response:
    response = MessagingResponse()
    response.message(text)
    return Response(str(response), mimetype="text/xml")


def _sender(raw: str) -> Contact | None:
    phone = to_e164(raw, current_settings().phone_region)
    if phone is None:
        return None
    return db().scalar(select(Contact).where(Contact.phone == phone, Contact.active.is_(True)).limit(1))


@bp.errorhandler(Exception)
def _failed(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return error  # type: ignore[return-value]
    log.exception("SMS command failed")
    db().rollback()
    return _reply(messages.TRY_AGAIN)


@bp.post("/sms")
@signed_by_twilio
def incoming_text() -> Response:
    """An engineer's text: check the sender, do the command, reply."""
    contact = _sender(request.form.get("From", "")[:64])
    if contact is None:
        return _reply(messages.NOT_ON_THE_TEAM)
    command = parse_command(request.form.get("Body", "")[:500])
    if command is None:
        return _reply(messages.NOT_UNDERSTOOD)
    reply = obey(command, contact, (request.form.get("MessageSid") or "")[:64] or None)
    return _reply(reply) if reply is not None else _nothing()


def _nothing() -> Response:
    return Response(str(MessagingResponse()), mimetype="text/xml")


def _first_time(session: Session, message_sid: str | None, now: datetime) -> bool:
    """Whether this text is new; it is recorded with whatever the command changes (same transaction)."""
    if message_sid is None:
        return True
    return _INSERT_TEXT.run(session, {"message_sid": message_sid, "received_at": now}) is not None


_INSERT_TEXT = InsertUnlessPresent(InboundText.__table__, "message_sid", returning=InboundText.__table__.c.message_sid)


def obey(command: Command, contact: Contact, message_sid: str | None = None) -> str | None:
    """Carry out a command from a contact with one service call; the reply text, or None for a
    text (`message_sid`) already carried out, which changes nothing and gets no second reply.

    ACK and RESOLVE are the ticket page's acknowledge and resolve (`tickets.service`), so the
    rules and the timeline are the same whichever way an engineer answers.
    """
    settings = current_settings()
    session, now, timezone = db(), current_clock(), settings.support_timezone
    number = command.ticket or ""
    if not _first_time(session, message_sid, now):
        session.rollback()
        return None
    try:
        if command.verb == "ONCALL":
            outlook = duty_outlook(session, now)
            session.commit()  # only the text's record: ONCALL changes nothing
            on, until = outlook.duty.on_duty, outlook.duty.shift_end
            then = (outlook.next.name if outlook.next else "nobody") if until else None
            return messages.on_call_now(on.name if on else None, on.phone if on else None, until, then, timezone)
        if command.verb == "ACK":
            ticket = acknowledge_ticket(session, number, now=now, actor=contact.name, via=" by SMS")
            return messages.acknowledged(ticket.number, contact.name)
        if command.verb == "RESOLVE":
            ticket = resolve_ticket(session, number, now=now, actor=contact.name, via=" by SMS")
            return messages.resolved(ticket.number)
        # The same rules as the ticket page: not for a resolved ticket, nor twice while one is waiting
        # (which also makes a text Twilio delivers twice ring the engineer once).
        ticket, _ = start_callback(session, number, contact.id, region=settings.phone_region, now=now,
                                   actor=contact.name)
        return messages.calling_you(ticket.number, ticket.callback_number or "")
    except TicketNotFound:
        return messages.no_such_ticket(number)
    except InvalidTicketChange as refusal:
        reply = _refused(command.verb, refusal, timezone)
        session.rollback()
        return reply


def _refused(verb: str, refusal: InvalidTicketChange, timezone: str) -> str:
    """The reply to a command the ticket's state refused: who got there first, or why not."""
    refused = refusal.ticket if isinstance(refusal, TicketConflict) else None
    if verb == "ACK" and refused is not None:
        return messages.already_acknowledged(refused.number, refused.responded_by, refused.first_response_at, timezone)
    if verb == "RESOLVE" and refused is not None:
        return messages.already_resolved(refused.number)
    return f"Not calling: {refusal}."
