"""Scheduled calls: a call with the requester that an engineer plans for a time (an upgrade window, say).

The engineer names a local time in a time zone (the requester's or their own). Then the line:

1. e-mails the requester and the engineer an invitation with an iCalendar attachment (METHOD:REQUEST);
   a new time sends it again with a higher SEQUENCE, a cancellation sends METHOD:CANCEL;
2. texts both a reminder REMIND_BEFORE ahead;
3. at the time, rings the engineer through the outbox, as for an engineer callback: `ivr/` whispers
   "scheduled call for ticket 1 0 0 4 2, press 1 to connect" and dials the customer from the support number;
4. if that engineer does not take it, rings the next contact on duty it has not rung yet; when nobody is
   left, texts the customer that support will call back.

Every change is a timeline entry on the ticket; every message goes through the outbox, once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.limits import row_id
from oncall.models import Contact
from oncall.schedule import Duty
from tickets import messages
from tickets.fields import InvalidTicketChange, TicketConflict, TicketNotFound, checked_optional_phone, shown
from tickets.mailing import MailIdentity, mint_message_id, ticket_subject
from tickets.models import Notification, ScheduledCall, Ticket
from tickets.outbox import enqueue
from tickets.records import note, record_first_response
from tickets.service import engineer_to_ring, get_ticket
from web.pages import known_zone

REMIND_BEFORE = timedelta(minutes=15)
DEFAULT_MINUTES = 30
SHORTEST_MINUTES, LONGEST_MINUTES = 5, 480
# Further ahead than this is a typing mistake (the wrong year).
FURTHEST_AHEAD = timedelta(days=366)
# A call whose time passed while the worker was stopped is still placed this long after it; past that the
# customer is texted that support will call back.
LATE_START_LIMIT = timedelta(minutes=30)
# A ring Twilio has not reported on after this long is taken as not answered (its status callback was lost).
RING_UNREPORTED = timedelta(minutes=5)
FIELDS = frozenset({"contact_id", "local_time", "timezone", "minutes", "phone"})
CHANGE_FIELDS = frozenset({"local_time", "timezone", "minutes"})
# The ones still to happen: they can move or be called off.
PENDING = ("scheduled",)


def _refuse_unknown(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidTicketChange(f"unknown field {unknown[0]!r}; a scheduled call takes {', '.join(sorted(allowed))}",
                                  unknown[0])


def checked_start(fields: dict[str, Any], now: datetime) -> tuple[datetime, str]:
    """The instant `local_time` ("2026-12-10T09:00") names in `timezone` (an IANA zone), and the zone.

    A wall time that the zone skips (the hour clocks go forward) is refused; one that happens twice
    (the hour they go back) is the first of the two, as PEP 495's fold=0 has it.
    """
    zone_name = fields.get("timezone")
    zone = known_zone(zone_name) if isinstance(zone_name, str) else None
    if zone is None:
        raise InvalidTicketChange(f"timezone must be an IANA time zone such as Europe/Berlin; got {shown(zone_name)}",
                                  "timezone")
    text = fields.get("local_time")
    try:
        local = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        local = None
    if local is None or local.tzinfo is not None:
        raise InvalidTicketChange(f"local_time must be a local date and time such as 2026-12-10T09:00, without an "
                                  f"offset; got {shown(text)}", "local_time")
    if not 1970 < local.year < 2200:
        raise InvalidTicketChange("local_time must be in the years 1971 to 2199", "local_time")
    starts_at = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if starts_at.astimezone(zone).replace(tzinfo=None) != local.replace(fold=0):
        raise InvalidTicketChange(f"{local:%H:%M} does not exist on {local:%d %b %Y} in {zone.key}: the clocks skip "
                                  "it; choose another time", "local_time")
    if starts_at <= now:
        raise InvalidTicketChange(f"local_time is in the past ({local:%d %b %Y %H:%M} {zone.key})", "local_time")
    if starts_at > now + FURTHEST_AHEAD:
        raise InvalidTicketChange("local_time is more than a year ahead", "local_time")
    return starts_at, zone.key


def _checked_minutes(fields: dict[str, Any]) -> int:
    value = fields.get("minutes", DEFAULT_MINUTES)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not SHORTEST_MINUTES <= value <= LONGEST_MINUTES:
        raise InvalidTicketChange(f"minutes must be a whole number from {SHORTEST_MINUTES} to {LONGEST_MINUTES}; "
                                  f"got {shown(value)}", "minutes")
    return value


def scheduled_call_of(session: Session, number: str, call_id: Any) -> ScheduledCall:
    """Ticket `number`'s scheduled call `call_id`, or TicketNotFound."""
    ticket = get_ticket(session, number)
    wanted = row_id(str(call_id))
    found = session.get(ScheduledCall, wanted) if wanted is not None else None
    if found is None or found.ticket_id != ticket.id:
        raise TicketNotFound(f"ticket {ticket.number} has no scheduled call {shown(str(call_id))}")
    return found


