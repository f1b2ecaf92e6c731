"""The settings of contract §5, read from the environment once, when the app is made.

Everything else asks the app for them (`current_settings()`), never `os.environ`.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
from flask import Flask, current_app

from core.calendar import BusinessCalendar, business_calendar
from core.phones import to_e164

log = logging.getLogger("supportline")

_EXTENSION = "supportline.settings"


# What one message may bring in attachments, unless MAIL_MAX_MESSAGE_BYTES says otherwise.
DEFAULT_MAIL_MAX_MESSAGE_BYTES = 10_000_000
# A resolved ticket nobody answers is closed after this many days (AUTO_CLOSE_DAYS).
DEFAULT_AUTO_CLOSE_DAYS = 7


class SettingsError(ValueError):
    """A setting has a value the line cannot work with; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    """Every setting of contract §5, parsed and checked once at start."""

    database_url: str
    twilio_account_sid: str | None
    twilio_auth_token: str
    twilio_auth_token_is_local: bool  # the development token under instance/, not Twilio's
    twilio_phone_number: str | None
    support_timezone: str
    support_holidays: str | None
    phone_region: str
    fallback_number: str | None
    trusted_proxies: int
    public_url: str | None
    secret_key: str
    instance_path: str
    mail_from: str | None = None
    mail_smtp_url: str | None = None
    mail_imap_url: str | None = None
    mail_smtp_listen: tuple[str, int] | None = None
    mail_max_message_bytes: int = DEFAULT_MAIL_MAX_MESSAGE_BYTES
    auto_close_days: int = DEFAULT_AUTO_CLOSE_DAYS
    metrics_token: str | None = None

    @property
    def spool_dir(self) -> Path:
        """Where voicemails wait while the database is unreachable."""
        return Path(self.instance_path) / "spool"

    @property
    def served_over_https(self) -> bool:
        """Whether the line's public URL is HTTPS: cookies are then Secure and browsers told to stay on it."""
        return bool(self.public_url and self.public_url.startswith("https://"))

    @property
    def calendar(self) -> BusinessCalendar:
        """The support calendar: `SUPPORT_TIMEZONE` and the business days `SUPPORT_HOLIDAYS` leaves."""
        return business_calendar(self.support_timezone, self.support_holidays)

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str) -> Settings:
        """Read the settings from `env`, filling the local-development defaults."""

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        region = (get("PHONE_REGION") or "US").upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise SettingsError(f"PHONE_REGION={region!r} is not a region phonenumbers knows")
        support_timezone = get("SUPPORT_TIMEZONE") or "UTC"
        holidays_code = get("SUPPORT_HOLIDAYS")
        try:
            business_calendar(support_timezone, holidays_code.upper() if holidays_code else None)
        except ValueError as error:
            raise SettingsError(str(error)) from error

        fallback = get("FALLBACK_NUMBER")
        if fallback is not None:
            normalised = to_e164(fallback, region)
            if normalised is None:
                raise SettingsError(f"FALLBACK_NUMBER={fallback!r} is not a valid phone number")
            fallback = normalised

        try:
            trusted_proxies = int(get("TRUSTED_PROXIES") or "0")
        except ValueError:
            raise SettingsError("TRUSTED_PROXIES must be a whole number of proxy hops") from None
        if trusted_proxies < 0:
            raise SettingsError("TRUSTED_PROXIES must not be negative")

        public_url = get("PUBLIC_URL")
        if public_url and not public_url.startswith(("http://", "https://")):
            raise SettingsError("PUBLIC_URL must start with http:// or https://")

        mail_from = get("MAIL_FROM")
        if mail_from is not None and ("@" not in mail_from or any(ch.isspace() for ch in mail_from)):
            raise SettingsError(f"MAIL_FROM={mail_from!r} is not an e-mail address (support@example.com)")
        mail_smtp_url = get("MAIL_SMTP_URL")
        if mail_smtp_url is not None and not mail_smtp_url.startswith(("smtp://", "smtps://")):
            raise SettingsError("MAIL_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://…")
        mail_imap_url = get("MAIL_IMAP_URL")
        if mail_imap_url is not None and not mail_imap_url.startswith(("imap://", "imaps://")):
            raise SettingsError("MAIL_IMAP_URL must be imap[s]://user:password@host[:port]/Folder")
        listen = get("MAIL_SMTP_LISTEN")
        mail_smtp_listen = None
        if listen is not None:
            host, _, port = listen.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise SettingsError(f"MAIL_SMTP_LISTEN={listen!r} must be HOST:PORT, like 127.0.0.1:2525")
            mail_smtp_listen = (host.strip("[]"), int(port))
        try:
            mail_max = int(get("MAIL_MAX_MESSAGE_BYTES") or DEFAULT_MAIL_MAX_MESSAGE_BYTES)
        except ValueError:
            raise SettingsError("MAIL_MAX_MESSAGE_BYTES must be a whole number of bytes") from None
        if mail_max < 1:
            raise SettingsError("MAIL_MAX_MESSAGE_BYTES must be at least 1")
        auto_close = get("AUTO_CLOSE_DAYS") or str(DEFAULT_AUTO_CLOSE_DAYS)
        if not auto_close.isdigit() or not 1 <= int(auto_close) <= 365:
            raise SettingsError(f"AUTO_CLOSE_DAYS={auto_close!r} must be a whole number of days from 1 to 365")

        return cls(
            database_url=get("DATABASE_URL")
            or f"sqlite:///{Path(instance_path) / 'supportline.sqlite3'}",
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN")
            or _local_secret(instance_path, "twilio_auth_token", "TWILIO_AUTH_TOKEN"),
            twilio_auth_token_is_local=get("TWILIO_AUTH_TOKEN") is None,
            twilio_phone_number=get("TWILIO_PHONE_NUMBER"),
            support_timezone=support_timezone,
            support_holidays=holidays_code.upper() if holidays_code else None,
            phone_region=region,
            fallback_number=fallback,
            trusted_proxies=trusted_proxies,
            public_url=public_url.rstrip("/") if public_url else None,
            secret_key=get("SECRET_KEY") or _local_secret(instance_path, "secret_key", "SECRET_KEY"),
            instance_path=instance_path,
            mail_from=mail_from.lower() if mail_from else None,
            mail_smtp_url=mail_smtp_url,
            mail_imap_url=mail_imap_url,
            mail_smtp_listen=mail_smtp_listen,
            mail_max_message_bytes=mail_max,
            auto_close_days=int(auto_close),
            metrics_token=get("METRICS_TOKEN"),
        )


def _local_secret(instance_path: str, name: str, variable: str) -> str:
    """A random secret kept under instance/ for local development, never a built-in default.

    Without TWILIO_AUTH_TOKEN the line still checks every signature, against this
    local token, which the terminal phone reads too; real Twilio requests will then be
    refused, which is the safe way to fail.
    """
    path = Path(instance_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Exclusive create: several web processes starting at once agree on one value.
        with open(path, "x", opener=lambda p, flags: os.open(p, flags, 0o600)) as file:
            file.write(secrets.token_hex(32))
    except FileExistsError:
        # Said once, when the value was made; every command after would only repeat it.
        log.info("%s is not set: using the local development value in %s", variable, path)
    else:
        log.warning("%s is not set: made a local development value in %s", variable, path)
    return path.read_text().strip()


def init_app(app: Flask, settings: Settings) -> None:
    """Make `settings` the app's settings."""
    app.extensions[_EXTENSION] = settings


def current_settings() -> Settings:
    """The settings of the running app."""
    return current_app.extensions[_EXTENSION]


def app_settings(app: Flask) -> Settings:
    """The settings of `app`, outside a request (tests, the bench, gunicorn's hooks)."""
    return app.extensions[_EXTENSION]
