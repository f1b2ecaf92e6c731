"""How the line logs: one line per event (a traceback too, its line breaks escaped), each line of a
Twilio webhook carrying its CallSid (or MessageSid), so one call's story is one grep away."""

from __future__ import annotations

import logging
import sys

from flask import has_request_context, request

FORMAT = "%(asctime)s %(levelname)s %(name)s %(sid)s%(message)s"


class CallSidFilter(logging.Filter):
    """Adds `sid` ("CallSid=CA… " inside a webhook, "" elsewhere) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        sid = ""
        if has_request_context():
            for name in ("CallSid", "MessageSid"):
                value = request.values.get(name)
                if value:
                    sid = f"{name}={value[:64]} "
                    break
        record.sid = sid
        return True


class OneLineFormatter(logging.Formatter):
    """The standard format, with every line break of the message and its traceback escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")


def one_line_handler(stream=None) -> logging.Handler:  # type: ignore[no-untyped-def]
    """A handler writing the line's records as single lines (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(OneLineFormatter(FORMAT))
    handler.addFilter(CallSidFilter())
    return handler


def init_logging() -> None:
    """Log the line's records as single lines at INFO, once per process, unless the host configured logging."""
    root = logging.getLogger()
    if root.handlers:
        return  # gunicorn's --log-config, pytest's capture or the embedding program decides
    root.addHandler(one_line_handler())
    root.setLevel(logging.INFO)
