"""Scheduled calls, driven through the API, the worker (a fake clock) and the engineer-callback webhooks:
the invitations (real SMTP, parsed with icalendar), the reminder, the call taken, the call refused down
the duty order, the customer told, a move and a cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.models import CallLog
from people.service import add_person
from phonesim import FlaskClientTransport, ScriptedCaller, place_call
from staff.tokens import issue_api_token
from tests.support import (ANA, AUTH_TOKEN, PRIYA, PUBLIC_BASE, SUPPORT_NUMBER, TOM, Api, FakeClock, Outgoing, Team,
                           fresh, signed_post, text_of)
from tickets.models import Notification, ScheduledCall, Ticket
from tickets.outbox import DeliveryError, SmtpSender
from tickets.records import open_ticket
from core.calendar import business_calendar
from tickets.sla import Severity
from tickets.worker import run_once

SUPPORT_ADDRESS = "support@vendor.example"
CUSTOMER = "+12125550147"
BERLIN = ZoneInfo("Europe/Berlin")


class Phones:
    """Twilio as the worker sees it: it takes every text and places every call, and keeps them."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.calls: list[tuple[str, str]] = []
        self.unreachable: set[str] = set()  # numbers Twilio refuses to call

    def send_sms(self, to: str, body: str) -> str:
        self.texts.append((to, body))
        return "SM" + "8" * 32

    def start_call(self, to: str, url: str, status_callback: str) -> str:
        if to in self.unreachable:
            raise DeliveryError("Twilio: 21217 the number is not valid", retryable=False)
        self.calls.append((to, url))
        return "CA" + "8" * 32


class Desk:
    """The line with mail, a ticket of Lena's, the API and the worker."""

    def __init__(self, app: Flask, session: Session, clock: FakeClock, outgoing: Outgoing, smtp_url: str,
                 team: Team) -> None:
        self.app, self.session, self.clock, self.outgoing, self.team = app, session, clock, outgoing, team
        self.client = app.test_client()
        self.api = Api(self.client, issue_api_token(session, "tests", clock.now))
        self.phones = Phones()
        self.mail = SmtpSender(smtp_url)
        for contact, address in ((team.priya, "priya@vendor.example"), (team.tom, "tom@vendor.example")):
            contact.email = address
        lena = add_person(session, {"name": "Lena Fischer", "email": "lena@acme.example", "phone": CUSTOMER},
                          region="US", now=clock.now, actor="tests")
        ticket = open_ticket(session, severity=Severity.HIGH, source="web", now=clock.now, requester_id=lena.id,
                             calendar=business_calendar("America/New_York", "US"), subject="Upgrade to 5.2")
        session.commit()
        self.number = ticket.number

    def plan(self, **fields: Any) -> Any:
        return self.api.post(f"/api/tickets/{self.number}/scheduled-calls",
                             {"contact_id": self.team.priya.id, **fields})

    def work(self) -> None:
        with self.app.app_context():
            run_once(self.phones, self.mail)

    def mails(self) -> list[EmailMessage]:
        """The invitations sent since last asked (the ticket's acknowledgement is not one)."""
        taken, self.outgoing.received[:] = list(self.outgoing.received), []
        return [m for m in taken if any(p.get_content_type() == "text/calendar" for p in m.iter_attachments())]

    def scheduled(self) -> ScheduledCall:
        fresh(self.session)
        return self.session.scalars(select(ScheduledCall)).one()

    def ticket(self) -> Ticket:
        fresh(self.session)
        return self.session.scalars(select(Ticket).where(Ticket.number == self.number)).one()


@pytest.fixture
def desk(make_app, session: Session, clock: FakeClock, outgoing: tuple[Outgoing, str], team: Team) -> Desk:
    server, url = outgoing
    app = make_app(MAIL_FROM=SUPPORT_ADDRESS, MAIL_SMTP_URL=url, PUBLIC_URL=PUBLIC_BASE)
    return Desk(app, session, clock, server, url, team)


