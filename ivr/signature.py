"""Only Twilio gets in: every webhook must carry a valid `X-Twilio-Signature`.

The signature covers the URL Twilio requested (query string included) and the POST
parameters. Behind a reverse proxy the public URL is rebuilt by `ProxyFix` when
`TRUSTED_PROXIES` is set (see `app.create_app`), so `request.url` is what Twilio signed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import abort, request
from twilio.request_validator import RequestValidator, get_signature_algorithm

from core.settings import current_settings

log = logging.getLogger(__name__)


def signed_by_twilio(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403, before anything is read or recorded) a request Twilio did not sign."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        signature = request.headers.get("X-Twilio-Signature", "")
        algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
        validator = RequestValidator(current_settings().twilio_auth_token)
        if not signature or not validator.validate(request.url, request.form, signature, algorithm):
            log.warning("refused %s: missing or wrong X-Twilio-Signature for %s", request.path, request.url)
            abort(403, description="missing or invalid X-Twilio-Signature")
        return view(*args, **kwargs)

    return checked
