"""The settings of contract §5: read once, checked, normalised, never a built-in secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from core.settings import Settings, SettingsError


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(env, str(tmp_path))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SUPPORT_TIMEZONE", "Mars/Olympus", "Mars/Olympus"),
        ("SUPPORT_HOLIDAYS", "XX", "XX"),
        ("PHONE_REGION", "ZZ", "PHONE_REGION"),
        ("FALLBACK_NUMBER", "12", "FALLBACK_NUMBER"),
        ("TRUSTED_PROXIES", "two", "TRUSTED_PROXIES"),
        ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES"),
        ("PUBLIC_URL", "support.example.com", "PUBLIC_URL"),
    ],
)
def test_a_bad_setting_stops_the_line_with_a_message_naming_it(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings(tmp_path, **{name: value})


def test_settings_are_normalised(tmp_path: Path) -> None:
    s = settings(tmp_path, FALLBACK_NUMBER="(415) 555-0999", SUPPORT_HOLIDAYS="us", PHONE_REGION="us",
                 PUBLIC_URL="https://support.example.com/", TRUSTED_PROXIES="2")
    assert s.fallback_number == "+14155550999"
    assert s.support_holidays == "US" and s.phone_region == "US"
    assert s.public_url == "https://support.example.com" and s.trusted_proxies == 2


def test_defaults_use_sqlite_under_instance_and_local_secrets_never_a_built_in_one(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        first = settings(tmp_path)
    again = settings(tmp_path)
    other = settings(tmp_path / "elsewhere")
    assert first.database_url == f"sqlite:///{tmp_path / 'supportline.sqlite3'}"
    assert first.support_timezone == "UTC" and first.phone_region == "US" and first.trusted_proxies == 0
    assert first.twilio_auth_token == again.twilio_auth_token != other.twilio_auth_token
    assert len(first.secret_key) >= 32 and first.secret_key != other.secret_key
    assert "TWILIO_AUTH_TOKEN is not set" in caplog.text
