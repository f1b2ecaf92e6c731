"""Only Twilio gets in: every webhook must carry a valid `X-Twilio-Signature`.

The signature covers the URL Twilio requested (query string included) and the POST
parameters. When `PUBLIC_URL` is set, that URL is the public base plus the request's path
and query, whatever `Host` the request claims; otherwise it is `request.url`, which
`ProxyFix` rebuilds behind a reverse proxy when `TRUSTED_PROXIES` is set (`app.create_app`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from urllib.parse import urlsplit

from flask import abort, request
from twilio.request_validator import RequestValidator, get_signature_algorithm
from werkzeug.sansio.utils import get_current_url

from core.settings import current_settings

log = logging.getLogger(__name__)


def signed_by_twilio(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403, before anything is read or recorded) a request Twilio did not sign."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        signature = request.headers.get("X-Twilio-Signature", "")
        algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
        settings = current_settings()
        url = _signed_url(settings.public_url)
        validator = RequestValidator(settings.twilio_auth_token)
        if not signature or not validator.validate(url, request.form, signature, algorithm):
            log.warning("refused %s: missing or wrong X-Twilio-Signature for %s", request.path, url)
            abort(403, description="missing or invalid X-Twilio-Signature")
        return view(*args, **kwargs)

    return checked


def _signed_url(public_url: str | None) -> str:
    """The URL Twilio must have signed: on the public base when there is one."""
    if public_url is None:
        return request.url
    base = urlsplit(public_url)
    return get_current_url(base.scheme, base.netloc, base.path, request.path,
                           request.query_string)
