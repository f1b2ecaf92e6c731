"""Logs are one line per event, and a webhook's lines carry its CallSid."""

from __future__ import annotations

import io
import logging

from core.logs import one_line_handler


def _captured(name: str):
    stream = io.StringIO()
    handler = one_line_handler(stream)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    return stream, lambda: logger.removeHandler(handler)


def test_a_webhooks_log_line_carries_its_call_sid(client) -> None:
    stream, done = _captured("ivr.signature")
    try:
        assert client.post("/ivr/voice", data={"CallSid": "CA" + "9" * 32, "From": "+12125550147"}).status_code == 403
    finally:
        done()
    [line] = stream.getvalue().splitlines()
    assert f" WARNING ivr.signature CallSid=CA{'9' * 32} refused /ivr/voice: missing or wrong X-Twilio-Signature" in line


def test_a_traceback_stays_on_its_one_line() -> None:
    stream, done = _captured("tests.one_line")
    try:
        try:
            raise RuntimeError("first\nsecond")
        except RuntimeError:
            logging.getLogger("tests.one_line").exception("it failed")
    finally:
        done()
    text = stream.getvalue()
    assert text.count("\n") == 1 and "it failed\\nTraceback" in text and "RuntimeError: first\\nsecond" in text
    assert " ERROR tests.one_line it failed" in text, "outside a request there is no CallSid"