def invitation_of(message: EmailMessage) -> tuple[icalendar.Calendar, Any]:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "invite.ics"
    calendar = icalendar.Calendar.from_ical(part.get_content())
    assert part.get_param("method") == str(calendar["method"])
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def local_in(clock: FakeClock, zone: str, ahead: timedelta) -> str:
    return (clock.now + ahead).astimezone(ZoneInfo(zone)).replace(tzinfo=None).isoformat(timespec="minutes")


@pytest.mark.parametrize(("local_time", "instant"), [
    ("2026-12-10T09:00", datetime(2026, 12, 10, 8, 0, tzinfo=UTC)),   # winter time in Berlin: UTC+1
    ("2027-03-29T09:00", datetime(2027, 3, 29, 7, 0, tzinfo=UTC)),    # the day after summer time begins: UTC+2
])
def test_both_get_an_invitation_for_the_right_instant_whichever_side_of_a_dst_change(
        desk: Desk, local_time: str, instant: datetime) -> None:
    response = desk.plan(local_time=local_time, timezone="Europe/Berlin", minutes=45)
    assert response.status_code == 201, response.get_json()
    planned = response.get_json()
    assert (planned["starts_at"], planned["status"], planned["phone"]) == (instant.isoformat(), "scheduled", CUSTOMER)
    desk.work()
    mails = desk.mails()
    assert sorted(m["To"].addresses[0].addr_spec for m in mails) == ["lena@acme.example", "priya@vendor.example"]
    for mail in mails:
        assert mail["Subject"] == f"[#{desk.number}] Upgrade to 5.2: call planned"
        assert mail["Auto-Submitted"] == "auto-generated"
        calendar, event = invitation_of(mail)
        assert str(calendar["method"]) == "REQUEST" and event["sequence"] == 0
        start = event.decoded("dtstart")
        assert start == instant and start.tzinfo.key == "Europe/Berlin"
        assert event["dtstart"].params["TZID"] == "Europe/Berlin"
        assert start.replace(tzinfo=None) == datetime.fromisoformat(local_time)
        assert event.decoded("dtend") - start == timedelta(minutes=45)
        assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
        assert str(event["organizer"]) == f"mailto:{SUPPORT_ADDRESS}"
        assert sorted(str(a) for a in event["attendee"]) == ["mailto:lena@acme.example", "mailto:priya@vendor.example"]
        assert f"ticket {desk.number}" in str(event["summary"]) and CUSTOMER in str(event["description"])
    assert "call_scheduled" in [e.kind for e in desk.ticket().events]


def test_a_time_the_clocks_skip_or_that_has_passed_is_refused_with_the_reason(desk: Desk) -> None:
    skipped = desk.plan(local_time="2027-03-28T02:30", timezone="Europe/Berlin")
    assert skipped.status_code == 422
    assert "02:30 does not exist on 28 Mar 2027 in Europe/Berlin" in skipped.get_json()["error"]
    assert "is in the past" in desk.plan(local_time="2026-11-01T09:00", timezone="Europe/Berlin").get_json()["error"]
    assert "IANA time zone" in desk.plan(local_time="2026-12-10T09:00", timezone="Mars/Olympus").get_json()["error"]
    assert "active contact" in desk.plan(local_time="2026-12-10T09:00", timezone="UTC", contact_id=999).get_json()["error"]
    assert desk.api.post("/api/tickets/99999/scheduled-calls", {}).status_code == 404


def test_both_are_texted_a_reminder_a_quarter_of_an_hour_before_once(desk: Desk) -> None:
    desk.plan(local_time=local_in(desk.clock, "America/New_York", timedelta(hours=1)), timezone="America/New_York")
    desk.work()
    desk.clock.advance(minutes=44)
    desk.work()
    assert desk.phones.texts == []
    desk.clock.advance(minutes=1)
    desk.work()
    reminder = f"Reminder: support call about ticket {desk.number} at 23:00 EST: Priya Raman will be put through to {CUSTOMER}."
    assert sorted(desk.phones.texts) == sorted([(PRIYA, reminder), (CUSTOMER, reminder)])
    desk.clock.advance(minutes=2)
    desk.work()
    assert len(desk.phones.texts) == 2