def calls_of(session: Session, ticket: Ticket) -> list[ScheduledCall]:
    """A ticket's scheduled calls, soonest first."""
    return list(session.scalars(select(ScheduledCall).where(ScheduledCall.ticket_id == ticket.id)
                                .order_by(ScheduledCall.starts_at, ScheduledCall.id)))


def schedule_call(session: Session, number: str, fields: dict[str, Any], *, region: str, now: datetime, actor: str,
                  identity: MailIdentity | None) -> ScheduledCall:
    """Plan a call on ticket `number` with `contact_id` (the engineer) at `local_time` in `timezone`, for
    `minutes` (default 30), to `phone` (default the ticket's callback number, then the requester's phone);
    the invitations go out by mail. Commits."""
    _refuse_unknown(fields, FIELDS)
    ticket = get_ticket(session, number)
    if ticket.status == "closed":
        raise TicketConflict(f"ticket {ticket.number} is closed: open a new one to plan a call", ticket)
    engineer = engineer_to_ring(session, fields.get("contact_id"))
    starts_at, zone = checked_start(fields, now)
    minutes = _checked_minutes(fields)
    phone = checked_optional_phone("phone", fields.get("phone"), region) or ticket.callback_number or (
        ticket.requester.phone if ticket.requester else None)
    if not phone:
        raise InvalidTicketChange(f"ticket {ticket.number} has no callback number: give the phone to call", "phone")
    call = ScheduledCall(ticket=ticket, contact=engineer, customer_phone=phone, starts_at=starts_at, minutes=minutes,
                         timezone=zone, status="scheduled", sequence=0, offered=[], created_at=now, created_by=actor)
    session.add(call)
    session.flush()
    note(ticket, now, "call_scheduled", f"{actor}: {engineer.name} calls {phone} {when_of(call)}")
    _invite(session, call, identity, now, "REQUEST")
    session.commit()
    return call


def reschedule_call(session: Session, number: str, call_id: Any, fields: dict[str, Any], *, now: datetime,
                    actor: str, identity: MailIdentity | None) -> ScheduledCall:
    """Move a scheduled call to a new `local_time` (in `timezone`, by default the one it had) or length;
    the updated invitations go out. Commits."""
    _refuse_unknown(fields, CHANGE_FIELDS)
    call = _pending(session, number, call_id)
    if "local_time" in fields or "timezone" in fields:
        call.starts_at, call.timezone = checked_start({"timezone": call.timezone, **fields,
                                                       "local_time": fields.get("local_time", _local_text(call))}, now)
    if "minutes" in fields:
        call.minutes = _checked_minutes(fields)
    call.sequence += 1
    call.reminded_at = None
    note(call.ticket, now, "call_rescheduled", f"{actor}: now {when_of(call)}")
    _invite(session, call, identity, now, "REQUEST")
    session.commit()
    return call


def cancel_call(session: Session, number: str, call_id: Any, *, now: datetime, actor: str,
                identity: MailIdentity | None) -> ScheduledCall:
    """Call off a scheduled call; the cancellations go out. Commits."""
    call = _pending(session, number, call_id)
    call.status = "cancelled"
    call.sequence += 1
    note(call.ticket, now, "call_cancelled", f"{actor} called off the call {when_of(call)}")
    _invite(session, call, identity, now, "CANCEL")
    session.commit()
    return call


def _pending(session: Session, number: str, call_id: Any) -> ScheduledCall:
    call = scheduled_call_of(session, number, call_id)
    if call.status not in PENDING:
        raise TicketConflict(f"the call is {call.status.replace('_', ' ')}: it can no longer move", call.ticket)
    return call


def _local_text(call: ScheduledCall) -> str:
    return call.starts_at.astimezone(ZoneInfo(call.timezone)).replace(tzinfo=None).isoformat(timespec="minutes")


def when_of(call: ScheduledCall) -> str:
    """When the call is, in the zone it was given in: "on Thu 10 Dec 2026 at 09:00 CET (Europe/Berlin), 30 min"."""
    local = call.starts_at.astimezone(ZoneInfo(call.timezone))
    return f"on {local:%a %d %b %Y at %H:%M} {local:%Z} ({call.timezone}), {call.minutes} min"


# ----------------------------------------------------------------------------- invitations


