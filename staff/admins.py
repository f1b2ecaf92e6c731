"""Admins: who may use the admin pages. Only a werkzeug password hash is kept.

`login_required` guards every admin page of every area; a session stops working when the
admin logs out or their password changes, which logs out every browser they used.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.db import db
from staff.models import AdminUser, LoginFailure
from web.pages import viewer_zone

# Throttling guesses: failed logins counted per client address within LOGIN_WINDOW. Past
# ACCOUNT_LIMIT for one username, that client may not try that username again for a while;
# past CLIENT_LIMIT for any usernames, it may not try at all. The account itself is never
# locked, so nobody can keep an admin out by guessing their username.
LOGIN_WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5
CLIENT_LIMIT = 20
MIN_PASSWORD_LENGTH = 10
MAX_USERNAME_LENGTH = 80
MAX_CLIENT_LENGTH = 64
# Checked when there is no real hash to check (an unknown username), so that it costs the same
# time as a wrong password.
_NO_ADMIN_HASH = generate_password_hash(secrets.token_urlsafe(16))
# A web process checks one password at a time; a login that finds another being checked is
# asked to try again a moment later, and the other threads stay free for the phone line.
_ONE_CHECK_AT_A_TIME = threading.Lock()
BUSY_RETRY = timedelta(seconds=2)


@dataclass(frozen=True)
class LoginAttempt:
    """What became of a login: the admin, or a refusal; `retry_after` when the client is held back
    (`busy`: only because another login was being checked at that moment)."""

    admin: AdminUser | None
    retry_after: datetime | None = None
    busy: bool = False


def create_admin(session: Session, username: str, password: str, now: datetime) -> AdminUser:
    """Add an admin (or reset an existing admin's password) and commit."""
    username = username.strip()
    if not username or len(username) > MAX_USERNAME_LENGTH:
        raise ValueError(f"a username has 1 to {MAX_USERNAME_LENGTH} characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    admin = session.scalar(select(AdminUser).where(AdminUser.username == username))
    if admin is None:
        admin = AdminUser(username=username, created_at=now, password_hash="")
        session.add(admin)
    admin.password_hash = generate_password_hash(password)
    session.commit()
    return admin


def _throttled_until(session: Session, client: str, username: str, now: datetime) -> datetime | None:
    since = now - LOGIN_WINDOW
    failures = session.execute(select(LoginFailure.username, LoginFailure.at).where(
        LoginFailure.client == client, LoginFailure.at > since).order_by(LoginFailure.at)).all()
    for_account = [at for name, at in failures if name == username]
    if len(failures) >= CLIENT_LIMIT:
        return failures[-CLIENT_LIMIT].at + LOGIN_WINDOW
    if len(for_account) >= ACCOUNT_LIMIT:
        return for_account[-ACCOUNT_LIMIT] + LOGIN_WINDOW
    return None


def log_in(session: Session, username: str, password: str, now: datetime, client: str = "cli") -> LoginAttempt:
    """Check a login from `client` (its address).

    A held-back client is answered at once, without a password check: the answer says only
    what it already knows. Otherwise exactly one password check runs, whether the username
    exists or not, so a wrong username costs the time a wrong password does. It runs outside
    any transaction (on SQLite a transaction holds the one write lock the phone line's webhooks
    need), and in one web thread at a time (`_ONE_CHECK_AT_A_TIME`): a flood of guesses never
    takes the threads that answer calls. A failure is then recorded in a short transaction of
    its own; a success clears that client's failures for the account.
    """
    username, client = username.strip()[:MAX_USERNAME_LENGTH], client[:MAX_CLIENT_LENGTH]
    retry_after = _throttled_until(session, client, username, now)
    found = None if retry_after is not None else session.execute(
        select(AdminUser.id, AdminUser.password_hash).where(AdminUser.username == username)).first()
    session.rollback()  # end the reads (on SQLite, give back the write lock) before the slow part
    if retry_after is not None:
        return LoginAttempt(None, retry_after)
    if not _ONE_CHECK_AT_A_TIME.acquire(blocking=False):
        return LoginAttempt(None, now + BUSY_RETRY, busy=True)
    try:
        right = check_password_hash(found.password_hash if found else _NO_ADMIN_HASH, password) and found is not None
    finally:
        _ONE_CHECK_AT_A_TIME.release()
    if not right:
        session.add(LoginFailure(client=client, username=username, at=now))
        session.commit()
        return LoginAttempt(None)
    session.execute(delete(LoginFailure).where(LoginFailure.client == client, LoginFailure.username == username))
    session.commit()
    return LoginAttempt(session.get(AdminUser, found.id))


def check_login(session: Session, username: str, password: str, now: datetime) -> AdminUser | None:
    """The admin if `password` is theirs (a login from the command line's client)."""
    return log_in(session, username, password, now).admin


def end_sessions(session: Session, admin_id: int) -> None:
    """Log an admin out everywhere: every login cookie they hold stops working (one commit)."""
    session.execute(update(AdminUser).where(AdminUser.id == admin_id)
                    .values(session_epoch=AdminUser.session_epoch + 1))
    session.commit()


def session_key(admin: AdminUser) -> str:
    """What the login cookie holds besides the admin's id: it changes with every password and
    every logout.

    Keyed with the app's secret, so the cookie tells nothing about the hash.
    """
    material = f"{admin.session_epoch}:{admin.password_hash}".encode()
    return hmac.new(current_app.secret_key.encode(), material, hashlib.sha256).hexdigest()[:32]


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send a visitor who is not logged in to the login page; otherwise set `g.admin` and `g.actor`."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        admin_id = session.get("admin_id")
        admin = db().get(AdminUser, admin_id) if isinstance(admin_id, int) else None
        if admin is None or session.get("admin_key") != session_key(admin):
            session.clear()
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        g.admin = admin
        g.actor = f"admin:{admin.username}"
        viewer_zone()  # reads ?tz= now, so a bad zone's message shows on this page
        return view(*args, **kwargs)

    return checked
