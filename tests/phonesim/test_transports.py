"""Transports and signatures: every request is signed over its URL and params, and travels unchanged."""

from dataclasses import dataclass

import pytest
from twilio.request_validator import RequestValidator

from phonesim import SILENCE, FlaskClientTransport, HttpTransport, ScriptedCaller, WebhookError, place_call
from tests.phonesim.line import BASE, TOKEN, call, make_line


class TamperingTransport(FlaskClientTransport):
    """Changes a parameter after Twilio signed it, as an attacker replaying a request would."""

    def post(self, url, params, headers):
        return super().post(url, {**params, "From": "+19005550000"}, headers)


def test_every_request_of_a_call_carries_a_signature_the_line_accepts():
    app = make_line()

    record = call(app, ["1"], ["accept"])

    assert record.status == "completed"
    assert len(app.hits) == len(record.requests) >= 7
    assert all(200 <= exchange.status < 300 for exchange in record.requests)


def test_a_parameter_tampered_after_signing_is_refused_with_403():
    app = make_line()

    with pytest.raises(WebhookError) as error:
        call(app, ["1"], transport=TamperingTransport(app.test_client()))

    assert error.value.status == 403
    assert app.hits == []


def test_the_signature_covers_the_url_so_another_url_fails_validation():
    app = make_line()
    record = call(app, [SILENCE])
    url, params, _, _ = record.requests[0]
    validator = RequestValidator(TOKEN)

    signature = validator.compute_signature(url, params)

    assert validator.validate(url, params, signature)
    assert not validator.validate(url.replace("/voice", "/menu"), params, signature)
    assert not validator.validate(url, {**params, "Digits": "9"}, signature)


def test_the_flask_transport_keeps_scheme_port_and_query_so_request_url_is_the_signed_url():
    app = make_line()
    voice_url = "https://line.example.com:8443/ivr/voice?campaign=spring"

    call(app, [SILENCE], voice_url=voice_url)

    assert app.hits[0].url == voice_url
    assert app.hits[0].values["campaign"] == "spring"


class FakeSession:
    """Stands in for requests.Session: records calls, answers with one TwiML document."""

    def __init__(self, body):
        self.body = body
        self.calls = []

    def post(self, url, **kwargs):
        self.calls.append(("POST", url, kwargs))
        return FakeResponse(200, {"Content-Type": "text/xml; charset=utf-8"}, self.body)

    def get(self, url, **kwargs):
        self.calls.append(("GET", url, kwargs))
        return FakeResponse(200, {"Content-Type": "text/xml"}, self.body)


@dataclass
class FakeResponse:
    status_code: int
    headers: dict
    text: str


def test_the_http_transport_posts_signed_forms_with_a_timeout_and_no_redirects():
    session = FakeSession("<Response><Say>Over real HTTP.</Say></Response>")

    record = place_call(
        voice_url=f"{BASE}/ivr/voice", status_callback_url=None, auth_token=TOKEN,
        transport=HttpTransport(session, timeout=3), caller=ScriptedCaller(),
    )

    method, url, kwargs = session.calls[0]
    assert (method, url) == ("POST", f"{BASE}/ivr/voice")
    assert kwargs["timeout"] == 3 and kwargs["allow_redirects"] is False
    assert RequestValidator(TOKEN).validate(url, kwargs["data"], kwargs["headers"]["X-Twilio-Signature"])
    assert record.heard == ["Over real HTTP."]
    assert len(session.calls) == 1  # no status callback URL, no status callback
