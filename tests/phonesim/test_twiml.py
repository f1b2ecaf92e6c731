"""Reading TwiML: what is not a TwiML document, or not one this phone executes, stops the call."""

import pytest
from flask import Response

from phonesim import TwimlError, WebhookError
from tests.phonesim.line import call, make_line


def test_a_reply_that_is_not_xml_raises_webhook_error():
    app = make_line(ivr__voice=lambda values: Response("<Response/>", mimetype="text/html"))

    with pytest.raises(WebhookError) as error:
        call(app)

    assert error.value.content_type.startswith("text/html")


@pytest.mark.parametrize(
    "body",
    ["<Reply><Say>Hi</Say></Reply>", "<Response><Say>Hi</Response>", "<Response><Enqueue>support</Enqueue></Response>"],
    ids=["wrong-root", "malformed", "unsupported-verb"],
)
def test_twiml_the_phone_cannot_execute_raises_twiml_error(body):
    app = make_line(ivr__voice=body)

    with pytest.raises(TwimlError):
        call(app)
