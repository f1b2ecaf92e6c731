"""Who is on duty, answered from the database, and the changes admins and integrators make:
contacts, rotation versions and overrides, each checked, audited and committed here."""

from __future__ import annotations

import secrets
from functools import partial
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, select, true
from sqlalchemy.orm import Session

from core.limits import EARLIEST_YEAR, LATEST_YEAR, MAX_ROW_ID, Refusal, checked_name, clipped, storable
from staff.audit import audit
from oncall.models import CalendarFeed, Contact, Override, Rotation, RotationMember
from core.phones import checked_phone, to_e164
from oncall.schedule import (
    Duty,
    InvalidRotation,
    Member,
    OverridePlan,
    RotationPlan,
    Shift,
    ShiftSpan,
    on_duty_at,
    precedence,
    shift_bounds,
    shifts_between,
    zone,
)

MAX_BACKUPS = 10
HANDOFF_FORMAT = "%Y-%m-%dT%H:%M"


class InvalidChange(Refusal):
    """A change to contacts, the rotation or an override that cannot be saved."""


class ChangeConflict(InvalidChange):
    """A change the thing's state does not allow (an override that has ended, say)."""


class NotFound(LookupError):
    """No such contact or override."""


# ----------------------------------------------------------------------------- reading


def member_of(contact: Contact) -> Member:
    """The schedule's view of a contact."""
    return Member(contact_id=contact.id, name=contact.name, phone=contact.phone, active=contact.active,
                  email=contact.email)


_ROTATIONS = Rotation.__table__


def _in_force_at(*what: Any) -> Select[Any]:
    """`what` of the rotation version that applies at the bound `at`: the newest saved no later than it."""
    return (
        select(*what)
        .where(_ROTATIONS.c.effective_from <= bindparam("at"))
        .order_by(_ROTATIONS.c.effective_from.desc(), _ROTATIONS.c.id.desc())
        .limit(1)
    )


_ROTATION_IN_FORCE = _in_force_at(Rotation)


def rotation_in_force(session: Session, at: datetime) -> Rotation | None:
    """The rotation version that applies at `at` (the newest saved no later than `at`)."""
    return session.scalar(_ROTATION_IN_FORCE, {"at": at})


def plan_of(rotation: Rotation) -> RotationPlan:
    """The pure schedule description of a saved rotation version."""
    return _plan(rotation, tuple(member_of(m.contact) for m in rotation.members))


def _plan(rotation: Any, members: tuple[Member, ...]) -> RotationPlan:
    shift = Shift.from_json({"hours": rotation.shift_hours} if rotation.shift_kind == "hours" else rotation.shift_kind)
    return RotationPlan(
        timezone=rotation.timezone,
        handoff=datetime.strptime(rotation.handoff, HANDOFF_FORMAT),
        shift=shift,
        members=members,
        backups=rotation.backups,
    )


def _override_plans(rows: Any) -> list[OverridePlan]:
    return [OverridePlan(id=o.id, contact=member_of(o.contact), start=o.start, end=o.end) for o in rows]


# Who is on duty is asked while a caller waits for a ticket number: two Core statements, built once.
_CONTACT_COLUMNS = (Contact.id.label("contact_id"), Contact.name, Contact.phone, Contact.active, Contact.email)
_IN_FORCE = _in_force_at(
    _ROTATIONS,
    select(_ROTATIONS.c.effective_from)
    .where(_ROTATIONS.c.effective_from > bindparam("at"))
    .order_by(_ROTATIONS.c.effective_from)
    .limit(1)
    .scalar_subquery()
    .label("next_start"),
).subquery("in_force")
# The rotation in force with its members in order, one row each (one row of NULL members if it has none).
_ROTATION_AT = (
    select(_IN_FORCE, *_CONTACT_COLUMNS)
    .select_from(_IN_FORCE)
    .outerjoin(RotationMember, RotationMember.rotation_id == _IN_FORCE.c.id)
    .outerjoin(Contact, Contact.id == RotationMember.contact_id)
    .order_by(RotationMember.position)
)
_OVERRIDES_BETWEEN = (
    select(Override.id, Override.start, Override.end, *_CONTACT_COLUMNS)
    .join_from(Override, Contact, Override.contact_id == Contact.id)
    .where(Override.end > bindparam("start"), Override.start <= bindparam("end"))
)


