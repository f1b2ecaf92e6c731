"""Reading real messages (`messages/`): who wrote, what it answers, whether a person wrote it, what is new."""

from __future__ import annotations

import pytest

from mail.reading import message_key, new_part, read_message
from tests.mail.conftest import SUPPORT, message
from tickets.sla import Severity


def read(name: str):
    return read_message(message(name), support_address=SUPPORT)


def test_a_plain_message_gives_its_sender_subject_and_text() -> None:
    plain = read("plain")
    assert (plain.sender, plain.sender_name) == ("lena@acme.example", "Lena Fischer")
    assert plain.subject == "Nightly export fails since the upgrade"
    assert plain.text.startswith("Hello,\n\nour nightly export has failed") and plain.text.endswith("Lena")
    assert (plain.automatic, plain.severity, plain.severity_named) == (None, Severity.NORMAL, False)


def test_an_html_only_message_reads_as_text_and_its_encoded_subject_names_the_severity() -> None:
    html = read("html_only")
    assert html.subject == "URGENT: checkout is down – P1"
    assert "Our checkout is down for every customer." in html.text and "* Error 502" in html.text
    assert "<" not in html.text and "alert" not in html.text
    assert (html.severity, html.severity_named) == (Severity.CRITICAL, True)


def test_attachments_come_whole_and_sev_2_is_high() -> None:
    attached = read("with_attachment")
    assert [(a.filename, a.content_type) for a in attached.attachments] == [("export.log", "text/plain"),
                                                                             ("screen.png", "image/png")]
    assert attached.attachments[1].data.startswith(b"\x89PNG")
    assert attached.text == "The export log and a screenshot are attached."
    assert attached.severity is Severity.HIGH


@pytest.mark.parametrize(("name", "new"), [
    ("gmail_reply", "It failed again last night, same error."),
    ("outlook_reply", "The workaround you sent works for us."),
    ("apple_reply", "Thanks, all good now.\n\nSent from my iPhone"),
])
def test_a_reply_keeps_only_what_is_new(name: str, new: str) -> None:
    reply = read(name)
    assert reply.text == new
    assert reply.ticket_tag == 10001 and reply.subject.endswith("Nightly export fails since the upgrade")


def test_a_reply_names_the_messages_it_answers() -> None:
    assert read("gmail_reply").references == ["<CAF3x9k2=plain@mail.acme.example>"]


def test_a_non_utf8_charset_and_an_encoded_sender_read_right() -> None:
    latin1 = read("latin1")
    assert latin1.sender_name == "Jürgen Müller" and latin1.subject == "Fehler beim Export (dringend)"
    assert latin1.text == "Grüße, der Export schlägt fehl. Bitte um Rückruf."


@pytest.mark.parametrize(("name", "why"), [
    ("bounce", "automatic (Auto-Submitted: auto-replied)"),
    ("out_of_office", "automatic (Auto-Submitted: auto-replied)"),
    ("mailing_list", "bulk (Precedence: list)"),
])
def test_automatic_and_bulk_mail_says_why_no_person_wrote_it(name: str, why: str) -> None:
    assert read(name).automatic == why


def test_a_delivery_report_without_headers_saying_so_is_still_a_bounce() -> None:
    raw = message("bounce").replace(b"Auto-Submitted: auto-replied\r\n", b"").replace(b"MAILER-DAEMON@", b"relay@")
    assert read_message(raw, support_address=SUPPORT).automatic == "a delivery status notification (a bounce)"


def test_mail_from_the_support_address_itself_is_a_loop() -> None:
    raw = message("plain").replace(b"From: Lena Fischer <Lena@Acme.example>", b"From: Support <SUPPORT@example.com>")
    assert read_message(raw, support_address=SUPPORT).automatic == "from the support address itself (a loop)"


def test_a_message_without_message_id_is_keyed_by_its_bytes() -> None:
    key, message_id = message_key(message("no_message_id"))
    assert message_id is None and len(key) == 64
    assert message_key(message("no_message_id") + b"\r\nP.S.")[0] != key
    assert read("no_message_id").severity is Severity.LOW, "'low priority' names the severity"


def test_the_same_message_id_is_the_same_key_whatever_else_differs() -> None:
    first, message_id = message_key(message("plain"))
    assert message_id == "<CAF3x9k2=plain@mail.acme.example>"
    assert message_key(message("plain").replace(b"Hello,", b"Hi,"))[0] == first


def test_malformed_headers_read_as_far_as_they_go() -> None:
    broken = read("malformed")
    assert broken.sender == "lena@acme.example"
    assert broken.text == "Hello, the export is broken."


def test_a_reply_that_is_all_quote_keeps_its_whole_text() -> None:
    assert new_part("> only a quote\n> nothing new") == "> only a quote\n> nothing new"
