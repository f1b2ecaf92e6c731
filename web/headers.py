"""Headers every response carries, whatever area answers it: pages, API, webhooks, feeds."""

from __future__ import annotations

from flask import Flask, Response

# A year, as browsers' preload lists expect.
HSTS_MAX_AGE = 365 * 24 * 3600


def init_app(app: Flask, *, https: bool) -> None:
    """Never let a browser guess a response's type; over HTTPS, tell it to stay on HTTPS."""

    @app.after_request
    def _every_response(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if https:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}")
        return response