def _member(row: Any) -> Member:
    return Member(contact_id=row.contact_id, name=row.name, phone=row.phone, active=row.active, email=row.email)


def duty_at(session: Session, at: datetime) -> Duty:
    """Who is on duty at `at`, who comes after them, and the shift's bounds.

    A rotation shift is cut where a saved change took effect (before or after it),
    because the version on either side decides who is on duty there.
    """
    session.flush()  # the Core statements below must see changes made in this transaction
    connection = session.connection()
    rows = connection.execute(_ROTATION_AT, {"at": at}).all()
    rotation = rows[0] if rows else None
    plan = None
    if rotation is not None:
        plan = _plan(rotation, tuple(_member(row) for row in rows if row.contact_id is not None))
    # One read of the overrides serves both questions below: those in force at `at`, and
    # those that cut the rotation's shift around it.
    shift = on_duty_at(plan, (), at)
    window = (min(shift.shift_start or at, at), max(shift.shift_end or at, at))
    overrides = _overrides_between(connection, *window)
    duty = on_duty_at(plan, overrides, at)
    if duty.override and duty.shift_start and duty.shift_end and (
            duty.shift_start < window[0] or duty.shift_end > window[1]):
        # An override reaching past the rotation's shift: read what else overlaps it, so that a
        # later-starting override cuts its stretch there too.
        duty = on_duty_at(plan, _overrides_between(connection, duty.shift_start, duty.shift_end), at)
    if duty.override or rotation is None or duty.shift_start is None:
        return duty
    # The stretch this person is on duty is also cut by overrides before and after `at`,
    # so the answer matches the timeline and the calendar feed.
    start, end = max(duty.shift_start, rotation.effective_from), duty.shift_end
    if rotation.next_start is not None:
        end = min(end, rotation.next_start)
    nearby = [o for o in overrides if o.start < end and o.end > start]
    for override in nearby:
        if not override.contact.active:
            continue
        if override.start > at:
            end = min(end, override.start)
        elif override.end <= at:
            start = max(start, override.end)
    return replace(duty, shift_start=start, shift_end=end)


# How far `duty_outlook` looks either way for a change of person: a little first (most
# rotations hand over within a day or two), more only when the same person stays on.
OUTLOOK_REACH = (timedelta(days=2), timedelta(days=16), timedelta(days=70))


@dataclass(frozen=True)
class Outlook:
    """What the pages, the `ONCALL` text and `GET /api/oncall` say about an instant.

    `duty` is the router's answer (`duty_at`): who is rung, in which order, and whether an
    override put them there; its `shift_start` and `shift_end` are the stretch this person is
    on duty, from the last change of person to the next, whatever causes it (a handoff, an
    override, a saved change); None where no change lies within reach. `next` is who takes
    over at `shift_end`, always a different person (None: nobody), until `next_until`.
    """

    duty: Duty
    next: Member | None = None
    next_override: bool = False
    next_until: datetime | None = None


def _person(member: Member | None) -> int | None:
    return member.contact_id if member is not None else None


def _stretches(spans: list[ShiftSpan]) -> list[ShiftSpan]:
    """The timeline with neighbouring spans of one person joined: one stretch per change of person."""
    joined: list[ShiftSpan] = []
    for span in spans:
        if joined and _person(joined[-1].contact) == _person(span.contact) and joined[-1].end == span.start:
            joined[-1] = replace(joined[-1], end=span.end)
        else:
            joined.append(span)
    return joined


