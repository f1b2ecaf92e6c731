"""REST API tokens: issued once, kept as SHA-256 digests, checked on every API request.

A token cannot be read back, only checked. Looking it up by its digest leaks nothing
useful by timing.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import current_clock
from core.db import db
from core.limits import clipped, one_line
from staff.audit import audit
from staff.models import ApiToken
from web.api import json_error

MAX_NAME_LENGTH = 80
MAX_TOKEN_LENGTH = 200
# `last_used_at` is kept to the minute: a token's every request need not be a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(session: Session, name: str, now: datetime, actor: str = "cli") -> str:
    """Create a token named `name` and commit it; returns the token itself, which is not stored.

    Names are unique (ValueError otherwise): a token is listed and revoked by its name.
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or not one_line(name):
        raise ValueError(f"a token needs a one-line name of 1 to {MAX_NAME_LENGTH} characters")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise ValueError(f"there is a token called {name!r} already: revoke it first, or choose another name")
    token = "sl_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=_digest(token), created_at=now))
    audit(session, at=now, actor=actor, action="api_token.created", subject=f"api token {name}", before=None,
          after={"name": name})
    session.commit()
    return token


def api_tokens(session: Session) -> list[ApiToken]:
    """Every token, by name: when it was made and last used (never the token itself)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.name)))


def revoke_api_token(session: Session, name: str, now: datetime, actor: str) -> ApiToken:
    """Revoke the token called `name`: from now on it is refused. LookupError if there is none."""
    token = session.scalar(select(ApiToken).where(ApiToken.name == name.strip()))
    if token is None:
        raise LookupError(f"there is no token called {clipped(name.strip(), 80)!r}")
    session.delete(token)
    audit(session, at=now, actor=actor, action="api_token.revoked", subject=f"api token {token.name}",
          before={"name": token.name, "created_at": token.created_at, "last_used_at": token.last_used_at}, after=None)
    session.commit()
    return token


def authenticate(session: Session, presented: str, now: datetime) -> ApiToken | None:
    """The token matching `presented`, or None; its `last_used_at` is brought up to `now`.

    When the time is a minute or more behind it is committed at once, a unit of work of its
    own before the request's, so it is saved even when the request only reads; otherwise
    nothing is written and the request goes on in the same transaction.
    """
    if not presented or len(presented) > MAX_TOKEN_LENGTH:
        return None
    holder = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(presented)))
    if holder is not None and (holder.last_used_at is None or now - holder.last_used_at >= LAST_USED_PRECISION):
        holder.last_used_at = now
        session.commit()
    return holder


def api_token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse with 401 a request without a valid `Authorization: Bearer <token>`."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return json_error(401, "send Authorization: Bearer <token> (see `flask --app app create-api-token`)")
        holder = authenticate(db(), presented.strip(), current_clock())
        if holder is None:
            return json_error(401, "that API token is not valid")
        g.actor = f"api:{holder.name}"
        return view(*args, **kwargs)

    return checked
