"""The line's own commands: replaying what was spooled while the database was down, and pointing the
support number's webhooks at the line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.db import db
from core.settings import current_settings
from ivr.calls import Line
from ivr.number_setup import WEBHOOKS, SetupRefused, configure_number, twilio_client, wanted_webhooks
from ivr.spool import replay_spool


@click.command("replay-spool")
@with_appcontext
def replay_spool_command() -> None:
    """Move voicemails and steps kept while the database was down into the call log."""
    settings = current_settings()
    count = replay_spool(db(), settings.spool_dir, Line.of(settings))
    click.echo(f"replayed {count} spooled entries")


def _require_twilio_account() -> tuple[str, str, str]:
    settings = current_settings()
    missing = [name for name, absent in (("TWILIO_ACCOUNT_SID", not settings.twilio_account_sid),
                                         ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token_is_local),
                                         ("TWILIO_PHONE_NUMBER", not settings.twilio_phone_number)) if absent]
    if missing:
        raise click.ClickException(f"set {', '.join(missing)}: the line needs the account and its support number")
    return settings.twilio_account_sid or "", settings.twilio_auth_token, settings.twilio_phone_number or ""


@click.command("twilio-configure")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@with_appcontext
def twilio_configure_command(dry_run: bool) -> None:
    """Point the support number's voice, fallback, status and SMS webhooks at PUBLIC_URL."""
    from requests.exceptions import RequestException
    from twilio.base.exceptions import TwilioException, TwilioRestException

    account, token, number = _require_twilio_account()
    try:
        wanted = wanted_webhooks(current_settings().public_url)
        before, after = configure_number(twilio_client(account, token), number, account,
                                         current_settings().public_url, dry_run=dry_run)
    except SetupRefused as error:
        raise click.ClickException(str(error)) from None
    except TwilioRestException as error:
        raise click.ClickException(f"Twilio answered {error.status}: {error.msg}") from None
    except TwilioException as error:  # a page Twilio refused: its status and body are in the message
        raise click.ClickException(f"Twilio refused: {error} (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)") from None
    except RequestException as error:
        raise click.ClickException(f"Twilio could not be reached: {error}") from None
    click.echo(f"{before.phone_number} ({before.sid})")
    changes = before.differences(wanted)
    for field, _, method in WEBHOOKS:
        for name in (field, method):
            old, new = before.fields.get(name, ""), (after.fields if not dry_run else wanted).get(name, "")
            mark = "  " if name not in changes else ("~ " if dry_run else "* ")
            click.echo(f"{mark}{name}: {old or '(empty)'}" + (f" -> {new}" if name in changes else ""))
    if not changes:
        click.echo("every webhook already points here; nothing changed")
    elif dry_run:
        click.echo(f"dry run: {len(changes)} fields would change; nothing was sent")
    else:
        click.echo(f"changed {len(changes)} fields")
