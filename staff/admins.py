"""Admins: who may use the admin pages. Only a werkzeug password hash is kept.

`login_required` guards every admin page of every area; a session stops working when the
admin's password changes, so a reset logs out every browser that used the old password.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.db import db
from staff.models import AdminUser
from web.pages import viewer_zone

# Failed logins in a row before an account is locked for a while (throttling guesses).
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
MAX_USERNAME_LENGTH = 80


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
    admin.failed_logins = 0
    admin.locked_until = None
    session.commit()
    return admin


def check_login(session: Session, username: str, password: str, now: datetime) -> AdminUser | None:
    """The admin if the password is right and the account is not locked; counts failures (one commit)."""
    # Locked for the check: parallel guesses count one after another, so the lockout holds.
    admin = session.scalar(select(AdminUser).where(AdminUser.username == username.strip()).with_for_update())
    if admin is None:
        # Same work as a real check, so a wrong username is not faster than a wrong password.
        check_password_hash(generate_password_hash("x"), password)
        return None
    if admin.locked_until is not None and admin.locked_until > now:
        return None
    if not check_password_hash(admin.password_hash, password):
        admin.failed_logins += 1
        if admin.failed_logins >= MAX_FAILED_LOGINS:
            admin.locked_until = now + LOCKOUT
            admin.failed_logins = 0
        session.commit()
        return None
    admin.failed_logins = 0
    admin.locked_until = None
    session.commit()
    return admin


def session_key(admin: AdminUser) -> str:
    """What the login cookie holds besides the admin's id: it changes with every password.

    Keyed with the app's secret, so the cookie tells nothing about the hash.
    """
    return hmac.new(current_app.secret_key.encode(), admin.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


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
