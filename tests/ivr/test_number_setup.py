"""`twilio-configure`: the support number's webhooks set from PUBLIC_URL through Twilio's REST API,
tested with `responses` on Twilio's own URL shapes (IncomingPhoneNumbers), the fields sent checked exactly."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
import responses

from tests.support import SUPPORT_NUMBER

ACCOUNT = "AC" + "1" * 32
NUMBER_SID = "PN" + "2" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"
LIST = f"{API}/IncomingPhoneNumbers.json"
INSTANCE = f"{API}/IncomingPhoneNumbers/{NUMBER_SID}.json"
WANTED = {
    "VoiceUrl": "https://support.example.com/ivr/voice", "VoiceMethod": "POST",
    "VoiceFallbackUrl": "https://support.example.com/ivr/fallback", "VoiceFallbackMethod": "POST",
    "StatusCallback": "https://support.example.com/ivr/status", "StatusCallbackMethod": "POST",
    "SmsUrl": "https://support.example.com/sms", "SmsMethod": "POST",
}


def number(**fields: str | None) -> dict:
    """An IncomingPhoneNumber as Twilio's API answers it (the fields the line reads, and some it does not)."""
    return {"sid": NUMBER_SID, "account_sid": ACCOUNT, "phone_number": SUPPORT_NUMBER, "friendly_name": "Support",
            "voice_url": "https://demo.twilio.com/welcome/voice/", "voice_method": "POST", "voice_fallback_url": None,
            "voice_fallback_method": "POST", "status_callback": "", "status_callback_method": "POST",
            "sms_url": "https://demo.twilio.com/welcome/sms/reply", "sms_method": "POST",
            "uri": f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{NUMBER_SID}.json", **fields}


def listing(*numbers: dict) -> dict:
    return {"incoming_phone_numbers": list(numbers), "end": max(len(numbers) - 1, 0), "page": 0, "page_size": 2,
            "start": 0, "first_page_uri": f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json?PageSize=2&Page=0",
            "next_page_uri": None, "previous_page_uri": None,
            "uri": f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json?PageSize=2&Page=0"}


def run(make_app, *args: str, **env: str):
    app = make_app(PUBLIC_URL="https://support.example.com", **env)
    return app.test_cli_runner().invoke(args=["twilio-configure", *args])


def _posted(call) -> dict[str, str]:
    return dict(parse_qsl(call.request.body))


@responses.activate
def test_it_points_every_webhook_at_public_url_and_prints_before_and_after(make_app) -> None:
    responses.add(responses.GET, LIST, json=listing(number()),
                  match=[responses.matchers.query_param_matcher({"PhoneNumber": SUPPORT_NUMBER, "PageSize": "2"})])
    responses.add(responses.POST, INSTANCE, json=number(**{k: v for k, v in {
        "voice_url": WANTED["VoiceUrl"], "voice_fallback_url": WANTED["VoiceFallbackUrl"],
        "status_callback": WANTED["StatusCallback"], "sms_url": WANTED["SmsUrl"]}.items()}))
    result = run(make_app)
    assert result.exit_code == 0, result.output
    writes = [c for c in responses.calls if c.request.method == "POST"]
    assert len(writes) == 1 and _posted(writes[0]) == {k: v for k, v in WANTED.items() if not k.endswith("Method")}
    assert f"{SUPPORT_NUMBER} ({NUMBER_SID})" in result.output
    assert "* voice_url: https://demo.twilio.com/welcome/voice/ -> https://support.example.com/ivr/voice" in result.output
    assert "* voice_fallback_url: (empty) -> https://support.example.com/ivr/fallback" in result.output
    assert "  voice_method: POST" in result.output
    assert "changed 4 fields" in result.output


@responses.activate
def test_a_dry_run_sends_no_write(make_app) -> None:
    responses.add(responses.GET, LIST, json=listing(number()))
    result = run(make_app, "--dry-run")
    assert result.exit_code == 0, result.output
    assert [c.request.method for c in responses.calls] == ["GET"]
    assert "~ sms_url: https://demo.twilio.com/welcome/sms/reply -> https://support.example.com/sms" in result.output
    assert "dry run: 4 fields would change; nothing was sent" in result.output


@responses.activate
def test_a_number_already_set_is_left_alone(make_app) -> None:
    responses.add(responses.GET, LIST, json=listing(number(
        voice_url=WANTED["VoiceUrl"], voice_fallback_url=WANTED["VoiceFallbackUrl"],
        status_callback=WANTED["StatusCallback"], sms_url=WANTED["SmsUrl"])))
    result = run(make_app)
    assert result.exit_code == 0 and "every webhook already points here; nothing changed" in result.output
    assert [c.request.method for c in responses.calls] == ["GET"]


@responses.activate
def test_a_number_not_on_the_account_is_refused(make_app) -> None:
    responses.add(responses.GET, LIST, json=listing())
    result = run(make_app)
    assert result.exit_code == 1
    assert f"{SUPPORT_NUMBER} is not a number of Twilio account {ACCOUNT}" in result.output


@pytest.mark.parametrize("public_url", ["http://support.example.com", None])
@responses.activate
def test_a_public_url_that_is_not_https_is_refused_before_asking_twilio(make_app, env, public_url) -> None:
    if public_url is None:
        app = make_app()
    else:
        app = make_app(PUBLIC_URL=public_url)
    result = app.test_cli_runner().invoke(args=["twilio-configure"])
    assert result.exit_code == 1 and "PUBLIC_URL must be the line's https:// address" in result.output
    assert len(responses.calls) == 0


@responses.activate
def test_credentials_twilio_refuses_are_said_plainly(make_app) -> None:
    responses.add(responses.GET, LIST, status=401, json={"code": 20003, "message": "Authenticate", "status": 401})
    result = run(make_app)
    assert result.exit_code == 1 and "Twilio refused" in result.output and "HTTP 401" in result.output
    assert "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in result.output


def test_without_an_account_it_says_which_settings_are_missing(make_app) -> None:
    result = make_app(TWILIO_ACCOUNT_SID="", PUBLIC_URL="https://support.example.com").test_cli_runner().invoke(
        args=["twilio-configure"])
    assert result.exit_code == 1 and "set TWILIO_ACCOUNT_SID" in result.output
