"""The support number's webhooks in Twilio, set by the line itself (contract §1's table).

`flask --app app twilio-configure` points the number's voice URL, fallback URL, status callback and
SMS URL at `PUBLIC_URL` through `twilio.rest.Client` (IncomingPhoneNumbers); `doctor` reads the same
settings to say whether they point here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# What each of the number's fields must say, as contract §1 lists them: (field, path, method field).
WEBHOOKS = (
    ("voice_url", "/ivr/voice", "voice_method"),
    ("voice_fallback_url", "/ivr/fallback", "voice_fallback_method"),
    ("status_callback", "/ivr/status", "status_callback_method"),
    ("sms_url", "/sms", "sms_method"),
)


class SetupRefused(Exception):
    """The number cannot be set up as asked; the message says what to do."""


@dataclass(frozen=True)
class NumberWebhooks:
    """A Twilio number and what its webhook fields say now."""

    sid: str
    phone_number: str
    fields: dict[str, str]

    def differences(self, wanted: dict[str, str]) -> dict[str, tuple[str, str]]:
        """Each field that is not as `wanted`: (now, wanted)."""
        return {name: (self.fields.get(name, ""), value) for name, value in wanted.items()
                if self.fields.get(name, "") != value}


def wanted_webhooks(public_url: str | None) -> dict[str, str]:
    """Every field as the line wants it under `public_url`, which must be `https://`."""
    if not public_url or not public_url.startswith("https://"):
        raise SetupRefused(f"PUBLIC_URL must be the line's https:// address (Twilio signs and posts to it), not "
                           f"{public_url or 'unset'}: set PUBLIC_URL=https://support.example.com")
    wanted: dict[str, str] = {}
    for field, path, method in WEBHOOKS:
        wanted[field] = f"{public_url.rstrip('/')}{path}"
        wanted[method] = "POST"
    return wanted


def _fields_of(record: Any) -> dict[str, str]:
    names = [name for field, _, method in WEBHOOKS for name in (field, method)]
    return {name: str(getattr(record, name, None) or "") for name in names}


def find_number(client: Any, phone_number: str, account_sid: str) -> NumberWebhooks:
    """The support number on the account, or SetupRefused when the account has no such number."""
    found = client.incoming_phone_numbers.list(phone_number=phone_number, limit=2)
    if not found:
        raise SetupRefused(f"{phone_number} is not a number of Twilio account {account_sid}: check "
                           "TWILIO_PHONE_NUMBER and TWILIO_ACCOUNT_SID (Console → Phone Numbers)")
    record = found[0]
    return NumberWebhooks(record.sid, record.phone_number, _fields_of(record))


def configure_number(client: Any, phone_number: str, account_sid: str, public_url: str | None, *,
                     dry_run: bool) -> tuple[NumberWebhooks, NumberWebhooks]:
    """Point the number's webhooks at `public_url`: the number before and after (the same with
    `dry_run`, or when nothing needed changing: then nothing is written)."""
    wanted = wanted_webhooks(public_url)
    before = find_number(client, phone_number, account_sid)
    changes = before.differences(wanted)
    if dry_run or not changes:
        return before, before
    updated = client.incoming_phone_numbers(before.sid).update(**{name: new for name, (_, new) in changes.items()})
    return before, NumberWebhooks(updated.sid, updated.phone_number, _fields_of(updated))


def twilio_client(account_sid: str, auth_token: str, timeout: float = 10.0) -> Any:
    """Twilio's REST client for the account, with a timeout (a command must not hang on the network)."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    return Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
