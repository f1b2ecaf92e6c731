"""Who may change the line: admins (a password for the web pages), API tokens (for integrators),
and the audit trail of what each of them changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class AdminUser(Base):
    """Somebody who may use the admin pages. Only a werkzeug password hash is kept."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]
    # Part of every login cookie's key: logging out counts it up, which ends the admin's sessions.
    session_epoch: Mapped[int] = mapped_column(default=0)


class LoginFailure(Base):
    """A failed login, by client address and the username tried: what throttling counts.

    Throttling the client, not the account, means nobody can lock an admin out by guessing.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_client_at", "client", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]


class ApiToken(Base):
    """A REST API token. Only its SHA-256 is kept; the token itself is shown once."""

    __tablename__ = "api_tokens"
    # A name says whose token it is, so it is revoked by name: one token per name.
    __table_args__ = (Index("ix_api_tokens_name", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who changed contacts, the rotation or overrides, when, and from what to what."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(120))  # "admin:priya" or "api:deploy-bot"
    action: Mapped[str] = mapped_column(String(40))  # contact.created, rotation.saved, override.deleted…
    subject: Mapped[str] = mapped_column(String(80))  # contact 3, rotation 7, override 12
    before: Mapped[str | None] = mapped_column(Text)  # JSON
    after: Mapped[str | None] = mapped_column(Text)  # JSON
