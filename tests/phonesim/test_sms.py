"""SMS: a message delivered to the line as Twilio does, and the texts of its reply."""

import re

from phonesim import FlaskClientTransport, send_sms
from tests.phonesim.line import BASE, CALLER, LINE_NUMBER, TOKEN, hit, make_line, no_content


def test_send_sms_posts_a_signed_incoming_message_and_returns_the_reply_texts():
    app = make_line()

    status, texts = send_sms(
        sms_url=f"{BASE}/sms", auth_token=TOKEN, transport=FlaskClientTransport(app.test_client()),
        from_number=CALLER, to_number=LINE_NUMBER, body="STATUS",
    )

    assert (status, texts) == (200, ["Got: STATUS"])
    sms = hit(app, "/sms")
    assert re.match(r"^SM[0-9a-f]{32}$", sms["MessageSid"])
    assert (sms["From"], sms["To"], sms["Body"], sms["NumMedia"]) == (CALLER, LINE_NUMBER, "STATUS", "0")


def test_send_sms_reads_message_bodies_and_empty_replies():
    app = make_line(
        sms="<Response><Message><Body>First</Body></Message><Message>Second</Message></Response>", quiet=no_content
    )
    transport = FlaskClientTransport(app.test_client())
    common = dict(auth_token=TOKEN, transport=transport, from_number=CALLER, to_number=LINE_NUMBER, body="hi")

    assert send_sms(sms_url=f"{BASE}/sms", **common) == (200, ["First", "Second"])
    assert send_sms(sms_url=f"{BASE}/quiet", **common) == (204, [])