def duty_outlook(session: Session, at: datetime) -> Outlook:
    """Who is on duty at `at` (the router's `duty_at`), since and until when, and who comes next."""
    duty = duty_at(session, at)
    outlook = Outlook(replace(duty, shift_start=None, shift_end=None))
    for reach in OUTLOOK_REACH:
        stretches = _stretches(timeline(session, at - reach, at + reach))
        here = next((i for i, s in enumerate(stretches) if s.start <= at < s.end), None)
        if here is None:
            break
        # The first and last stretches are cut by the window: their far ends are not changes.
        since = stretches[here].start if here > 0 else None
        coming = stretches[here + 1] if here + 1 < len(stretches) else None
        outlook = Outlook(replace(duty, shift_start=since, shift_end=coming.start if coming else None),
                          next=coming.contact if coming else None, next_override=bool(coming and coming.override),
                          next_until=coming.end if here + 2 < len(stretches) else None)
        if since is not None and outlook.next_until is not None:
            break
    return outlook


def _overrides_between(connection: Any, start: datetime, end: datetime) -> list[OverridePlan]:
    return [OverridePlan(id=row.id, contact=_member(row), start=row.start, end=row.end)
            for row in connection.execute(_OVERRIDES_BETWEEN, {"start": start, "end": end})]


def coverage_warnings(session: Session, now: datetime, fallback_number: str | None, region: str) -> list[str]:
    """Where coverage breaks now: an empty rotation, nobody active, unusable phones, no fallback."""
    warnings = []
    rotation = rotation_in_force(session, now)
    contacts = [m.contact for m in rotation.members] if rotation else []
    if not contacts:
        warnings.append("The rotation is empty: no engineer is rung when a customer calls.")
    elif not any(c.active for c in contacts):
        warnings.append("Every member of the rotation is inactive: no engineer is rung when a customer calls.")
    for contact in contacts:
        if contact.active and to_e164(contact.phone, region) is None:
            warnings.append(f"{contact.name} has no valid phone number ({contact.phone!r}): the line cannot ring them.")
    for override in session.scalars(select(Override).where(Override.end > now).order_by(Override.start)):
        if not override.contact.active:
            warnings.append(f"The override for {override.contact.name} is ignored: they are inactive.")
    if fallback_number is None:
        warnings.append(
            "No fallback number is set (FALLBACK_NUMBER): when nobody on the rotation answers, "
            "callers can only leave a voicemail."
        )
    return warnings


def timeline(session: Session, start: datetime, end: datetime) -> list[ShiftSpan]:
    """Who is on duty from `start` to `end`: whole shifts, cut by overrides and by saved changes."""
    in_force = rotation_in_force(session, start)
    later = session.scalars(
        select(Rotation).where(Rotation.effective_from > start, Rotation.effective_from < end).order_by(Rotation.effective_from, Rotation.id)
    ).all()
    overrides = _override_plans(session.scalars(select(Override).where(Override.start < end, Override.end > start)))
    versions: list[tuple[datetime, Rotation | None]] = [(start, in_force)] + [(r.effective_from, r) for r in later]
    spans: list[ShiftSpan] = []
    for i, (window_start, rotation) in enumerate(versions):
        window_end = versions[i + 1][0] if i + 1 < len(versions) else end
        if window_start < window_end:
            spans += shifts_between(plan_of(rotation) if rotation else None, overrides, window_start, window_end)
    return spans