def invitation(call: ScheduledCall, *, method: str, organizer: str, attendees: list[tuple[str, str]],
               now: datetime) -> str:
    """The call as an iCalendar document (`method` REQUEST or CANCEL), its time in the zone it was given in."""
    zone = ZoneInfo(call.timezone)
    ticket = call.ticket
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Support line//Scheduled calls//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", f"scheduled-call-{call.id}@{organizer.rpartition('@')[2]}")
    event.add("sequence", call.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", call.starts_at.astimezone(zone))
    event.add("dtend", (call.starts_at + timedelta(minutes=call.minutes)).astimezone(zone))
    event.add("summary", f"Support call about ticket {ticket.number}")
    event.add("description", messages.scheduled_call_description(ticket.number, ticket.subject, call.contact.name,
                                                                  call.customer_phone))
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("organizer", icalendar.vCalAddress(f"mailto:{organizer}"), parameters={"cn": "Support"})
    for name, address in attendees:
        event.add("attendee", icalendar.vCalAddress(f"mailto:{address}"),
                  parameters={"cn": name, "role": "REQ-PARTICIPANT", "partstat": "NEEDS-ACTION", "rsvp": "FALSE"})
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode()


def _attendees(call: ScheduledCall) -> list[tuple[str, str]]:
    requester = call.ticket.requester
    people = [(requester.name, requester.email)] if requester is not None and requester.email else []
    if call.contact.email:
        people.append((call.contact.name, call.contact.email))
    return people


def _invite(session: Session, call: ScheduledCall, identity: MailIdentity | None, now: datetime, method: str) -> None:
    """Queue the invitation (or its update, or its cancellation) to each attendee with an address."""
    if identity is None:
        return  # without MAIL_FROM the line sends no mail; the ticket's timeline has the plan
    attendees = _attendees(call)
    document = invitation(call, method=method, organizer=identity.support_address, attendees=attendees, now=now)
    words = "cancelled" if method == "CANCEL" else ("moved" if call.sequence else "planned")
    body = messages.scheduled_call_mail(call.ticket.number, words, when_of(call), call.contact.name, call.customer_phone)
    for name, address in attendees:
        queued = enqueue(session, ticket=call.ticket, to_number=address, recipient=name, kind="invitation", body=body,
                         now=now, channel="email", dedupe_key=f"scheduled:{call.id}:{call.sequence}:mail:{address}")
        row = session.get(Notification, queued) if queued is not None else None
        if row is not None:
            row.subject = f"{ticket_subject(call.ticket)}: call {words}"
            row.message_id = mint_message_id(call.ticket.number, identity.secret, identity.domain)
            row.calendar, row.scheduled_call_id = document, call.id


# ----------------------------------------------------------------------------- the worker's part


def _text(session: Session, call: ScheduledCall, to: str, recipient: str | None, kind: str, body: str, now: datetime,
          what: str) -> None:
    queued = enqueue(session, ticket=call.ticket, to_number=to, recipient=recipient, kind=kind, body=body, now=now,
                     dedupe_key=f"scheduled:{call.id}:{call.sequence}:{what}:{to}")
    row = session.get(Notification, queued) if queued is not None else None
    if row is not None:
        row.scheduled_call_id = call.id


def run_scheduled_calls(session: Session, now: datetime, duty_of: Callable[[datetime], Duty]) -> int:
    """The worker's round: reminders REMIND_BEFORE ahead, and the calls whose time has come. Commits;
    returns how many messages were queued."""
    queued = 0
    remind = session.scalars(select(ScheduledCall).where(
        ScheduledCall.status == "scheduled", ScheduledCall.reminded_at.is_(None),
        ScheduledCall.starts_at <= now + REMIND_BEFORE, ScheduledCall.starts_at > now).with_for_update())
    for call in remind:
        local = call.starts_at.astimezone(ZoneInfo(call.timezone))
        body = messages.scheduled_call_reminder(call.ticket.number, f"{local:%H:%M} {local:%Z}",
                                                call.customer_phone, call.contact.name)
        _text(session, call, call.contact.phone, call.contact.name, "call_reminder", body, now, "reminder")
        _text(session, call, call.customer_phone, None, "call_reminder", body, now, "reminder")
        call.reminded_at = now
        queued += 2
    due = session.scalars(select(ScheduledCall).where(ScheduledCall.status == "scheduled",
                                                      ScheduledCall.starts_at <= now).with_for_update())
    for call in due:
        if now - call.starts_at > LATE_START_LIMIT:
            _give_up(session, call, now, "the line could not place it in time")
        elif call.contact.active:
            _ring(session, call, call.contact, now)
        else:
            _hand_on(session, call, now, duty_of(now))
        queued += 1
    # A ring the outbox could not place (Twilio refused it), or that Twilio never reported on: the next one.
    ringing = session.scalars(select(ScheduledCall).where(ScheduledCall.status == "ringing").with_for_update())
    for call in ringing:
        offer = session.get(Notification, latest_offer(session, call))
        if offer is None or offer.status == "failed" or now - offer.created_at > RING_UNREPORTED:
            note(call.ticket, now, "scheduled_call", f"the ring to {offer.recipient if offer else 'the engineer'} "
                                                     f"did not go through: {offer.last_error if offer else 'none'}")
            _hand_on(session, call, now, duty_of(now))
            queued += 1
    session.commit()
    return queued


def _ring(session: Session, call: ScheduledCall, contact: Contact, now: datetime) -> None:
    call.status = "ringing"
    call.offered = [*call.offered, contact.id]
    queued = enqueue(session, ticket=call.ticket, to_number=contact.phone, recipient=contact.name,
                     kind="scheduled_call", body=messages.scheduled_call(call.ticket.number, call.customer_phone),
                     now=now, channel="call", dedupe_key=f"scheduled:{call.id}:{call.sequence}:ring:{contact.id}")
    row = session.get(Notification, queued) if queued is not None else None
    if row is not None:
        row.scheduled_call_id = call.id
    note(call.ticket, now, "scheduled_call", f"ringing {contact.name} at {contact.phone} for the scheduled call")


def _give_up(session: Session, call: ScheduledCall, now: datetime, why: str) -> None:
    call.status = "not_connected"
    local = call.starts_at.astimezone(ZoneInfo(call.timezone))
    _text(session, call, call.customer_phone, None, "call_missed",
          messages.scheduled_call_missed(call.ticket.number, f"{local:%H:%M} {local:%Z}"), now, "missed")
    note(call.ticket, now, "scheduled_call_missed", f"{why}: {call.customer_phone} was texted that support will "
                                                    "call back")


def latest_offer(session: Session, call: ScheduledCall) -> int | None:
    """The id of the newest call the line placed to an engineer for `call`."""
    return session.scalar(select(func.max(Notification.id)).where(Notification.scheduled_call_id == call.id,
                                                                  Notification.kind == "scheduled_call"))


def engineer_accepted(session: Session, call: ScheduledCall, now: datetime, engineer: str) -> None:
    """The engineer pressed 1: the line dials the customer. The caller commits."""
    call.status = "connecting"
    note(call.ticket, now, "scheduled_call", f"{engineer} took the scheduled call: ringing {call.customer_phone}")


def engineer_declined(session: Session, call: ScheduledCall, notification_id: int, now: datetime, duty: Duty,
                      engineer: str) -> None:
    """The engineer rung for `call` (by message `notification_id`) did not take it: ring the next contact
    on duty not rung yet; when there is none, text the customer that support will call back. Only the
    newest offer counts: a late answer to an earlier one changes nothing. Commits."""
    if call.status != "ringing" or latest_offer(session, call) != notification_id:
        return
    note(call.ticket, now, "scheduled_call", f"{engineer} did not take the scheduled call")
    _hand_on(session, call, now, duty)
    session.commit()


def _hand_on(session: Session, call: ScheduledCall, now: datetime, duty: Duty) -> None:
    """Ring the next contact on duty the line has not rung for `call`; with none left, tell the customer."""
    people = [m for m in ([duty.on_duty] if duty.on_duty else []) + list(duty.escalation)
              if m.contact_id not in call.offered and m.phone]
    contact = session.get(Contact, people[0].contact_id) if people else None
    if contact is not None:
        _ring(session, call, contact, now)
    else:
        _give_up(session, call, now, "nobody on duty took the scheduled call")


def customer_call_ended(session: Session, call: ScheduledCall, now: datetime, engineer: str, connected: bool,
                        seconds: int | None) -> None:
    """The customer's leg ended: put through (the ticket's first response if none came before), or not
    answered (the customer is texted that support will call back). The caller commits."""
    if connected:
        call.status = "connected"
        note(call.ticket, now, "scheduled_call", f"{engineer} spoke with {call.customer_phone} ({seconds or 0} s)")
        record_first_response(call.ticket, now, engineer, "made the scheduled call")
    else:
        _give_up(session, call, now, f"{call.customer_phone} did not answer {engineer}'s scheduled call")


def call_json(call: ScheduledCall) -> dict[str, Any]:
    """A scheduled call as the API gives it."""
    local = call.starts_at.astimezone(ZoneInfo(call.timezone))
    return {"id": call.id, "ticket": call.ticket.number, "contact_id": call.contact_id, "engineer": call.contact.name,
            "phone": call.customer_phone, "starts_at": call.starts_at.isoformat(),
            "local_time": local.replace(tzinfo=None).isoformat(timespec="minutes"), "timezone": call.timezone,
            "minutes": call.minutes, "status": call.status, "sequence": call.sequence,
            "reminded_at": call.reminded_at.isoformat() if call.reminded_at else None}
