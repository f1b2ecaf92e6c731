"""Mail out (contract §8): one acknowledgement per new ticket whose requester has an address, sent through
the outbox to a real SMTP server; a reply to it lands on the same ticket."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from people.models import Person
from tests.mail.conftest import SUPPORT, message
from tests.support import FakeClock, Team, fresh
from tickets.mailing import AUTO_REPLIES_AN_HOUR, mint_message_id, queue_acknowledgements, ticket_of_message_id
from tickets.models import Notification, Ticket
from tickets.outbox import ConsoleMailSender, ConsoleSender, SmtpSender, fate_of, send_due

SECRET = "test-secret-key"
# aiosmtpd counts only STARTTLS as TLS, so its implicit-TLS test server (TLS from the first byte) warns
# that it takes a login "without TLS".
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def acknowledge(session: Session, clock: FakeClock) -> int:
    return queue_acknowledgements(session, clock.now, timezone="America/New_York", secret=SECRET,
                                  support_address=SUPPORT)


def send(session: Session, clock: FakeClock, url: str) -> int:
    return send_due(session, ConsoleSender(lambda text: None), clock.now, mail_sender=SmtpSender(url),
                    mail_from=SUPPORT)


def test_a_mailed_ticket_is_acknowledged_once_threaded_on_the_customers_message(
    deliver, session: Session, clock: FakeClock, lena: Person, outgoing, team: Team
) -> None:
    server, url = outgoing
    deliver(message("plain"))
    assert acknowledge(session, clock) == 1
    assert acknowledge(session, clock) == 0, "once per ticket, however often the clock runs"
    send(session, clock, url)
    [sent] = server.received
    assert sent["To"] == "Lena Fischer <lena@acme.example>" and sent["From"] == f"Support <{SUPPORT}>"
    assert sent["Subject"] == "[#10001] Nightly export fails since the upgrade"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"] == sent["References"] == "<CAF3x9k2=plain@mail.acme.example>"
    assert ticket_of_message_id(sent["Message-ID"], SECRET) == 10001
    body = sent.get_content()
    assert "it is ticket 10001" in body and "Severity: normal. We respond within 12 hours, by Thu 26 Nov 10:00 AM EST." in body
    assert "keep [#10001] in the subject" in body
    fresh(session)
    row = session.scalar(select(Notification).where(Notification.kind == "acknowledgement"))
    assert (row.channel, row.status, row.provider_sid) == ("email", "sent", "2.0.0 Ok: queued as 4F1A2B")


def test_a_reply_to_the_acknowledgement_lands_on_the_same_ticket(deliver, session: Session, clock: FakeClock,
                                                                 lena: Person, outgoing) -> None:
    server, url = outgoing
    deliver(message("no_message_id").replace(b"Kim Lee <kim@initech.example>", b"Lena <lena@acme.example>"))
    acknowledge(session, clock)
    send(session, clock, url)
    ack_id = server.received[0]["Message-ID"]
    reply = (f"From: Lena <lena@acme.example>\r\nTo: {SUPPORT}\r\nSubject: Re: the licence question\r\n"
             f"Message-ID: <reply-to-ack@acme.example>\r\nIn-Reply-To: {ack_id}\r\n\r\nAnd one more user, please.\r\n")
    deliver(reply.encode())
    fresh(session)
    [ticket] = session.scalars(select(Ticket)).all()
    assert [c.body for c in ticket.comments][-1] == "And one more user, please."


def test_a_forged_message_id_names_no_ticket() -> None:
    real = mint_message_id(10001, SECRET, "example.com")
    forged = real.replace("t10001", "t10002")
    assert ticket_of_message_id(real, SECRET) == 10001
    assert ticket_of_message_id(forged, SECRET) is None
    assert ticket_of_message_id("<CAF3x9k2=plain@mail.acme.example>", SECRET) is None


def test_a_known_callers_phone_ticket_is_acknowledged_by_mail(client, session: Session, clock: FakeClock,
                                                              lena: Person, team: Team, outgoing) -> None:
    from functools import partial

    from people.service import update_person
    from phonesim import FlaskClientTransport, ScriptedCaller, place_call
    from tests.support import AUTH_TOKEN, PUBLIC_BASE

    update_person(session, lena.id, {"phone": "+12125550147"}, region="US", now=clock.now, actor="tests")
    place_call(voice_url=f"{PUBLIC_BASE}/ivr/voice", status_callback_url=f"{PUBLIC_BASE}/ivr/status",
               auth_token=AUTH_TOKEN, transport=FlaskClientTransport(client),
               caller=ScriptedCaller(["1", "2", "1"], hang_up_when_done=True), engineers=["accept"],
               from_number="+12125550147")
    fresh(session)
    server, url = outgoing
    assert partial(acknowledge, session, clock)() == 1
    send(session, clock, url)
    [sent] = server.received
    assert sent["Subject"] == "[#10001] Your high support request by phone"
    assert sent["In-Reply-To"] is None, "a phone ticket answers no message"


def test_a_sender_gets_at_most_ten_automatic_replies_an_hour(deliver, session: Session, clock: FakeClock,
                                                             lena: Person) -> None:
    for n in range(AUTO_REPLIES_AN_HOUR + 2):
        deliver(message("plain").replace(b"<CAF3x9k2=plain@mail.acme.example>", f"<loop-{n}@acme.example>".encode()))
    assert acknowledge(session, clock) == AUTO_REPLIES_AN_HOUR
    fresh(session)
    held = [t for t in session.scalars(select(Ticket).order_by(Ticket.number))][-2:]
    assert all(any(e.kind == "not_acknowledged" for e in t.events) for t in held)


def test_a_mail_server_that_says_try_later_is_tried_again_and_a_refusal_is_final(
    deliver, session: Session, clock: FakeClock, lena: Person, outgoing
) -> None:
    server, url = outgoing
    deliver(message("plain"))
    acknowledge(session, clock)
    server.refuse_with = "451 4.3.0 try again later"
    send(session, clock, url)
    fresh(session)
    row = session.scalar(select(Notification).where(Notification.kind == "acknowledgement"))
    assert (row.status, row.attempts) == ("pending", 1) and "451" in row.last_error
    server.refuse_with = "554 5.7.1 rejected"
    clock.advance(minutes=1)
    send(session, clock, url)
    fresh(session)
    row = session.scalar(select(Notification).where(Notification.kind == "acknowledgement"))
    assert row.status == "failed" and "554" in row.last_error
    assert server.received == [], "never marked sent without the server's acceptance"


def test_an_unreachable_mail_server_is_tried_again(deliver, session: Session, clock: FakeClock, lena: Person) -> None:
    from tests.support import free_port

    deliver(message("plain"))
    acknowledge(session, clock)
    send(session, clock, f"smtp://127.0.0.1:{free_port()}")
    fresh(session)
    row = session.scalar(select(Notification).where(Notification.kind == "acknowledgement"))
    assert row.status == "pending" and "could not be reached" in row.last_error


def test_without_a_mail_server_the_acknowledgement_is_printed_and_says_so(deliver, session: Session,
                                                                          clock: FakeClock, lena: Person) -> None:
    printed: list[str] = []
    deliver(message("plain"))
    acknowledge(session, clock)
    send_due(session, ConsoleSender(lambda text: None), clock.now, mail_sender=ConsoleMailSender(printed.append),
             mail_from=SUPPORT)
    assert printed[0].startswith("E-MAIL to Lena Fischer <lena@acme.example>: [#10001] Nightly export")
    fresh(session)
    row = session.scalar(select(Notification).where(Notification.kind == "acknowledgement"))
    assert fate_of(row) == ("printed (no mail server)", False)


def test_mail_goes_out_over_tls_with_a_login(deliver, session: Session, clock: FakeClock, lena: Person,
                                            tls_outgoing) -> None:
    server, url = tls_outgoing
    deliver(message("plain"))
    acknowledge(session, clock)
    send(session, clock, url)
    [sent] = server.received
    assert sent["Subject"] == "[#10001] Nightly export fails since the upgrade"
    fresh(session)
    assert session.scalar(select(Notification.status).where(Notification.kind == "acknowledgement")) == "sent"


def test_a_wrong_password_is_a_final_refusal(deliver, session: Session, clock: FakeClock, lena: Person,
                                             tls_outgoing) -> None:
    server, url = tls_outgoing
    deliver(message("plain"))
    acknowledge(session, clock)
    send(session, clock, url.replace("app-password", "wrong"))
    fresh(session)
    row = session.scalar(select(Notification).where(Notification.kind == "acknowledgement"))
    assert row.status == "failed" and "535" in row.last_error and server.received == []


def test_the_line_s_own_mails_show_in_the_ticket_s_conversation(deliver, admin, session: Session, clock: FakeClock,
                                                                lena: Person) -> None:
    deliver(message("plain"))
    acknowledge(session, clock)
    page = admin.get("/admin/tickets/10001").text
    conversation = page[page.index('id="conversation"'):page.index("<h2>Timeline</h2>")]
    assert "Support to Lena Fischer" in conversation and "e-mail (acknowledgement)" in conversation
    assert conversation.index("our nightly export has failed") < conversation.index("We have your request")


def test_the_api_gives_the_whole_conversation_in_order(deliver, client, session: Session, clock: FakeClock,
                                                       lena: Person, team: Team) -> None:
    from people.service import update_person
    from phonesim import FlaskClientTransport, ScriptedCaller, Voicemail, place_call
    from staff.tokens import issue_api_token
    from tests.support import AUTH_TOKEN, PUBLIC_BASE

    update_person(session, lena.id, {"phone": "+12125550147"}, region="US", now=clock.now, actor="tests")
    place_call(voice_url=f"{PUBLIC_BASE}/ivr/voice", status_callback_url=f"{PUBLIC_BASE}/ivr/status",
               auth_token=AUTH_TOKEN, transport=FlaskClientTransport(client),
               caller=ScriptedCaller(["1", "2", "1", Voicemail("The export fails again.")], hang_up_when_done=True),
               engineers=["no-answer"] * 3, from_number="+12125550147")
    clock.advance(minutes=1)
    acknowledge(session, clock)
    clock.advance(minutes=10)
    deliver(message("outlook_reply"))  # [#10001] from the requester
    token = issue_api_token(session, "conversation", clock.now)
    comments = client.get("/api/tickets/10001", headers={"Authorization": f"Bearer {token}"}).json["comments"]
    assert [(c["channel"], c["author"]) for c in comments] == [
        ("phone", "+12125550147"), ("email", "support"), ("email", "Lena Fischer <lena@acme.example>")]
    assert "Voicemail: The export fails again." in comments[0]["body"]
    assert comments[1]["body"].startswith("[#10001] Your high support request by phone")
    assert comments[2]["body"] == "The workaround you sent works for us."
