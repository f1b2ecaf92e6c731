"""Who may change the line: admins (web page, password) and integrators (REST API, bearer token).

Passwords are kept as werkzeug hashes and API tokens as SHA-256 digests: neither can be
read back, only checked. The API's JSON error shape (`{"error": "..."}`) lives here too,
so every package's API answers alike.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Response, g, jsonify, request
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app import current_clock, db, storable
from oncall.models import AdminUser, ApiToken, AuditEntry

# Failed logins in a row before an account is locked for a while (throttling guesses).
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10


class ApiError(Exception):
    """A request the API refuses, with the status and the reason the client sees."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_error(status: int, message: str) -> Response:
    """The API's one error shape: `{"error": "..."}` with a 4xx status."""
    response = jsonify(error=message)
    response.status_code = status
    return response


# ----------------------------------------------------------------------------- API tokens


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(session: Session, name: str, now: datetime) -> str:
    """Create a token named `name`; returns the token itself, which is not stored."""
    name = name.strip()
    if not name or len(name) > 80:
        raise ValueError("a token needs a name of 1 to 80 characters")
    token = "sl_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=_digest(token), created_at=now))
    session.commit()
    return token


def token_holder(session: Session, presented: str, now: datetime) -> ApiToken | None:
    """The token matching `presented`, or None.

    Looked up by its digest: comparing digests of secrets leaks nothing useful by timing.
    """
    if not presented or len(presented) > 200:
        return None
    holder = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(presented)))
    if holder is not None:
        holder.last_used_at = now
    return holder


def api_token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse with 401 a request without a valid `Authorization: Bearer <token>`."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return json_error(401, "send Authorization: Bearer <token> (see `flask --app app create-api-token`)")
        holder = token_holder(db(), presented.strip(), current_clock())
        if holder is None:
            return json_error(401, "that API token is not valid")
        g.actor = f"api:{holder.name}"
        return view(*args, **kwargs)

    return checked


def json_body() -> dict[str, Any]:
    """The request's JSON object, or an ApiError(400) saying what is wrong with it."""
    if not request.data:
        raise ApiError(400, "send a JSON object in the request body")
    try:
        body = json.loads(request.data)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"the body is not valid JSON: {error}") from None
    except RecursionError:
        raise ApiError(400, "the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    where = _unstorable_field(body)
    if where is not None:
        raise ApiError(422, f"{where} must not contain NUL characters or unpaired surrogates")
    return body


def _unstorable_field(value: Any, path: str = "") -> str | None:
    """The first field (as a path like `members[2]`) holding text no database can store, or None."""
    if isinstance(value, str):
        return None if storable(value) else (path or "the body")
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and not storable(key):
            return "a field name"
        found = _unstorable_field(item, f"{path}.{key}" if isinstance(key, str) and path else
                                  str(key) if isinstance(key, str) else f"{path}[{key}]")
        if found is not None:
            return found
    return None


def handle_api_errors(blueprint: Any, *, invalid: tuple[type[Exception], ...] = (),
                      missing: tuple[type[Exception], ...] = ()) -> None:
    """Make errors answer in the API's JSON shape on `blueprint`: `ApiError` with its status,
    the domain's `invalid` errors with 422 and its `missing` errors with 404."""
    from werkzeug.exceptions import HTTPException

    @blueprint.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        db().rollback()
        return json_error(error.status, error.message)

    def _invalid(error: Exception) -> Response:
        db().rollback()
        return json_error(422, str(error))

    def _missing(error: Exception) -> Response:
        return json_error(404, str(error))

    for error_type in invalid:
        blueprint.register_error_handler(error_type, _invalid)
    for error_type in missing:
        blueprint.register_error_handler(error_type, _missing)

    @blueprint.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        return json_error(error.code or 400, error.description or error.name)


# ----------------------------------------------------------------------------- admins


def create_admin(session: Session, username: str, password: str, now: datetime) -> AdminUser:
    """Add an admin (or reset an existing admin's password)."""
    username = username.strip()
    if not username or len(username) > 80:
        raise ValueError("a username has 1 to 80 characters")
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
    """The admin if the password is right and the account is not locked; counts failures."""
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


# ----------------------------------------------------------------------------- audit


def audit(session: Session, *, at: datetime, actor: str, action: str, subject: str,
          before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Record a change to contacts, the rotation or overrides (committed with the change)."""
    session.add(
        AuditEntry(
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            before=json.dumps(before, default=str) if before is not None else None,
            after=json.dumps(after, default=str) if after is not None else None,
        )
    )


def current_actor() -> str:
    """Who is making this request: `admin:<name>`, `api:<token name>` or `cli`."""
    return g.get("actor", "cli")


# ----------------------------------------------------------------------------- commands


@click.command("create-api-token")
@click.argument("name")
@with_appcontext
def create_api_token_command(name: str) -> None:
    """Create a REST API token called NAME; the token is the last line printed."""
    try:
        token = issue_api_token(db(), name, current_clock())
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"API token {name!r} created. It is shown only once:")
    click.echo(token)


@click.command("create-admin")
@click.argument("username")
@click.password_option("--password", envvar="ADMIN_PASSWORD", help="Defaults to $ADMIN_PASSWORD, else asked for.")
@with_appcontext
def create_admin_command(username: str, password: str) -> None:
    """Create an admin USERNAME (or reset the password); the password comes from ADMIN_PASSWORD or a prompt."""
    try:
        create_admin(db(), username, password, current_clock())
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"admin {username!r} can now log in at /admin")
