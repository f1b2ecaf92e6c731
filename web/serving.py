"""The web processes gunicorn runs (gunicorn.conf.py's `worker_class`).

Gunicorn refuses a request whose line or headers are too long before any app sees it, and
answers with an HTML page of its own. An API client expects the API's one error shape
(`{"error": "..."}`, web/api.py), so those refusals are written as JSON here; every other
error gunicorn meets is left to gunicorn.
"""

from __future__ import annotations

import json

from gunicorn import util
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

# What gunicorn refuses before the app runs: status, reason phrase, what the client should change.
TOO_LONG = {
    LimitRequestLine: (414, "URI Too Long", "the request line is too long"),
    LimitRequestHeaders: (431, "Request Header Fields Too Large", "the request headers are too large"),
}


def refusal(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 response carrying `{"error": message}`; the connection is closed after it."""
    body = json.dumps({"error": message}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class JsonRefusalsWorker(ThreadWorker):
    """Gunicorn's threaded worker (`--threads`), answering an over-long line or header block in JSON."""

    def handle_error(self, req, client, addr, exc) -> None:
        refused = TOO_LONG.get(type(exc))
        if refused is None:
            super().handle_error(req, client, addr, exc)
            return
        status, reason, what = refused
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, refusal(status, reason, f"{what}: {exc}"))
        except OSError:
            self.log.debug("Failed to send error message.")