def ring(desk: Desk, keys: list[str], customer: str = "accept") -> Any:
    to, url = desk.phones.calls[-1]
    notification = url.rsplit("=", 1)[1]
    return place_call(voice_url=url, auth_token=AUTH_TOKEN, transport=FlaskClientTransport(desk.client),
                      status_callback_url=f"{PUBLIC_BASE}/ivr/engineer-callback/status?notification={notification}",
                      caller=ScriptedCaller(keys), engineers=[customer], from_number=SUPPORT_NUMBER, to_number=to)


def at_its_time(desk: Desk) -> None:
    desk.plan(local_time=local_in(desk.clock, "America/New_York", timedelta(hours=2)), timezone="America/New_York")
    desk.clock.advance(hours=2)
    desk.work()


def test_at_its_time_the_engineer_hears_the_whisper_presses_1_and_reaches_the_customer(desk: Desk) -> None:
    at_its_time(desk)
    assert [to for to, _ in desk.phones.calls] == [PRIYA]
    assert desk.scheduled().status == "ringing"
    record = ring(desk, ["1"])
    assert f"Scheduled call for ticket {' '.join(str(desk.number))}, press 1 to connect." in record.heard
    assert [d.number for d in record.dials] == [CUSTOMER]
    assert desk.scheduled().status == "connected"
    ticket = desk.ticket()
    assert ticket.first_response_at == desk.clock.now and ticket.responded_by == "Priya Raman"
    call = desk.session.scalar(select(CallLog).where(CallLog.call_sid == record.call_sid))
    assert call.ticket_id == ticket.id and call.outcome == "connected"
    assert [e.kind for e in call.events] == ["callback_started", "dial", "dial_result", "status"]
    assert [e.detail for e in ticket.events if e.kind == "scheduled_call"][-1].startswith(f"Priya Raman spoke with {CUSTOMER}")


def test_a_refused_call_goes_to_the_next_on_duty_and_then_the_customer_is_texted(desk: Desk) -> None:
    at_its_time(desk)
    record = ring(desk, ["9"])
    assert record.dials == []
    desk.work()
    assert [to for to, _ in desk.phones.calls] == [PRIYA, TOM]
    assert desk.scheduled().offered == [desk.team.priya.id, desk.team.tom.id]
    # Tom's phone rings out: Twilio reports the call, nobody answered it.
    notification = desk.phones.calls[-1][1].rsplit("=", 1)[1]
    signed_post(desk.client, f"/ivr/engineer-callback/status?notification={notification}",
                {"CallSid": "CA" + "9" * 32, "CallStatus": "no-answer", "From": SUPPORT_NUMBER, "To": TOM})
    desk.work()
    assert desk.scheduled().status == "not_connected"
    assert ANA not in [to for to, _ in desk.phones.calls], "only the engineers on duty are offered the call"
    (text,) = [body for to, body in desk.phones.texts if to == CUSTOMER]
    assert text.startswith("Support could not make the call planned for") and "An engineer will call you back." in text
    kinds = [e.kind for e in desk.ticket().events]
    assert kinds.count("scheduled_call") >= 3 and "scheduled_call_missed" in kinds


def test_a_ring_twilio_refuses_goes_to_the_next_on_duty(desk: Desk) -> None:
    desk.phones.unreachable.add(PRIYA)
    at_its_time(desk)
    assert desk.phones.calls == []
    desk.work()
    assert [to for to, _ in desk.phones.calls] == [TOM]
    assert "did not go through: Twilio: 21217" in " ".join(e.detail for e in desk.ticket().events)


