"""The line's own command: replaying what was spooled while the database was down."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.db import db
from core.settings import current_settings
from ivr.calls import Line
from ivr.spool import replay_spool


@click.command("replay-spool")
@with_appcontext
def replay_spool_command() -> None:
    """Move voicemails and steps kept while the database was down into the call log."""
    settings = current_settings()
    count = replay_spool(db(), settings.spool_dir, Line.of(settings))
    click.echo(f"replayed {count} spooled entries")
