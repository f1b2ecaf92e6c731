"""Demo data for `make run`: a small team on a weekly rotation, loaded only into an empty line."""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import current_clock, db
from oncall.models import Contact, Override, Rotation, RotationMember

DEMO_TEAM = (
    ("Priya Raman", "+14155550101", "priya@example.com"),
    ("Tom Berg", "+14155550102", "tom@example.com"),
    ("Ana Souza", "+14155550103", "ana@example.com"),
    ("Kenji Watanabe", "+14155550104", "kenji@example.com"),
)


def seed_demo(session: Session, now: datetime) -> bool:
    """Add the demo team, a weekly rotation (Mondays 09:00 New York) and one override; False if not empty."""
    if session.scalar(select(func.count()).select_from(Contact)):
        return False
    contacts = [Contact(name=n, phone=p, email=e, active=True, created_at=now) for n, p, e in DEMO_TEAM]
    session.add_all(contacts)
    session.flush()
    rotation = Rotation(
        effective_from=now - timedelta(days=365),
        timezone="America/New_York",
        handoff="2026-01-05T09:00",
        shift_kind="weekly",
        backups=2,
        created_at=now,
    )
    rotation.members = [RotationMember(position=i, contact_id=c.id) for i, c in enumerate(contacts)]
    session.add(rotation)
    session.add(Override(contact_id=contacts[3].id, start=now + timedelta(days=2), end=now + timedelta(days=3), created_at=now))
    session.commit()
    return True


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo team into an empty line (does nothing otherwise)."""
    if seed_demo(db(), current_clock()):
        click.echo("loaded the demo team: " + ", ".join(name for name, _, _ in DEMO_TEAM))
    else:
        click.echo("contacts exist already; demo data not loaded")
