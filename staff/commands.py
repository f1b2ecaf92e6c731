"""The operations of contract §6 that make staff access: `create-api-token` and `create-admin`,
with `list-api-tokens` and `revoke-api-token` to see and end them."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.clock import current_clock
from core.db import db
from staff.admins import create_admin
from staff.tokens import api_tokens, issue_api_token, revoke_api_token


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


@click.command("list-api-tokens")
@with_appcontext
def list_api_tokens_command() -> None:
    """List the API tokens by name, with when each was made and last used (never the tokens)."""
    tokens = api_tokens(db())
    if not tokens:
        click.echo("no API tokens")
    for token in tokens:
        used = token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "never"
        click.echo(f"{token.name}\tcreated {token.created_at.isoformat(timespec='minutes')}\tlast used {used}")


@click.command("revoke-api-token")
@click.argument("name")
@with_appcontext
def revoke_api_token_command(name: str) -> None:
    """Revoke the API token called NAME: requests that bring it are refused from now on."""
    try:
        revoke_api_token(db(), name, current_clock(), "cli")
    except LookupError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"API token {name!r} revoked")


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
