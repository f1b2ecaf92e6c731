"""Browser sessions: the admins' and the customers' are different cookies.

Both are Flask's signed cookies, but a page under `/support` (the customer portal) reads and
writes its own cookie, with its own name, path, lifetime and signing salt: an admin's cookie
never signs anyone into the portal, a customer's never reaches an admin page, and each side's
CSRF token lives in its own cookie. What makes a session end on the server (a sign-out, a
password change) is each side's own business (`staff.admins`, `portal.sign_in`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import Flask, Request, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer


@dataclass(frozen=True)
class CookieArea:
    """The pages under `prefix` and the cookie that carries their sessions."""

    prefix: str
    cookie_name: str
    lifetime: timedelta
    salt: str


PORTAL = CookieArea(prefix="/support", cookie_name="support_session", lifetime=timedelta(days=30),
                    salt="support-portal-session")


class AreaSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions, one cookie per area of pages; and no signer built for requests that
    bring no cookie (Twilio's webhooks and API calls never carry one, and a caller waits on each)."""

    def __init__(self, areas: tuple[CookieArea, ...] = (PORTAL,)) -> None:
        self.areas = areas

    def _area(self) -> CookieArea | None:
        path = request.path if request else ""
        return next((a for a in self.areas if path == a.prefix or path.startswith(a.prefix + "/")), None)

    def get_cookie_name(self, app: Flask) -> str:
        area = self._area()
        return area.cookie_name if area else super().get_cookie_name(app)

    def get_cookie_path(self, app: Flask) -> str:
        area = self._area()
        return area.prefix if area else super().get_cookie_path(app)

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        area = self._area()
        if area is None or not session.permanent:
            return super().get_expiration_time(app, session)
        return datetime.now(timezone.utc) + area.lifetime

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        area = self._area()
        if area is None:
            return super().get_signing_serializer(app)
        if not app.secret_key:
            return None
        return URLSafeTimedSerializer(app.secret_key, salt=area.salt, serializer=self.serializer,
                                      signer_kwargs={"key_derivation": self.key_derivation,
                                                     "digest_method": self.digest_method})

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        area = self._area()
        if area is None:
            return super().open_session(app, request)
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data = serializer.loads(request.cookies[area.cookie_name], max_age=int(area.lifetime.total_seconds()))
        except BadSignature:  # tampered, expired or signed for the other area: a fresh session
            return self.session_class()
        return self.session_class(data)
