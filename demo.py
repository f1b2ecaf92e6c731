"""Demo data for `make run`: a small team on a weekly rotation, an override, an admin, and a few
real calls placed through the line itself — loaded only into an empty line.

Like `app.py` it may use every area, and no package imports it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import current_clock
from core.db import db
from core.settings import current_settings
from oncall.models import Contact, Override, Rotation, RotationMember
from people.service import add_organization, add_person
from phonesim import FlaskClientTransport, ScriptedCaller, Voicemail, place_call
from staff.admins import create_admin
from staff.models import AdminUser

DEMO_TEAM = (
    ("Priya Raman", "+14155550101", "priya@example.com"),
    ("Tom Berg", "+14155550102", "tom@example.com"),
    ("Ana Souza", "+14155550103", "ana@example.com"),
    ("Kenji Watanabe", "+14155550104", "kenji@example.com"),
)
DEMO_ADMIN = "admin"
# Who asks for support: a partner, a customer it manages, and a customer of the vendor's own.
DEMO_PARTNER = "Northwind Partners"
DEMO_CUSTOMERS = (("Acme Corp", True), ("Globex", False))  # (name, managed by the partner)
DEMO_PEOPLE = (
    ("Lena Fischer", "lena@acme.example", "+12125550147", "Acme Corp"),
    ("Omar Haddad", "omar@globex.example", "+13125550188", "Globex"),
    ("Sam Okafor", "sam@northwind.example", None, DEMO_PARTNER),
)

# The demo calls: (caller, keys pressed, how the engineers answer).
DEMO_CALLS = (
    ("+12125550147", ["1", "1", "1"], ["accept"]),
    ("+13125550188", ["1", "3", "2", "3125550199#", "1"], ["no-answer", "no-answer", "no-answer"]),
    ("+16175550123", ["1", "4", "1"], ["refuse", "accept"]),
)


def seed_demo(session: Session, now: datetime) -> bool:
    """Add the demo team, a weekly rotation (Mondays 09:00 New York), one override and the demo customers;
    False if not empty."""
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
    seed_customers(session, now)
    return True


def seed_customers(session: Session, now: datetime) -> None:
    """Add the demo partner, its customers and their people, through the same checks an admin's go through."""
    partner = add_organization(session, {"name": DEMO_PARTNER, "kind": "partner"}, now=now, actor="demo")
    organizations = {DEMO_PARTNER: partner}
    for name, managed in DEMO_CUSTOMERS:
        organizations[name] = add_organization(
            session, {"name": name, "kind": "customer", "partner_id": partner.id if managed else None},
            now=now, actor="demo")
    for name, email, phone, organization in DEMO_PEOPLE:
        add_person(session, {"name": name, "email": email, "phone": phone,
                             "organization_id": organizations[organization].id}, region="US", now=now, actor="demo")


def demo_admin_password(session: Session, instance_path: str, now: datetime) -> str | None:
    """The demo admin's password: made once, kept under instance/ so `make run` can show it every time."""
    path = Path(instance_path) / "demo_admin_password"
    exists = session.scalar(select(AdminUser).where(AdminUser.username == DEMO_ADMIN)) is not None
    if exists and not path.exists():
        # Somebody made this admin by hand: never reset a real password from the demo loader.
        return None
    if not exists:
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
        create_admin(session, DEMO_ADMIN, path.read_text(), now)
    return path.read_text()


def place_demo_calls() -> list[str]:
    """Ring the line a few times in-process, as Twilio would, so tickets and the call log have content."""
    settings = current_settings()
    client = current_app.test_client()
    transcripts = []
    for caller, keys, engineers in DEMO_CALLS:
        answers = [*keys, Voicemail("Our nightly export has been failing since the upgrade; please call me back.")]
        record = place_call(
            voice_url="http://127.0.0.1/ivr/voice", status_callback_url="http://127.0.0.1/ivr/status",
            auth_token=settings.twilio_auth_token, transport=FlaskClientTransport(client),
            caller=ScriptedCaller(answers, hang_up_when_done=True), engineers=engineers, from_number=caller,
            to_number=settings.twilio_phone_number or "+18005550199",
        )
        transcripts.append(record.transcript())
    return transcripts


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo team, an admin and a few calls into an empty line (does nothing otherwise)."""
    if seed_demo(db(), current_clock()):
        click.echo("loaded the demo team: " + ", ".join(name for name, _, _ in DEMO_TEAM))
        click.echo("and the demo customers: " + ", ".join(name for name, _ in DEMO_CUSTOMERS) + f", managed by {DEMO_PARTNER}")
        place_demo_calls()
        click.echo(f"placed {len(DEMO_CALLS)} demo calls")
    else:
        click.echo("contacts exist already; demo data not loaded")
    password = demo_admin_password(db(), current_app.instance_path, current_clock())
    if password is None:
        click.echo(f"an admin called {DEMO_ADMIN!r} exists already; its password was left alone")
    else:
        click.echo(f"demo admin login: {DEMO_ADMIN} / {password}")
