"""The operations commands: `doctor`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.clock import current_clock
from core.db import app_engine, db
from core.settings import current_settings
from ivr.number_setup import twilio_client
from ops.doctor import FAIL, Doctor


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check the configuration end to end: database, migrations, Twilio, webhooks, SMTP, IMAP, the worker."""
    settings = current_settings()
    doctor = Doctor(settings, db(), app_engine(current_app), current_clock(),
                    lambda: twilio_client(settings.twilio_account_sid or "", settings.twilio_auth_token))
    checks = doctor.run()
    for check in checks:
        click.echo(check.line())
    failed = [c.name for c in checks if c.outcome == FAIL]
    if failed:
        click.echo(f"{len(failed)} of {len(checks)} checks failed: {', '.join(failed)}")
        raise SystemExit(1)
    click.echo(f"all {len(checks)} checks passed or were skipped as not configured")
