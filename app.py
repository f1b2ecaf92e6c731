"""The support line's application factory: it assembles, and nothing imports it.

`flask --app app ...` and the Procfile's `gunicorn 'app:create_app()'` both start here.
`create_app` reads the settings once, binds the database, the clock and the settings to the
app (`core`), registers each area's blueprints and the command-line operations. What the
areas share lives in `core/`, `web/` and `staff/`; README's "How the code is laid out" has
the arrows between them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

import core.clock
import core.db
import core.logs
import core.settings
import ivr.api
import ivr.pages
import ivr.sms
import ivr.webhooks
import oncall.pages
import oncall.api
import oncall.calendar
import oncall.openapi
import people.api
import ops.metrics
import people.pages
import portal.pages
import staff.pages
import tickets.api
import tickets.pages
import tickets.report_pages
import web.api
import web.home
import web.headers
import web.health
import web.pages
import web.throttle
from web.sessions import AreaSessions
from core.clock import Clock, utc_now
from core.db import upgrade_schema
from core.settings import Settings, SettingsError, current_settings
from demo import seed_demo_command
from ivr.commands import replay_spool_command, twilio_configure_command
from ivr.terminal import call_command, text_command
from mail.commands import mail_command, refile_mail_command, send_mail_command
from oncall.commands import rotate_feed_secret_command
from ops.commands import doctor_command
from staff.commands import (
    create_admin_command,
    create_api_token_command,
    list_api_tokens_command,
    revoke_api_token_command,
)
from tickets.worker import worker_command

# Twilio signs its webhooks and the API takes bearer tokens; forms on pages carry CSRF tokens.
BAD_SETTINGS = 3  # gunicorn's "worker failed to boot": the master stops too
SIGNED_OR_TOKEN_BLUEPRINTS = (ivr.webhooks.bp, ivr.sms.bp, oncall.api.bp, people.api.bp, tickets.api.bp, ivr.api.bp,
                              oncall.calendar.bp)
PAGE_BLUEPRINTS = (web.home.bp, web.health.bp, staff.pages.bp, oncall.pages.bp, people.pages.bp, tickets.pages.bp,
                   tickets.report_pages.bp, ivr.pages.bp,
                   portal.pages.bp)
COMMANDS = (seed_demo_command, replay_spool_command, create_api_token_command, list_api_tokens_command,
            revoke_api_token_command, rotate_feed_secret_command, create_admin_command, call_command, text_command, worker_command,
            mail_command, refile_mail_command, send_mail_command, twilio_configure_command, doctor_command)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the support line.

    `config` may hold `ENV` (a mapping used instead of `os.environ`), `CLOCK` (a
    callable returning aware UTC now), `INSTANCE_PATH`, `TESTING`, and any Flask setting.
    """
    config = dict(config or {})
    core.logs.init_logging()
    app = Flask(__name__, instance_path=config.pop("INSTANCE_PATH", None))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    env = config.pop("ENV", os.environ)
    clock: Clock = config.pop("CLOCK", utc_now)

    try:
        settings = Settings.from_env(env, app.instance_path)
    except SettingsError as error:
        # One line naming the variable, not a traceback; exit status 3 is what makes gunicorn
        # stop instead of booting the same broken web process again and again.
        print(f"The support line cannot start: {error}", file=sys.stderr)
        raise SystemExit(BAD_SETTINGS) from None
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure cookies whenever the line is served over HTTPS (PUBLIC_URL says so).
        SESSION_COOKIE_SECURE=settings.served_over_https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # Nothing the line receives is bigger: Twilio's webhooks, API bodies and forms are small.
        MAX_CONTENT_LENGTH=1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config)
    app.session_interface = AreaSessions()
    core.settings.init_app(app, settings)
    core.clock.init_app(app, clock)
    core.db.init_app(app, settings.database_url)

    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]

    portal.pages.init_app(app)  # before CSRF protection reads a form: the portal's may bring files
    web.throttle.init_app(app)
    ops.metrics.init_app(app, webhooks=(ivr.webhooks.bp, ivr.sms.bp))
    csrf = CSRFProtect(app)
    csrf.exempt(ops.metrics.bp)
    for blueprint in SIGNED_OR_TOKEN_BLUEPRINTS:
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    web.pages.init_app(app, home_zone=oncall.pages.rotation_zone_name)
    for blueprint in PAGE_BLUEPRINTS:
        app.register_blueprint(blueprint)
    web.api.init_app(app, query_parameters=oncall.openapi.query_parameters())
    web.headers.init_app(app, https=settings.served_over_https)

    app.cli.add_command(upgrade_db_command)
    for command in COMMANDS:
        app.cli.add_command(command)
    return app


@click.command("upgrade-db")
@with_appcontext
def upgrade_db_command() -> None:
    """Create or upgrade the database schema (the Procfile's release step)."""
    upgrade_schema(current_settings().database_url)
    click.echo("schema is up to date")
