"""Filing mail onto tickets (contract §8): new tickets, replies on the same ticket, strangers, junk, once only."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mail.models import InboundMail
from people.models import Person
from tests.mail.conftest import message
from tests.support import FakeClock, Team, fresh
from tickets.models import Notification, Ticket


def tickets(session: Session) -> list[Ticket]:
    fresh(session)
    return list(session.scalars(select(Ticket).order_by(Ticket.number)))


def test_a_new_message_opens_a_ticket_for_its_sender_and_texts_the_engineer_on_duty(
    deliver, session: Session, lena: Person, team: Team
) -> None:
    mail = deliver(message("plain"))
    [ticket] = tickets(session)
    assert (mail.status, mail.ticket_id) == ("filed", ticket.id)
    assert (ticket.source, ticket.severity, ticket.subject) == ("email", "normal", "Nightly export fails since the upgrade")
    assert (ticket.requester_id, ticket.organization_id) == (lena.id, lena.organization_id)
    [comment] = ticket.comments
    assert (comment.channel, comment.public, comment.author) == ("email", True, "Lena Fischer <lena@acme.example>")
    assert comment.body.startswith("Hello,\n\nour nightly export")
    text = session.scalar(select(Notification).where(Notification.kind == "new_ticket"))
    assert text is not None and text.to_number == team.priya.phone


def test_a_reply_by_in_reply_to_lands_on_the_same_ticket(deliver, session: Session, lena: Person) -> None:
    deliver(message("plain"))
    reply = deliver(message("gmail_reply"))
    [ticket] = tickets(session)
    assert reply.ticket_id == ticket.id
    assert [c.body for c in ticket.comments][1] == "It failed again last night, same error."


def test_a_tagged_reply_from_the_requester_lands_on_the_ticket_and_reopens_it_once_resolved(
    deliver, session: Session, lena: Person
) -> None:
    deliver(message("plain"))
    [ticket] = tickets(session)
    ticket.status = "resolved"
    session.commit()
    deliver(message("outlook_reply"))  # no In-Reply-To: the [#10001] tag, from the requester
    [ticket] = tickets(session)
    assert ticket.status == "open" and ticket.comments[-1].body == "The workaround you sent works for us."
    assert ticket.events[-1].kind == "reopened"


def test_a_strangers_tag_opens_a_new_flagged_ticket(deliver, session: Session, lena: Person) -> None:
    deliver(message("plain"))
    stranger = message("outlook_reply").replace(b"From: Lena Fischer <lena@acme.example>",
                                                b"From: Mallory <mallory@evil.example>")
    deliver(stranger)
    first, second = tickets(session)
    assert [c.body for c in first.comments] == [first.comments[0].body], "nothing added to Lena's ticket"
    assert second.requester.email == "mallory@evil.example" and second.requester.flagged
    flags = [e.detail for e in second.events if e.kind == "flagged"]
    assert any("names ticket 10001, but mallory@evil.example is not its requester" in f for f in flags)


def test_a_colleague_of_the_requester_may_reply_by_tag(deliver, session: Session, lena: Person,
                                                       clock: FakeClock) -> None:
    from people.service import add_person

    add_person(session, {"name": "Omar", "email": "omar@acme.example", "organization_id": lena.organization_id},
               region="US", now=clock.now, actor="tests")
    deliver(message("plain"))
    deliver(message("outlook_reply").replace(b"From: Lena Fischer <lena@acme.example>", b"From: Omar <omar@acme.example>"))
    [ticket] = tickets(session)
    assert ticket.comments[-1].author == "Omar <omar@acme.example>"


def test_an_unknown_sender_becomes_a_flagged_person_without_an_organisation(deliver, session: Session) -> None:
    deliver(message("latin1"))
    [ticket] = tickets(session)
    person = ticket.requester
    assert (person.name, person.email, person.organization_id, person.flagged) == (
        "Jürgen Müller", "juergen@beispiel.example", None, True)
    assert any("place them in an organisation" in e.detail for e in ticket.events)


def test_the_same_message_delivered_twice_files_once(deliver, session: Session, lena: Person) -> None:
    first = deliver(message("plain"))
    again = deliver(message("plain"))
    assert again.id == first.id
    assert len(tickets(session)) == 1
    assert session.scalar(select(func.count()).select_from(InboundMail)) == 1


def test_automatic_and_bulk_mail_is_kept_but_makes_no_ticket(deliver, session: Session, lena: Person) -> None:
    for name in ("bounce", "out_of_office", "mailing_list"):
        mail = deliver(message(name))
        assert mail.status == "ignored" and mail.why
    assert tickets(session) == []
    assert session.scalar(select(func.count()).select_from(InboundMail)) == 3


def test_an_out_of_office_reply_is_tied_to_its_ticket_but_adds_nothing(deliver, session: Session,
                                                                       lena: Person) -> None:
    deliver(message("plain"))
    ooo = message("out_of_office").replace(b"Auto-Submitted", b"In-Reply-To: <CAF3x9k2=plain@mail.acme.example>\r\n"
                                                               b"Auto-Submitted")
    mail = deliver(ooo)
    [ticket] = tickets(session)
    assert (mail.status, mail.ticket_id, len(ticket.comments)) == ("ignored", ticket.id, 1)


def test_attachments_are_kept_on_the_comment(deliver, session: Session, lena: Person) -> None:
    deliver(message("with_attachment"))
    [ticket] = tickets(session)
    assert ticket.severity == "high"
    log, screen = ticket.comments[0].attachments
    assert (log.filename, log.content_type, screen.filename, screen.size) == ("export.log", "text/plain", "screen.png", 70)
    assert b"connection reset by peer" in log.data and log.size == len(log.data)


def test_attachments_over_the_limit_are_listed_not_kept_and_the_text_is_filed(session: Session, clock: FakeClock,
                                                                              rules, lena: Person) -> None:
    from dataclasses import replace
    from functools import partial

    from mail.filing import receive
    from oncall.service import duty_at

    small = replace(rules, max_message_bytes=100)
    receive(session, message("with_attachment"), now=clock.now, via="imap", rules=small,
            duty_at=partial(duty_at, session))
    [ticket] = tickets(session)
    comment = ticket.comments[0]
    assert comment.attachments == []
    assert "[Attachments not kept: 0.0 MB is over the 0.0001 MB a message may bring: export.log" in comment.body


def test_a_message_without_message_id_still_files(deliver, session: Session) -> None:
    mail = deliver(message("no_message_id"))
    assert mail.status == "filed" and mail.message_id is None
    assert tickets(session)[0].severity == "low"


def test_a_malformed_message_files_what_it_can(deliver, session: Session, lena: Person) -> None:
    assert deliver(message("malformed")).status == "filed"
    assert tickets(session)[0].comments[0].body == "Hello, the export is broken."


def test_a_message_that_cannot_be_filed_is_kept_with_the_reason(deliver, session: Session, monkeypatch) -> None:
    import mail.filing

    def broken(*args, **kwargs):
        raise RuntimeError("the ticket counter is gone")

    monkeypatch.setattr(mail.filing, "open_ticket", broken)
    mail_row = deliver(message("plain"))
    fresh(session)
    kept = session.get(InboundMail, mail_row.id)
    assert kept.status == "failed" and "RuntimeError: the ticket counter is gone" in kept.why
    assert kept.raw.startswith(b"Return-Path:"), "the raw message is kept whatever failed"
    assert tickets(session) == []


def test_the_ticket_page_and_the_api_show_the_conversation_and_its_attachments(deliver, admin, session: Session,
                                                                              lena: Person, client, clock) -> None:
    from staff.tokens import issue_api_token

    deliver(message("with_attachment"))
    deliver(message("plain"))
    page = admin.get("/admin/tickets/10001").text
    assert "Conversation" in page and "The export log and a screenshot are attached." in page
    assert "export.log" in page and "Lena Fischer &lt;lena@acme.example&gt;" in page
    [ticket] = [t for t in tickets(session) if t.number == 10001]
    log_file = ticket.comments[0].attachments[0]
    download = admin.get(f"/admin/tickets/10001/attachments/{log_file.id}")
    assert download.status_code == 200 and b"connection reset by peer" in download.data
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert 'attachment; filename=export.log' in download.headers["Content-Disposition"]
    assert admin.get(f"/admin/tickets/10002/attachments/{log_file.id}").status_code == 404, "another ticket's file"
    token = issue_api_token(session, "mail-tests", clock.now)
    shown = client.get("/api/tickets/10001", headers={"Authorization": f"Bearer {token}"}).json
    assert shown["subject"] == "Logs for the export failure (sev 2)" and shown["source"] == "email"
    [comment] = shown["comments"]
    assert (comment["channel"], comment["public"], comment["author"]) == ("email", True,
                                                                          "Lena Fischer <lena@acme.example>")
    assert [a["filename"] for a in comment["attachments"]] == ["export.log", "screen.png"]


def test_the_conversation_shows_the_call_and_the_mail_in_the_order_they_came(deliver, admin, client, session: Session,
                                                                             lena: Person, team: Team,
                                                                             clock: FakeClock) -> None:
    from people.service import update_person
    from phonesim import FlaskClientTransport, ScriptedCaller, Voicemail, place_call
    from tests.support import AUTH_TOKEN, PUBLIC_BASE

    update_person(session, lena.id, {"phone": "+12125550147"}, region="US", now=clock.now, actor="tests")
    place_call(voice_url=f"{PUBLIC_BASE}/ivr/voice", status_callback_url=f"{PUBLIC_BASE}/ivr/status",
               auth_token=AUTH_TOKEN, transport=FlaskClientTransport(client),
               caller=ScriptedCaller(["1", "2", "1", Voicemail("The export fails again.")], hang_up_when_done=True),
               engineers=["no-answer"] * 3, from_number="+12125550147")
    clock.advance(minutes=10)
    deliver(message("outlook_reply"))  # [#10001] from the requester
    page = admin.get("/admin/tickets/10001").text
    conversation = page[page.index('id="conversation"'):page.index("<h2>Timeline</h2>")]
    call_at = conversation.index("Call from +12125550147")
    assert call_at < conversation.index("The workaround you sent works for us.")
    assert "Voicemail: The export fails again." in conversation


def test_a_30_mb_message_from_the_mailbox_files_its_text_and_lists_what_it_could_not_keep(
    deliver, session: Session, lena: Person
) -> None:
    line = b"A" * 76 + b"\r\n"
    huge = message("with_attachment").replace(b"--b1--", b"--b1\r\nContent-Type: application/octet-stream; "
                                              b"name=\"dump.bin\"\r\nContent-Disposition: attachment; "
                                              b"filename=\"dump.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                                              + line * (30_000_000 // len(line)) + b"\r\n--b1--")
    assert len(huge) > 30_000_000
    mail = deliver(huge)
    assert mail.status == "filed" and len(mail.raw) == len(huge), "the message as it came is kept"
    [ticket] = tickets(session)
    comment = ticket.comments[0]
    assert comment.attachments == []
    assert comment.body.startswith("The export log and a screenshot are attached.")
    assert "[Attachments not kept: 21.9 MB is over the 10 MB a message may bring: export.log" in comment.body
    assert "dump.bin (21.9 MB)" in comment.body
