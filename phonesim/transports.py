"""How Twilio's requests reach the line: signed as Twilio signs them, through a `Transport`.

`FlaskClientTransport` carries them through a Flask test client, `HttpTransport` to a line
served over real HTTP. Every request carries Twilio's ids (`new_sid`), its API version and
an `X-Twilio-Signature` over the URL and the parameters (`signed_request`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode, urlsplit

import requests
from twilio.request_validator import RequestValidator

from phonesim.errors import WebhookError

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
USER_AGENT = "TwilioProxy/1.1"


@dataclass(frozen=True)
class Reply:
    """The line's answer to one webhook request."""

    status: int
    content_type: str
    body: str


class Transport(Protocol):
    """Carries Twilio's requests to the line."""

    def post(self, url: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        """POST `params` form-encoded to the absolute `url`."""

    def get(self, url: str, headers: dict[str, str]) -> Reply:
        """GET the absolute `url` (its query string carries the params)."""


def _split_base(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return f"{parts.scheme}://{parts.netloc}", path


class FlaskClientTransport:
    """Requests through a Flask test client, so that `request.url` is the URL that was signed."""

    def __init__(self, client):
        self.client = client

    def post(self, url: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        base_url, path = _split_base(url)
        response = self.client.post(path, data=params, headers=headers, base_url=base_url)
        return self._reply(response)

    def get(self, url: str, headers: dict[str, str]) -> Reply:
        base_url, path = _split_base(url)
        return self._reply(self.client.get(path, headers=headers, base_url=base_url))

    @staticmethod
    def _reply(response) -> Reply:
        return Reply(response.status_code, response.headers.get("Content-Type", ""), response.get_data(as_text=True))


class HttpTransport:
    """Requests over real HTTP with `requests`. Redirects are not followed: they surface as errors."""

    def __init__(self, session: requests.Session | None = None, *, timeout: float = 10.0):
        self.session = session or requests.Session()
        self.timeout = timeout

    def post(self, url: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        response = self.session.post(url, data=params, headers=headers, timeout=self.timeout, allow_redirects=False)
        return self._reply(response)

    def get(self, url: str, headers: dict[str, str]) -> Reply:
        response = self.session.get(url, headers=headers, timeout=self.timeout, allow_redirects=False)
        return self._reply(response)

    @staticmethod
    def _reply(response: requests.Response) -> Reply:
        return Reply(response.status_code, response.headers.get("Content-Type", ""), response.text)


def new_sid(prefix: str) -> str:
    """A fresh Twilio id: `prefix` ("CA" a call, "SM" a message, "RE" a recording) and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def _with_query(url: str, params: dict[str, str]) -> str:
    if not params:
        return url
    separator = "&" if urlsplit(url).query else ("" if url.endswith("?") else "?")
    return url + separator + urlencode(params)


def signed_request(
    transport: Transport, auth_token: str, method: str, url: str, params: dict[str, str]
) -> tuple[str, Reply]:
    """Send `params` to `url` as Twilio does: a signed form POST, or a GET with them in the signed query.

    Returns the URL requested (a GET's carries the params) and the line's reply, whatever its status.
    """
    validator = RequestValidator(auth_token)
    headers = {"User-Agent": USER_AGENT}
    if method == "GET":
        url = _with_query(url, params)
        headers["X-Twilio-Signature"] = validator.compute_signature(url, {})
        return url, transport.get(url, headers)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["X-Twilio-Signature"] = validator.compute_signature(url, params)
    return url, transport.post(url, params, headers)


def check_status(url: str, reply: Reply) -> Reply:
    """`reply` if the line answered 2xx; WebhookError otherwise, as Twilio treats any other status as failed."""
    if not 200 <= reply.status < 300:
        raise WebhookError(url, reply.status, reply.body, reply.content_type)
    return reply
