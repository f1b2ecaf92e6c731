"""Alembic environment: one schema, the metadata of every package's models."""

import os
from logging.config import fileConfig

from alembic import context

import ivr.models  # noqa: F401  (registers the tables on Base.metadata)
import mail.models  # noqa: F401
import oncall.models  # noqa: F401
import people.models  # noqa: F401
import staff.models  # noqa: F401
import tickets.models  # noqa: F401
from core.db import Base, UTCDateTime, engine_for

config = context.config
if config.config_file_name and not config.attributes.get("database_url"):
    fileConfig(config.config_file_name)

database_url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
if not database_url:
    raise SystemExit("Set DATABASE_URL, or run `flask --app app upgrade-db`.")


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations must not import app code that will change: a UTCDateTime column is a
    # plain timezone-aware DateTime in the schema.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    engine = engine_for(database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