def whole_shifts(session: Session, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """`start` and `end` moved out to the shift bounds around them, so a timeline between them
    begins and ends with whole shifts (not before the version in force at `start` took effect)."""
    first = rotation_in_force(session, start)
    if first is not None and first.members:
        start = max(shift_bounds(plan_of(first), start)[1], first.effective_from)
    last = rotation_in_force(session, end)
    if last is not None and last.members:
        _, shift_start, shift_end = shift_bounds(plan_of(last), end)
        if shift_start < end:
            end = shift_end
    return start, end


# ----------------------------------------------------------------------------- contacts


def contact_json(contact: Contact) -> dict[str, Any]:
    """A contact as the API and the audit trail show it."""
    return {"id": contact.id, "name": contact.name, "phone": contact.phone, "email": contact.email, "active": contact.active}


def _checked_name(value: Any) -> str:
    return checked_name(value, 120, partial(InvalidChange, field="name"))


def _checked_id(value: Any, what: str) -> int:
    """A row id given in a request: a whole number the schema can hold."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ROW_ID:
        raise InvalidChange(f"{what} must be a contact's id", what)
    return value


def _checked_email(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if (not isinstance(value, str) or len(value) > 254 or "@" not in value.strip(" @") or " " in value.strip()
            or not storable(value)):
        raise InvalidChange(f"email {value!r} is not an email address", "email")
    return value.strip()


def _checked_active(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidChange("active must be true or false")
    return value


def get_contact(session: Session, contact_id: int) -> Contact:
    """The contact, or NotFound."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"there is no contact {contact_id}")
    return contact


def _check_phone_is_theirs(session: Session, contact: Contact) -> None:
    """Refuse a second active contact with one phone number: a text from it names one sender."""
    if not contact.active:
        return
    with session.no_autoflush:
        holder = session.scalar(select(Contact).where(Contact.phone == contact.phone, Contact.active,
                                                      Contact.id != contact.id if contact.id else true()))
    if holder is not None:
        raise InvalidChange(f"phone {contact.phone} is already {holder.name}'s (contact {holder.id}): two active "
                            "contacts cannot share a number, or a text from it would be credited to the wrong one", "phone")


def add_contact(session: Session, fields: dict[str, Any], *, region: str, now: datetime, actor: str) -> Contact:
    """Add a contact from `name`, `phone`, optional `email` and `active` (default true)."""
    unknown = set(fields) - {"name", "phone", "email", "active"}
    if unknown:
        raise InvalidChange(f"unknown fields: {', '.join(sorted(unknown))}")
    contact = Contact(
        name=_checked_name(fields.get("name")),
        phone=checked_phone("phone", fields.get("phone"), region, partial(InvalidChange, field="phone")),
        email=_checked_email(fields.get("email")),
        active=_checked_active(fields.get("active", True)),
        created_at=now,
    )
    _check_phone_is_theirs(session, contact)
    session.add(contact)
    session.flush()
    # The contact's calendar feed is made with them, so reading them never has to write.
    session.add(CalendarFeed(secret=secrets.token_urlsafe(24), contact_id=contact.id, created_at=now))
    audit(session, at=now, actor=actor, action="contact.created", subject=f"contact {contact.id}",
          before=None, after=contact_json(contact))
    session.commit()
    return contact


def update_contact(session: Session, contact_id: int, fields: dict[str, Any], *, region: str, now: datetime,
                   actor: str) -> Contact:
    """Change some of a contact's `name`, `phone`, `email`, `active`."""
    contact = get_contact(session, contact_id)
    unknown = set(fields) - {"name", "phone", "email", "active"}
    if unknown:
        raise InvalidChange(f"unknown or read-only fields: {', '.join(sorted(unknown))}")
    before = contact_json(contact)
    if "name" in fields:
        contact.name = _checked_name(fields["name"])
    if "phone" in fields:
        contact.phone = checked_phone("phone", fields["phone"], region, partial(InvalidChange, field="phone"))
    if "email" in fields:
        contact.email = _checked_email(fields["email"])
    if "active" in fields:
        contact.active = _checked_active(fields["active"])
    if contact.phone != before["phone"] or (contact.active and not before["active"]):
        _check_phone_is_theirs(session, contact)
    after = contact_json(contact)
    if after != before:
        audit(session, at=now, actor=actor, action="contact.updated", subject=f"contact {contact.id}",
              before=before, after=after)
    session.commit()
    return contact


# ----------------------------------------------------------------------------- the rotation


def rotation_json(rotation: Rotation | None) -> dict[str, Any]:
    """A rotation version as the API and the audit trail show it."""
    if rotation is None:
        return {"timezone": None, "handoff": None, "shift": None, "members": [], "backups": 0, "effective_from": None}
    return {
        "timezone": rotation.timezone,
        "handoff": rotation.handoff,
        "shift": {"hours": rotation.shift_hours} if rotation.shift_kind == "hours" else rotation.shift_kind,
        "members": [m.contact_id for m in rotation.members],
        "backups": rotation.backups,
        "effective_from": rotation.effective_from.isoformat(),
    }


def save_rotation(session: Session, fields: dict[str, Any], *, now: datetime, actor: str) -> Rotation:
    """Save a new rotation version from `timezone`, `handoff`, `shift`, `members`, `backups`.

    It applies from `effective_from` (default: now; never in the past), so who was on
    duty before stays as it was. The person on duty keeps the current shift unless the
    change removes them: they get an override until the shift they were serving ends.
    """
    unknown = set(fields) - {"timezone", "handoff", "shift", "members", "backups", "effective_from", "calendar_url"}
    if unknown:
        raise InvalidChange(f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        tz = fields.get("timezone")
        if not isinstance(tz, str):
            raise InvalidChange("timezone must be an IANA time zone name such as America/New_York", "timezone")
        zone(tz)
    except InvalidRotation as error:
        raise InvalidChange(str(error), "timezone") from None
    try:
        shift = Shift.from_json(fields.get("shift"))
    except InvalidRotation as error:
        raise InvalidChange(str(error), "shift") from None
    handoff = fields.get("handoff")
    try:
        if not isinstance(handoff, str) or len(handoff) != 16:
            raise ValueError
        if not EARLIEST_YEAR <= datetime.strptime(handoff, HANDOFF_FORMAT).year <= LATEST_YEAR:
            raise ValueError
    except ValueError:
        raise InvalidChange(f"handoff {handoff!r} must be a local wall time written YYYY-MM-DDTHH:MM", "handoff") from None
    members = fields.get("members")
    if not isinstance(members, list) or not all(isinstance(m, int) and not isinstance(m, bool) for m in members):
        raise InvalidChange("members must be a list of contact ids in duty order", "members")
    if len(set(members)) != len(members):
        raise InvalidChange("a contact can be in the rotation only once", "members")
    for contact_id in members:
        if not 0 < contact_id <= MAX_ROW_ID or session.get(Contact, contact_id) is None:
            raise InvalidChange(f"there is no contact {contact_id}", "members")
    backups = fields.get("backups", 1)
    if not isinstance(backups, int) or isinstance(backups, bool) or not 0 <= backups <= MAX_BACKUPS:
        raise InvalidChange(f"backups must be a whole number from 0 to {MAX_BACKUPS}", "backups")
    asked = parse_instant(fields["effective_from"], "effective_from") if fields.get("effective_from") else now
    effective_from = to_the_second(asked, up=True)  # from the next whole second: nobody's past shift changes
    if effective_from < now:
        raise InvalidChange("a rotation change cannot take effect in the past", "effective_from")

    before_rotation = rotation_in_force(session, effective_from)
    before = duty_at(session, effective_from)
    rotation = Rotation(
        effective_from=effective_from,
        timezone=tz,
        handoff=handoff,
        shift_kind=shift.kind,
        shift_hours=shift.hours if shift.kind == "hours" else None,
        backups=backups,
        created_at=now,
    )
    rotation.members = [RotationMember(position=i, contact_id=c) for i, c in enumerate(members)]
    session.add(rotation)
    session.flush()
    audit(session, at=now, actor=actor, action="rotation.saved", subject=f"rotation {rotation.id}",
          before=rotation_json(before_rotation) if before_rotation else None, after=rotation_json(rotation))

    kept = before.on_duty
    if _keeps_the_shift(before, members, effective_from) and kept is not None and before.shift_end is not None:
        after = on_duty_at(plan_of(rotation), [], effective_from)
        if after.on_duty is None or after.on_duty.contact_id != kept.contact_id:
            override = Override(contact_id=kept.contact_id, start=effective_from, end=before.shift_end, created_at=now)
            session.add(override)
            session.flush()
            audit(session, at=now, actor=actor, action="override.created", subject=f"override {override.id}",
                  before=None, after={**override_json(override), "why": "keeps the current shift after a rotation change"})
    session.commit()
    return rotation


def _keeps_the_shift(before: Duty, members: list[int], at: datetime) -> bool:
    """Whether the person on duty by the rotation at `at` keeps their shift through a change made
    then: they do if a shift of theirs is in progress (not starting at `at`, as at a handoff) and
    the change does not remove them. An override on duty is not the rotation's to change."""
    return (before.on_duty is not None and not before.override and before.on_duty.contact_id in members
            and before.shift_start is not None and before.shift_start < at)


def _draft_plan(fields: dict[str, Any], contacts: dict[int, Contact]) -> RotationPlan:
    try:
        return RotationPlan(
            timezone=fields["timezone"],
            handoff=datetime.strptime(fields["handoff"], HANDOFF_FORMAT),
            shift=Shift.from_json(fields["shift"]),
            members=tuple(member_of(contacts[c]) for c in fields["members"]),
            backups=fields.get("backups", 1),
        )
    except (InvalidRotation, KeyError, ValueError, TypeError) as error:
        raise InvalidChange(f"cannot preview this rotation: {error}") from None


def preview(fields: dict[str, Any], contacts: dict[int, Contact], start: datetime, end: datetime) -> list[ShiftSpan]:
    """The shifts a rotation would give from `start` to `end`, before it is saved."""
    return shifts_between(_draft_plan(fields, contacts), [], start, end)


@dataclass(frozen=True)
class Handover:
    """What saving a rotation would do at the instant it takes effect: who is on duty then before
    and after the save, and whether the rotation would leave nobody on duty once overrides end."""

    at: datetime
    before: Member | None
    after: Member | None
    nobody_on_rotation: bool

    @property
    def changes_person(self) -> bool:
        return _person(self.before) != _person(self.after)


def rotation_handover(session: Session, fields: dict[str, Any], contacts: dict[int, Contact],
                      now: datetime) -> Handover:
    """What `save_rotation(fields)` would do to who is on duty, without saving anything."""
    plan = _draft_plan(fields, contacts)
    asked = parse_instant(fields["effective_from"], "effective_from") if fields.get("effective_from") else now
    at = to_the_second(asked, up=True)
    before = duty_at(session, at)
    if _keeps_the_shift(before, list(fields["members"]), at):
        after = before.on_duty
    else:
        after = on_duty_at(plan, _overrides_between(session.connection(), at, at + timedelta(seconds=1)), at).on_duty
    return Handover(at, before.on_duty, after, not any(m.active for m in plan.members))


def next_handoff(session: Session, now: datetime) -> datetime | None:
    """When the rotation in force next hands over (the end of the shift in progress), if it has members."""
    rotation = rotation_in_force(session, now)
    if rotation is None or not rotation.members:
        return None
    return shift_bounds(plan_of(rotation), now)[2]


# ----------------------------------------------------------------------------- overrides


def override_json(override: Override) -> dict[str, Any]:
    """An override as the API and the audit trail show it."""
    return {"id": override.id, "contact_id": override.contact_id, "start": override.start.isoformat(),
            "end": override.end.isoformat()}


def to_the_second(instant: datetime, *, up: bool = False) -> datetime:
    """`instant` on a whole second (`up`: the next one, unless it is on one already).

    Schedule instants are stored and stated to the second, as the calendar feeds state them
    (RFC 5545 has no fractions), so every instant the API or a feed gives round-trips: a
    `shift_end` given back as `at` lands in the next shift.
    """
    whole = instant.replace(microsecond=0)
    return whole + timedelta(seconds=1) if up and whole != instant else whole


def parse_instant(value: Any, name: str) -> datetime:
    """An ISO 8601 time with a UTC offset; InvalidChange otherwise."""
    if not isinstance(value, str):
        raise InvalidChange(f"{name} must be an ISO 8601 time with a UTC offset, like 2026-11-26T09:00:00-05:00", name)
    shown = clipped(value, 40)
    try:
        instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidChange(f"{name} {shown!r} is not an ISO 8601 time", name) from None
    if instant.tzinfo is None:
        raise InvalidChange(f"{name} {shown!r} needs a UTC offset (Z or +HH:MM)", name)
    if not EARLIEST_YEAR < instant.year < LATEST_YEAR:
        raise InvalidChange(f"{name} {shown!r} is not between {EARLIEST_YEAR} and {LATEST_YEAR}", name)
    return instant.astimezone(timezone.utc)


@dataclass(frozen=True)
class Overlap:
    """Another override in force for part of this one's time, and which of the two puts its contact on duty there."""

    other: Override
    start: datetime
    end: datetime
    this_wins: bool
    why: str


def overlaps(session: Session, shown: Sequence[Override]) -> dict[int, list[Overlap]]:
    """For each override shown, the others it overlaps (active contacts only, as the router counts them).

    Where two are in force, `oncall.schedule.precedence` says which wins.
    """
    if not shown:
        return {}
    first, last = min(o.start for o in shown), max(o.end for o in shown)
    nearby = session.scalars(select(Override).where(Override.start < last, Override.end > first)).all()
    found: dict[int, list[Overlap]] = {}
    for override in shown:
        for other in nearby:
            if other.id == override.id or not (other.start < override.end and override.start < other.end):
                continue
            if not (override.contact.active and other.contact.active):
                continue
            found.setdefault(override.id, []).append(Overlap(
                other, max(override.start, other.start), min(override.end, other.end),
                this_wins=precedence(override) > precedence(other),
                why="it starts later" if override.start != other.start else "it was added later"))
    return found


def add_override(session: Session, fields: dict[str, Any], *, now: datetime, actor: str) -> Override:
    """Put `contact_id` on duty from `start` to `end`."""
    unknown = set(fields) - {"contact_id", "start", "end"}
    if unknown:
        raise InvalidChange(f"unknown fields: {', '.join(sorted(unknown))}")
    contact_id = _checked_id(fields.get("contact_id"), "contact_id")
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise InvalidChange(f"there is no contact {contact_id}", "contact_id")
    if not contact.active:
        raise InvalidChange(f"{contact.name} is inactive; activate them before they cover a shift", "contact_id")
    start = to_the_second(parse_instant(fields.get("start"), "start"))
    end = to_the_second(parse_instant(fields.get("end"), "end"), up=True)  # covers at least what was asked
    if end <= now:
        raise InvalidChange("the end is in the past: an override must end after now", "end")
    if end <= start:
        raise InvalidChange("the end must be after the start", "end")
    override = Override(contact_id=contact_id, start=start, end=end, created_at=now)
    session.add(override)
    session.flush()
    audit(session, at=now, actor=actor, action="override.created", subject=f"override {override.id}",
          before=None, after=override_json(override))
    session.commit()
    return override


def _override(session: Session, override_id: int) -> Override:
    override = session.get(Override, override_id)
    if override is None:
        raise NotFound(f"there is no override {override_id}")
    return override


def delete_override(session: Session, override_id: int, *, now: datetime, actor: str) -> None:
    """Remove an override that has not started. One that has covered time is history: end it instead."""
    override = _override(session, override_id)
    if override.start < now:
        raise ChangeConflict(f"{override.contact.name}'s override has started; end it now instead, "
                             "so the hours it covered stay on record")
    audit(session, at=now, actor=actor, action="override.deleted", subject=f"override {override.id}",
          before=override_json(override), after=None)
    session.delete(override)
    session.commit()


def end_override(session: Session, override_id: int, *, now: datetime, actor: str) -> Override:
    """End an override in progress now: the record stays, the rotation decides from the next second."""
    override = _override(session, override_id)
    if override.start >= now:
        raise ChangeConflict(f"{override.contact.name}'s override has not started; remove it instead")
    if override.end <= now:
        raise ChangeConflict(f"{override.contact.name}'s override has already ended")
    before = override_json(override)
    override.end = to_the_second(now, up=True)
    audit(session, at=now, actor=actor, action="override.ended", subject=f"override {override.id}",
          before=before, after=override_json(override))
    session.commit()
    return override


def withdraw_override(session: Session, override_id: int, *, now: datetime, actor: str) -> None:
    """What `DELETE /api/overrides/<id>` does: remove an override that has not started, end one in
    progress now; one that has ended is history and stays (ChangeConflict)."""
    if _override(session, override_id).start >= now:
        delete_override(session, override_id, now=now, actor=actor)
    else:
        end_override(session, override_id, now=now, actor=actor)


def change_override(session: Session, override_id: int, fields: dict[str, Any], *, now: datetime,
                    actor: str) -> Override:
    """Move an override's start (only before it starts) or end (never into the past)."""
    override = _override(session, override_id)
    if override.end <= now:
        raise ChangeConflict(f"{override.contact.name}'s override has ended; its hours are history")
    before = override_json(override)
    start = to_the_second(parse_instant(fields["start"], "start")) if fields.get("start") else override.start
    end = to_the_second(parse_instant(fields["end"], "end"), up=True) if fields.get("end") else override.end
    if start != override.start:
        if override.start < now:
            raise ChangeConflict("the override has started, so its start is history; change its end")
        if start < to_the_second(now):
            raise InvalidChange("the new start is in the past; the earliest is now", "start")
    if end <= now:
        raise InvalidChange("the new end is in the past; to stop the cover now, end it now", "end")
    if end <= start:
        raise InvalidChange("the end must be after the start", "end")
    override.start, override.end = start, end
    audit(session, at=now, actor=actor, action="override.changed", subject=f"override {override.id}",
          before=before, after=override_json(override))
    session.commit()
    return override


# ----------------------------------------------------------------------------- calendar feeds


def feed_secret(session: Session, contact_id: int | None, now: datetime) -> str:
    """The secret of the whole rotation's iCal feed (contact None) or a contact's own.

    A feed that does not exist yet (the rotation's, or a contact's from before feeds were
    made with their contact) is made and committed here: the one write a read of the
    rotation or the contacts makes, on purpose, so every feed URL handed out keeps working.
    """
    feed = session.scalar(
        select(CalendarFeed).where(CalendarFeed.contact_id.is_(None) if contact_id is None else CalendarFeed.contact_id == contact_id)
    )
    if feed is None:
        feed = CalendarFeed(secret=secrets.token_urlsafe(24), contact_id=contact_id, created_at=now)
        session.add(feed)
        session.commit()
    return feed.secret


def feed_secrets(session: Session, contact_ids: list[int], now: datetime) -> dict[int, str]:
    """The feed secrets of several contacts in one query; like `feed_secret`, it makes and commits
    those that do not exist yet, on purpose."""
    found = dict(session.execute(
        select(CalendarFeed.contact_id, CalendarFeed.secret).where(CalendarFeed.contact_id.in_(contact_ids))
    ).all())
    missing = [c for c in contact_ids if c not in found]
    for contact_id in missing:
        found[contact_id] = secrets.token_urlsafe(24)
        session.add(CalendarFeed(secret=found[contact_id], contact_id=contact_id, created_at=now))
    if missing:
        session.commit()
    return found


def rotate_feed_secret(session: Session, contact_id: int | None, *, now: datetime, actor: str) -> str:
    """Give the rotation's feed (contact None) or a contact's a new secret: a link that leaked
    stops working at once, and the new one is returned. Audited, without either secret."""
    subject = "the rotation's calendar feed"
    if contact_id is not None:
        subject = f"contact {get_contact(session, contact_id).id}'s calendar feed"
    feed = session.scalar(select(CalendarFeed).where(
        CalendarFeed.contact_id.is_(None) if contact_id is None else CalendarFeed.contact_id == contact_id))
    if feed is None:
        feed = CalendarFeed(contact_id=contact_id)
        session.add(feed)
    feed.secret, feed.created_at = secrets.token_urlsafe(24), now
    audit(session, at=now, actor=actor, action="feed.rotated", subject=subject, before=None,
          after={"contact_id": contact_id})
    session.commit()
    return feed.secret


def feed_by_secret(session: Session, secret: str) -> CalendarFeed | None:
    """The feed a secret opens, or None."""
    if not secret or len(secret) > 64:
        return None
    return session.scalar(select(CalendarFeed).where(CalendarFeed.secret == secret))

