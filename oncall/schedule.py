"""Who is on call, and when: the on-call rotation rules as pure functions.

This module knows nothing about Flask, SQLAlchemy or Twilio. Callers build
plain value objects (:class:`RotationPlan`, :class:`OverridePlan`,
:class:`Member`) from whatever storage they use and ask questions about them.

Rotation time
    A rotation has a ``handoff``: the *naive local wall time* at which shift 0
    starts, in the rotation's IANA ``timezone``. Shift ``k`` starts at
    ``handoff + k * shift``. ``k`` may be negative (instants before the first
    handoff belong to earlier shifts).

    * ``"daily"``, ``"weekly"`` and ``{"hours": N}`` with ``24 % N == 0`` count
      in local wall time, so handoffs keep their wall-clock time across DST:
      a daily 08:00 handoff is 08:00 every day, and the shift spanning a DST
      change lasts 23 or 25 hours (167/169 for weekly, 11/13 for a 12-hour
      night shift).
    * ``{"hours": N}`` with ``24 % N != 0`` counts elapsed hours from the
      handoff instant; its handoffs drift across wall-clock time, and every
      shift lasts exactly N hours.

    A wall time that does not exist or occurs twice resolves as RFC 5545 and
    PEP 495 ``fold=0`` do: with the offset in force *before* the change.
    02:30 on a spring-forward day is 03:30 after it; 01:30 on a fall-back day
    is the first 01:30.

    A shift ends where the next one begins; the handoff instant belongs to
    the new shift. A shift is never "start plus a fixed number of seconds".
    If resolving skipped wall times makes a later handoff land no later
    than an earlier one (only possible when a shift is shorter than the
    clock jump, e.g. 1-hour shifts over a spring-forward gap), the
    later handoff wins and the earlier shift is empty.

Who owns a shift
    Shift ``k`` belongs to ``members[k mod n]``. If that member is inactive,
    the next active member after it in duty order (cyclically) covers the
    shift, so nobody else's turns move when someone is deactivated. With no
    active member there is nobody on duty.

Overrides
    An override puts a contact on duty for the half-open interval
    ``[start, end)``, winning over the rotation. When several overlap, the one
    with the latest start wins (ties: higher id). Overrides whose contact is
    inactive, or whose interval is empty, are ignored.

Routing order (escalation)
    First the contact on duty now, then the next ``backups`` distinct active
    members in rotation order after the shift's owner, never repeating the
    contact on duty. While an override is in force, the escalation starts
    with the person the rotation has on duty at that moment, then continues
    in rotation order.

Cost
    Every lookup computes the shift index arithmetically from the local wall
    time and corrects it by converting a handful of candidate handoffs back to
    UTC, so a lookup ten years after the handoff costs what it cost on day
    one. Nothing here depends on the process's local time zone.

All datetimes going in must be aware (any zone) except ``handoff`` and the
argument of :func:`local_to_utc`, which are naive local wall times; every
datetime coming out is aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "InvalidRotation",
    "Shift",
    "Member",
    "RotationPlan",
    "OverridePlan",
    "Duty",
    "ShiftSpan",
    "zone",
    "local_to_utc",
    "shift_bounds",
    "on_duty_at",
    "precedence",
    "shifts_between",
]

_MAX_SHIFT_HOURS = 24 * 28

# Keys that ZoneInfo accepts but that mirror the host's configuration rather
# than naming a place; accepting them would make answers machine-dependent.
_HOST_DEPENDENT_ZONES = frozenset({"localtime", "posixrules"})


class InvalidRotation(ValueError):
    """A rotation, override or argument that cannot be used; the message says why."""


@dataclass(frozen=True)
class Shift:
    """How long one shift lasts: ``daily``, ``weekly`` or a number of hours."""

    kind: str
    hours: int | None = None

    def __post_init__(self) -> None:
        if self.kind in ("daily", "weekly"):
            if self.hours is not None:
                raise InvalidRotation(f"a {self.kind} shift takes no hours")
        elif self.kind == "hours":
            _check_hours(self.hours)
        else:
            raise InvalidRotation(
                f"unknown shift kind {self.kind!r}; use 'daily', 'weekly' or 'hours'"
            )

    @classmethod
    def from_json(cls, value) -> "Shift":
        """Parse ``"daily"``, ``"weekly"`` or ``{"hours": N}``.

        Anything else raises :class:`InvalidRotation`, including dicts with
        other keys and N that is not a whole number of hours from 1 to 672.
        """
        if isinstance(value, str) and value in ("daily", "weekly"):
            return cls(value)
        if isinstance(value, dict) and set(value) == {"hours"}:
            return cls("hours", _check_hours(value["hours"]))
        raise InvalidRotation(
            f'shift must be "daily", "weekly" or {{"hours": N}}, got {value!r}'
        )

    def to_json(self):
        """The JSON value :meth:`from_json` parses back into this shift."""
        if self.kind == "hours":
            return {"hours": self.hours}
        return self.kind

    @property
    def follows_wall_clock(self) -> bool:
        """True when handoffs keep their local wall time across DST changes."""
        return self.kind != "hours" or 24 % self.hours == 0

    @property
    def _step(self) -> timedelta:
        # Wall-clock length for wall-clock shifts, elapsed length otherwise.
        if self.kind == "daily":
            return timedelta(days=1)
        if self.kind == "weekly":
            return timedelta(days=7)
        return timedelta(hours=self.hours)


def _check_hours(hours) -> int:
    # bool is an int subclass; {"hours": true} is a mistake, not one hour.
    if (
        not isinstance(hours, int)
        or isinstance(hours, bool)
        or not 1 <= hours <= _MAX_SHIFT_HOURS
    ):
        raise InvalidRotation(
            f"shift hours must be a whole number from 1 to {_MAX_SHIFT_HOURS}, got {hours!r}"
        )
    return hours


@dataclass(frozen=True)
class Member:
    """A contact in a rotation (or on an override)."""

    contact_id: int
    name: str
    phone: str | None
    active: bool = True
    email: str | None = None  # carried along so answers can show the whole contact


@dataclass(frozen=True)
class RotationPlan:
    """A rotation: who takes turns, from when, and for how long each."""

    timezone: str
    handoff: datetime
    shift: Shift
    members: tuple[Member, ...]
    backups: int = 1

    def __post_init__(self) -> None:
        zone(self.timezone)
        if not isinstance(self.handoff, datetime) or self.handoff.tzinfo is not None:
            raise InvalidRotation(
                "handoff must be a naive datetime: the local wall time in the rotation's time zone"
            )
        if not isinstance(self.shift, Shift):
            raise InvalidRotation(f"shift must be a Shift, got {self.shift!r}")
        # Accept any sequence but store a tuple so the plan stays hashable.
        object.__setattr__(self, "members", tuple(self.members))
        if not all(isinstance(m, Member) for m in self.members):
            raise InvalidRotation("members must all be Member objects")
        if (
            not isinstance(self.backups, int)
            or isinstance(self.backups, bool)
            or self.backups < 0
        ):
            raise InvalidRotation(
                f"backups must be a whole number of at least 0, got {self.backups!r}"
            )


@dataclass(frozen=True)
class OverridePlan:
    """Puts ``contact`` on duty for ``[start, end)``, whatever the rotation says."""

    id: int
    contact: Member
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _as_utc(self.start, "override start")
        _as_utc(self.end, "override end")


@dataclass(frozen=True)
class Duty:
    """The answer to "who do we call at this instant?"."""

    on_duty: Member | None
    escalation: tuple[Member, ...]
    shift_start: datetime | None
    shift_end: datetime | None
    override: bool


@dataclass(frozen=True)
class ShiftSpan:
    """One stretch of an on-call timeline during which the same person is on duty."""

    start: datetime
    end: datetime
    contact: Member | None
    override: bool


def zone(name: str) -> ZoneInfo:
    """Return the IANA time zone called ``name``, or raise :class:`InvalidRotation`."""
    if not isinstance(name, str) or name in _HOST_DEPENDENT_ZONES:
        raise InvalidRotation(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidRotation(f"unknown time zone {name!r}") from None


def local_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """Convert a naive local wall time in ``tz`` to an aware UTC datetime.

    A wall time skipped by a spring-forward change, or repeated by a fall-back
    change, uses the offset in force before the change (PEP 495 ``fold=0``,
    as RFC 5545 prescribes): 02:30 on a spring-forward day is 03:30 after it,
    and 01:30 on a fall-back day is the first 01:30.
    """
    if wall.tzinfo is not None:
        raise InvalidRotation("local_to_utc expects a naive wall time")
    return wall.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)


def shift_bounds(plan: RotationPlan, at: datetime) -> tuple[int, datetime, datetime]:
    """Return ``(k, start, end)`` of the rotation shift in force at ``at``.

    ``start <= at < end``; both are aware UTC and ``end`` is the next shift's
    start. ``k`` is the shift index counted from the handoff (negative before
    it). The members are not consulted.
    """
    at = _as_utc(at, "at")
    tz = zone(plan.timezone)
    step = plan.shift._step
    if not plan.shift.follows_wall_clock:
        first = local_to_utc(plan.handoff, tz)
        k = (at - first) // step
        return k, first + k * step, first + (k + 1) * step
    return _locate_wall_clock_shift(plan.handoff, step, tz, at)


def _locate_wall_clock_shift(
    handoff: datetime, step: timedelta, tz: ZoneInfo, at: datetime
) -> tuple[int, datetime, datetime]:
    """Find the shift in force at ``at`` when handoffs follow wall time.

    The shift in force is the one with the highest index whose handoff has
    happened. Dividing the local wall time of ``at`` by the step gives that
    index on all but a few days a year; near a DST change it can be off by
    one, which the two loops below fix by converting neighbouring handoffs
    back to UTC. The loops run a bounded number of times (the size of the
    clock jump divided by the step), however far ``at`` is from the handoff.
    """
    k = (at.astimezone(tz).replace(tzinfo=None) - handoff) // step
    start = local_to_utc(handoff + k * step, tz)
    # A handoff in a skipped wall time resolves after the jump, possibly
    # after `at`: step back to one that has happened.
    while start > at:
        k -= 1
        start = local_to_utc(handoff + k * step, tz)
    # A fall-back change repeats wall times, so the next handoff(s) may have
    # happened already: step forward to the last one that has.
    while True:
        upcoming = _next_handoffs(handoff, step, tz, k)
        happened = [(j, t) for j, t in upcoming if t <= at]
        if not happened:
            return k, start, min(t for _, t in upcoming)
        k, start = happened[-1]


def _next_handoffs(
    handoff: datetime, step: timedelta, tz: ZoneInfo, k: int
) -> list[tuple[int, datetime]]:
    """UTC starts of shifts ``k+1, k+2, …`` up to the first whose wall time exists.

    Handoffs at wall times that exist only move forward in UTC, but one at a
    skipped wall time resolves after the jump and may come later than the
    handoffs that follow it. Stopping at the first existing wall time is
    therefore enough to find both the earliest upcoming handoff and any that
    has already happened. Normally this is a single handoff.
    """
    found = []
    while True:
        k += 1
        wall = handoff + k * step
        start = local_to_utc(wall, tz)
        found.append((k, start))
        if start.astimezone(tz).replace(tzinfo=None) == wall:
            return found


def on_duty_at(
    plan: RotationPlan | None, overrides: Iterable[OverridePlan] | None, at: datetime
) -> Duty:
    """Who is on duty at ``at``, who to call next, and since/until when.

    An override in force wins over the rotation; ``shift_start`` and
    ``shift_end`` are then the override's bounds. With ``plan`` None only
    overrides count. With nobody on duty, ``on_duty`` is None and the
    escalation is empty; the shift bounds are still given if the rotation
    has members.
    """
    at = _as_utc(at, "at")
    usable = _usable_overrides(overrides)
    winner = _winning_override(usable, at)
    rotation = _rotation_shift(plan, at)
    if winner is not None:
        start, end = _winning_span(usable, winner, at)
        return Duty(
            on_duty=winner.contact,
            escalation=_override_escalation(plan, rotation, winner.contact),
            shift_start=start,
            shift_end=end,
            override=True,
        )
    if rotation is None:
        return Duty(None, (), None, None, False)
    k, start, end = rotation
    owner = k % len(plan.members)
    on_duty = _cover(plan.members, owner)
    return Duty(
        on_duty=on_duty,
        escalation=_escalation(plan, owner, on_duty, lead=None),
        shift_start=start,
        shift_end=end,
        override=False,
    )


def shifts_between(
    plan: RotationPlan | None,
    overrides: Iterable[OverridePlan] | None,
    start: datetime,
    end: datetime,
) -> list[ShiftSpan]:
    """The on-call timeline from ``start`` to ``end``, as contiguous spans.

    Spans cover ``[start, end)`` exactly, in order, clipped to the window.
    Each rotation shift is its own span; an override cuts the shifts it
    overlaps, and the parts of a shift on either side of it are separate
    spans. Stretches where nobody is on duty are spans with contact None.
    Every span agrees with :func:`on_duty_at` at every instant inside it.
    """
    start = _as_utc(start, "start")
    end = _as_utc(end, "end")
    if end < start:
        raise InvalidRotation("the timeline must not end before it starts")
    usable = _usable_overrides(overrides)

    # The answer can only change at an override bound or a handoff, so cut
    # the window there and look up the state of each piece once.
    cuts = {start, end}
    for o in usable:
        for bound in (o.start, o.end):
            if start < bound < end:
                cuts.add(_as_utc(bound, "override bound"))
    shifts = []
    if plan is not None and plan.members and start < end:
        k, shift_start, shift_end = shift_bounds(plan, start)
        shifts.append((k, shift_end))
        while shift_end < end:
            cuts.add(shift_end)
            k, shift_start, shift_end = shift_bounds(plan, shift_end)
            shifts.append((k, shift_end))

    spans: list[ShiftSpan] = []
    last_source = None
    points = sorted(cuts)
    shift_index = 0
    for piece_start, piece_end in zip(points, points[1:]):
        while shifts and shifts[shift_index][1] <= piece_start:
            shift_index += 1
        winner = _winning_override(usable, piece_start)
        if winner is not None:
            source = ("override", winner)
            contact, override = winner.contact, True
        elif shifts:
            k = shifts[shift_index][0]
            source = ("shift", k)
            contact = _cover(plan.members, k % len(plan.members))
            override = False
        else:
            source = ("nobody",)
            contact, override = None, False
        if source == last_source:
            spans[-1] = ShiftSpan(spans[-1].start, piece_end, contact, override)
        else:
            spans.append(ShiftSpan(piece_start, piece_end, contact, override))
        last_source = source
    return spans


def _as_utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidRotation(f"{what} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(timezone.utc)


def _usable_overrides(overrides: Iterable[OverridePlan] | None) -> list[OverridePlan]:
    """Overrides that can ever be in force: active contact, non-empty interval."""
    return [o for o in overrides or () if o.contact.active and o.start < o.end]


class Ranked(Protocol):
    """An override as far as precedence goes: a plan here, or a saved row."""

    id: int
    start: datetime


def precedence(override: Ranked) -> tuple[datetime, int]:
    """Of overrides in force at once, the greatest wins: the one that starts later, then the one
    added later (higher id). A short cover inside a long one so takes its hours."""
    return (override.start, override.id)


def _winning_override(overrides: list[OverridePlan], at: datetime) -> OverridePlan | None:
    in_force = [o for o in overrides if o.start <= at < o.end]
    return max(in_force, key=precedence, default=None)


def _winning_span(overrides: list[OverridePlan], winner: OverridePlan, at: datetime) -> tuple[datetime, datetime]:
    """Around ``at``, the stretch in which ``winner`` is the override in force: its own bounds,
    cut where a later-starting override took over before ``at`` or takes over after it."""
    beating = [o for o in overrides if precedence(o) > precedence(winner) and o.start < winner.end]
    start = max([_as_utc(winner.start, "override start")] + [o.end for o in beating if o.end <= at])
    end = min([_as_utc(winner.end, "override end")] + [o.start for o in beating if o.start > at])
    return start, end


def _rotation_shift(
    plan: RotationPlan | None, at: datetime
) -> tuple[int, datetime, datetime] | None:
    # A rotation with no members has no shifts worth reporting.
    if plan is None or not plan.members:
        return None
    return shift_bounds(plan, at)


def _cover(members: tuple[Member, ...], owner: int) -> Member | None:
    """The member on duty for a shift owned by ``members[owner]``.

    The owner if active, otherwise the next active member after it
    (cyclically), or None when nobody is active.
    """
    n = len(members)
    for offset in range(n):
        member = members[(owner + offset) % n]
        if member.active:
            return member
    return None


def _escalation(
    plan: RotationPlan, owner: int, on_duty: Member | None, lead: Member | None
) -> tuple[Member, ...]:
    """Up to ``plan.backups`` distinct active members to call after ``on_duty``.

    ``lead`` (if any) comes first, then the members in rotation order after
    the shift's owner. The contact on duty is never repeated.
    """
    n = len(plan.members)
    candidates = [lead] + [plan.members[(owner + offset) % n] for offset in range(1, n + 1)]
    seen = {on_duty.contact_id} if on_duty is not None else set()
    chosen = []
    for member in candidates:
        if len(chosen) == plan.backups:
            break
        if member is None or not member.active or member.contact_id in seen:
            continue
        seen.add(member.contact_id)
        chosen.append(member)
    return tuple(chosen)


def _override_escalation(
    plan: RotationPlan | None,
    rotation: tuple[int, datetime, datetime] | None,
    on_duty: Member,
) -> tuple[Member, ...]:
    # Behind an override, the rotation's own person of the moment is the
    # first backup, then the rotation continues in order.
    if rotation is None:
        return ()
    owner = rotation[0] % len(plan.members)
    return _escalation(plan, owner, on_duty, lead=_cover(plan.members, owner))
