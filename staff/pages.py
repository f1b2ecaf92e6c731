"""Logging in and out of the admin pages, and the API tokens page."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup
from flask import Blueprint, Response, flash, g, redirect, render_template, request, session, url_for

from core.clock import current_clock
from core.db import db
from core.limits import one_line
from staff.admins import ACCOUNT_LIMIT, LOGIN_WINDOW, end_sessions, log_in, login_required, session_key
from staff.tokens import api_tokens, revoke_api_token
from web.pages import missing, protect_pages, when

bp = Blueprint("staff", __name__, url_prefix="/admin", template_folder="templates")
protect_pages(bp)

# Where an admin lands after logging in when the login page was not asked for by another page.
LANDING_ENDPOINT = "oncall.oncall_now"


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a page of this site only, never another host."""
    if target and target.startswith("/admin") and not target.startswith("//") and one_line(target):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for(LANDING_ENDPOINT)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Log in with a username and password. Failures hold back the address they come from (a 429
    saying until when, with Retry-After), never the account (`staff.admins.log_in`)."""
    if request.method == "GET":
        return render_template("staff/login.html", username="", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    attempt = log_in(db(), username, request.form.get("password", ""), current_clock(), request.remote_addr or "")
    admin = attempt.admin
    if admin is None:
        if attempt.busy:
            flash("Another login is being checked right now. Try again in a moment.", "error")
            status = 429
        elif attempt.retry_after is not None:
            flash(Markup("Too many failed logins from here. Try again after {}.").format(when(attempt.retry_after)),
                  "error")
            status = 429
        else:
            flash(f"Wrong username or password. After {ACCOUNT_LIMIT} wrong tries, this browser's address must "
                  f"wait {int(LOGIN_WINDOW.total_seconds() // 60)} minutes before trying that username again.",
                  "error")
            status = 401
        page = render_template("staff/login.html", username=username, next=request.form.get("next", ""))
        if attempt.retry_after is None:
            return page, status
        wait = max(1, math.ceil((attempt.retry_after - current_clock()).total_seconds()))
        return page, status, {"Retry-After": str(wait)}
    session.clear()  # a fresh session: nothing from before the login carries over
    session.permanent = True
    session["admin_id"] = admin.id
    session["admin_key"] = session_key(admin)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    """End the login on the server too: the cookie, and any copy of it, stops working."""
    admin_id = session.get("admin_id")
    if isinstance(admin_id, int):
        end_sessions(db(), admin_id)
    session.clear()
    flash("You are logged out.", "ok")
    return redirect(url_for("staff.login"))


@bp.get("/tokens")
@login_required
def tokens() -> str:
    """Every API token by name, with when it was made and last used; each can be revoked."""
    return render_template("staff/tokens.html", tokens=api_tokens(db()))


@bp.post("/tokens/revoke")
@login_required
def revoke_token() -> Any:
    """Revoke a token by name: integrators using it are refused from now on."""
    name = request.form.get("name", "")
    try:
        revoke_api_token(db(), name, current_clock(), g.actor)
    except LookupError as error:
        db().rollback()
        return missing(f"{str(error).capitalize()}.")
    flash(f"Token {name!r} revoked: requests that bring it are refused from now on.", "ok")
    return redirect(url_for("staff.tokens"))
