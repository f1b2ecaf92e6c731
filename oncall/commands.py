"""The rotation's own command: a new secret for a calendar feed whose link leaked."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.clock import current_clock
from core.db import db
from core.settings import current_settings
from oncall.service import NotFound, rotate_feed_secret


@click.command("rotate-feed-secret")
@click.option("--contact", "contact_id", type=int, default=None, help="A contact's feed; without it, the rotation's.")
@with_appcontext
def rotate_feed_secret_command(contact_id: int | None) -> None:
    """Give a calendar feed a new secret; the old link stops working. Prints the new link."""
    try:
        secret = rotate_feed_secret(db(), contact_id, now=current_clock(), actor="cli")
    except NotFound as error:
        raise click.UsageError(str(error)) from None
    # No request to build the URL from: the app's URL map, bound to no host, gives the path.
    path = current_app.url_map.bind("").build("oncall_feeds.calendar", {"secret": secret})
    click.echo(f"{current_settings().public_url or ''}{path}")
