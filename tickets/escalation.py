"""The SLA clock: chase every ticket that has no first response as its deadline nears.

At 50 % and 80 % of the target the engineer on duty and the next one in the escalation
order get a text; at the deadline everyone in the escalation order does. Each kind goes
out once per ticket, however often the clock runs and however many workers run it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.schedule import Duty, Member
from tickets import messages
from tickets.models import Notification, Ticket
from tickets.outbox import enqueue

# (share of the target elapsed, notification kind), in order.
CHECKPOINTS = ((0.5, "sla_50"), (0.8, "sla_80"), (1.0, "sla_breach"))
KINDS = [kind for _, kind in CHECKPOINTS]


def checkpoints_reached(created_at: datetime, due_at: datetime, now: datetime) -> list[str]:
    """The SLA checkpoints a ticket without a first response has reached at `now`.

    Shares are of the real time between creation and deadline, so a low ticket's
    50 % mark falls half-way through its two business days as the clock on the wall runs.
    """
    total = (due_at - created_at).total_seconds()
    elapsed = (now - created_at).total_seconds()
    return [kind for share, kind in CHECKPOINTS if total <= 0 or elapsed >= share * total]


def recipients(kind: str, duty: Duty) -> list[Member]:
    """Who hears of a checkpoint: warnings to the engineer on duty and the next; a breach to everyone."""
    people = ([duty.on_duty] if duty.on_duty else []) + list(duty.escalation)
    chosen = people if kind == "sla_breach" else people[:2]
    return [m for m in chosen if m.phone]


def body_for(kind: str, ticket: Ticket, timezone: str) -> str:
    """The text of an SLA notification."""
    if kind == "sla_breach":
        return messages.sla_breach(ticket.number, ticket.severity, ticket.response_due_at, timezone)
    percent = 50 if kind == "sla_50" else 80
    return messages.sla_warning(ticket.number, ticket.severity, percent, ticket.response_due_at, timezone)


def run_sla_clock(session: Session, now: datetime, duty_at: Callable[[datetime], Duty], timezone: str) -> int:
    """Queue every SLA notification that is due and not yet queued; returns how many were queued."""
    waiting = session.scalars(
        select(Ticket).where(Ticket.first_response_at.is_(None), Ticket.status.not_in(("resolved", "closed")),
                             ~Ticket.id.in_(select(Notification.ticket_id).where(Notification.kind == "sla_breach",
                                                                                Notification.ticket_id.is_not(None))))
    ).all()
    queued = 0
    duty: Duty | None = None
    for ticket in waiting:
        reached = checkpoints_reached(ticket.created_at, ticket.response_due_at, now)
        if not reached:
            continue
        # Only the latest checkpoint: after an outage of the clock, "50 %" is no news once it has breached.
        kind = reached[-1]
        sent_kinds = set(session.scalars(select(Notification.kind).where(Notification.ticket_id == ticket.id)))
        if sent_kinds.intersection(KINDS[KINDS.index(kind):]):
            continue
        duty = duty or duty_at(now)
        for member in recipients(kind, duty):
            if enqueue(session, ticket=ticket, to_number=member.phone, recipient=member.name, kind=kind,
                       body=body_for(kind, ticket, timezone), now=now):
                queued += 1
    session.commit()
    return queued