def test_a_customer_who_does_not_answer_is_texted_that_support_will_call_back(desk: Desk) -> None:
    at_its_time(desk)
    ring(desk, ["1"], customer="no-answer")
    desk.work()
    assert desk.scheduled().status == "not_connected"
    assert [to for to, body in desk.phones.texts if "will call you back" in body] == [CUSTOMER]
    assert desk.ticket().first_response_at is None


def test_a_moved_call_sends_the_updated_invitation_and_rings_at_the_new_time(desk: Desk) -> None:
    planned = desk.plan(local_time="2026-12-10T09:00", timezone="Europe/Berlin").get_json()
    desk.work()
    desk.mails()
    moved = desk.api.patch(f"/api/tickets/{desk.number}/scheduled-calls/{planned['id']}",
                           {"local_time": "2026-12-11T15:30"})
    assert moved.status_code == 200 and moved.get_json()["sequence"] == 1
    desk.work()
    for mail in desk.mails():
        assert mail["Subject"].endswith("call moved")
        calendar, event = invitation_of(mail)
        assert str(calendar["method"]) == "REQUEST" and event["sequence"] == 1
        assert event.decoded("dtstart") == datetime(2026, 12, 11, 14, 30, tzinfo=UTC)
        assert str(event["uid"]) == f"scheduled-call-{planned['id']}@vendor.example"


def test_a_cancelled_call_sends_the_cancellation_and_never_rings(desk: Desk) -> None:
    planned = desk.plan(local_time=local_in(desk.clock, "Europe/Berlin", timedelta(hours=3)),
                        timezone="Europe/Berlin").get_json()
    desk.work()
    desk.mails()
    cancelled = desk.api.client.delete(f"/api/tickets/{desk.number}/scheduled-calls/{planned['id']}",
                                       headers=desk.api.headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    desk.work()
    mails = desk.mails()
    assert len(mails) == 2
    for mail in mails:
        calendar, event = invitation_of(mail)
        assert (str(calendar["method"]), str(event["status"]), event["sequence"]) == ("CANCEL", "CANCELLED", 1)
    desk.clock.advance(hours=4)
    desk.work()
    assert desk.phones.calls == []
    assert [body for _, body in desk.phones.texts if "Reminder" in body or "support call" in body] == []
    again = desk.api.client.delete(f"/api/tickets/{desk.number}/scheduled-calls/{planned['id']}",
                                   headers=desk.api.headers)
    assert again.status_code == 422 and "cancelled" in again.get_json()["error"]


def test_the_ticket_page_plans_lists_and_calls_off_a_call(desk: Desk, admin_user, session: Session) -> None:
    from tests.support import AdminActions

    admin = AdminActions(desk.client)
    admin.login()
    page = f"/admin/tickets/{desk.number}"
    response = admin.post(f"{page}/scheduled-calls", {"contact_id": str(desk.team.tom.id),
                                                      "local_time": "2026-12-10T09:00", "timezone": "Europe/Berlin",
                                                      "minutes": "30", "phone": CUSTOMER}, page=page)
    assert response.status_code == 302
    shown = text_of(desk.client.get(page).text)
    assert "Call planned on Thu 10 Dec 2026 at 09:00 CET (Europe/Berlin), 30 min" in shown
    assert f"Tom Berg calls {CUSTOMER} scheduled" in shown
    refused = admin.post(f"{page}/scheduled-calls", {"contact_id": str(desk.team.tom.id),
                                                     "local_time": "2026-12-10T09:00", "timezone": "Berlin"}, page=page)
    assert refused.status_code == 422 and "timezone must be an IANA time zone" in refused.text
    call = desk.scheduled()
    assert admin.post(f"{page}/scheduled-calls/{call.id}/cancel", page=page).status_code == 302
    assert desk.scheduled().status == "cancelled"
    assert session.scalar(select(Notification.kind).where(Notification.kind == "invitation").limit(1)) == "invitation"
