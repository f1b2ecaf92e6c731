"""Who is on duty, answered from the database: loads the rotation in force and the overrides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.models import Contact, Override, Rotation
from oncall.schedule import Duty, Member, OverridePlan, RotationPlan, Shift, on_duty_at


def member_of(contact: Contact) -> Member:
    """The schedule's view of a contact."""
    return Member(contact_id=contact.id, name=contact.name, phone=contact.phone, active=contact.active)


def rotation_in_force(session: Session, at: datetime) -> Rotation | None:
    """The rotation version that applies at `at` (the newest saved no later than `at`)."""
    return session.scalar(
        select(Rotation)
        .where(Rotation.effective_from <= at)
        .order_by(Rotation.effective_from.desc(), Rotation.id.desc())
        .limit(1)
    )


def plan_of(rotation: Rotation) -> RotationPlan:
    """The pure schedule description of a saved rotation version."""
    shift = Shift.from_json({"hours": rotation.shift_hours} if rotation.shift_kind == "hours" else rotation.shift_kind)
    return RotationPlan(
        timezone=rotation.timezone,
        handoff=datetime.fromisoformat(rotation.handoff),
        shift=shift,
        members=tuple(member_of(m.contact) for m in rotation.members),
        backups=rotation.backups,
    )


def overrides_at(session: Session, at: datetime) -> list[OverridePlan]:
    """The overrides in force at `at`."""
    rows = session.scalars(select(Override).where(Override.start <= at, Override.end > at))
    return [OverridePlan(id=o.id, contact=member_of(o.contact), start=o.start, end=o.end) for o in rows]


def duty_at(session: Session, at: datetime) -> Duty:
    """Who is on duty at `at`, who comes after them, and the shift's bounds."""
    rotation = rotation_in_force(session, at)
    return on_duty_at(plan_of(rotation) if rotation else None, overrides_at(session, at), at)
