"""Severity as the agreement says it (reported beside classified, a reclassification with its reason) and the
status mails the requester gets: acknowledged, resolved, reclassified, each once."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from people.models import Person
from staff.tokens import issue_api_token
from tests.mail.conftest import SUPPORT, message
from tests.support import AdminActions, Api, FakeClock, field_marks, fresh, text_of
from tickets.mailing import MailIdentity, queue_status_mails
from tickets.models import Notification, Ticket
from tickets.outbox import ConsoleSender, SmtpSender, send_due

IDENTITY = MailIdentity(SUPPORT, "test-secret-key")


@pytest.fixture
def api(client, session: Session, clock: FakeClock) -> Api:
    return Api(client, issue_api_token(session, "status-mails", clock.now))


def the_ticket(session: Session) -> Ticket:
    fresh(session)
    return session.scalar(select(Ticket))


def test_the_severity_the_customer_named_is_kept_beside_supports(deliver, session: Session, lena: Person) -> None:
    deliver(message("with_attachment"))  # "(sev 2)"
    ticket = the_ticket(session)
    assert (ticket.severity, ticket.reported_severity) == ("high", "high")


def test_a_message_naming_no_severity_reports_none(deliver, session: Session, lena: Person) -> None:
    deliver(message("plain"))
    assert (the_ticket(session).severity, the_ticket(session).reported_severity) == ("normal", None)


def test_a_reclassification_records_its_reason_and_the_requester_is_told(
    deliver, api: Api, session: Session, clock: FakeClock, lena: Person, outgoing
) -> None:
    server, url = outgoing
    deliver(message("with_attachment"))
    changed = api.patch("/api/tickets/10001", {"severity": "critical", "reason": "Every export fails: no workaround."})
    assert changed.status_code == 200
    assert (changed.json["severity"], changed.json["reported_severity"]) == ("critical", "high")
    assert changed.json["response_due_at"] == "2026-11-26T05:00:00+00:00", "2 hours from when it was opened"
    assert changed.json["events"][-1]["detail"].endswith("; reason: Every export fails: no workaround.")
    assert queue_status_mails(session, clock.now, timezone="America/New_York", identity=IDENTITY) == 1
    assert queue_status_mails(session, clock.now, timezone="America/New_York", identity=IDENTITY) == 0, "once"
    send_due(session, ConsoleSender(lambda text: None), clock.now, mail_sender=SmtpSender(url), mail_from=SUPPORT)
    [sent] = server.received
    assert sent["Subject"] == "[#10001] Logs for the export failure (sev 2)"
    assert sent["Auto-Submitted"] == "auto-generated"
    body = sent.get_content()
    assert "Ticket 10001 is now critical (you reported it as high): Every export fails: no workaround." in body
    assert "We respond within 2 hours, by Thu 26 Nov 12:00 AM EST." in body


def test_resolving_tells_the_requester_how_to_say_it_is_not(deliver, api: Api, session: Session, clock: FakeClock,
                                                           lena: Person) -> None:
    deliver(message("plain"))
    api.patch("/api/tickets/10001", {"status": "resolved"})
    assert queue_status_mails(session, clock.now, timezone="America/New_York", identity=IDENTITY) == 1
    mail = session.scalar(select(Notification).where(Notification.kind == "status"))
    assert "Ticket 10001 is resolved. If it is not resolved for you, reply to this message" in mail.body


def test_a_reason_without_a_new_severity_is_refused(deliver, api: Api, lena: Person) -> None:
    deliver(message("plain"))
    answer = api.patch("/api/tickets/10001", {"reason": "because"})
    assert answer.status_code == 422 and "a reason goes with a new severity" in answer.json["error"]


def test_the_ticket_page_asks_for_the_reason(deliver, admin: AdminActions, session: Session, lena: Person) -> None:
    deliver(message("plain"))
    page = "/admin/tickets/10001"
    refused = admin.post(f"{page}/reclassify", {"severity": "high", "reason": " "}, page=page)
    assert refused.status_code == 422
    assert field_marks(refused.text, "reason").message == "Give the reason for the new severity: the requester reads it."
    done = admin.post(f"{page}/reclassify", {"severity": "high", "reason": "Checkout is affected."}, page=page,
                      follow_redirects=True)
    assert "Ticket 10001 is high: first response due by Thu 26 Nov 4:00 AM EST." in text_of(done.text)
    assert the_ticket(session).severity == "high"
