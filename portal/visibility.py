"""Which tickets a person sees on the portal (contract §9), as one SQL condition.

Their own (they asked); those they were copied on (their address on a mail of the ticket); every
ticket of their organisation when they are its organisation admin; and, for a partner's people,
those of the customers the partner manages. Nobody sees any other ticket: to them it does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, selectinload

from mail.models import InboundMail
from people.models import Organization, Person
from tickets.models import STATUSES, UNRESOLVED, Comment, Ticket
from tickets.records import parse_ticket_number

MY_TICKETS_PAGE = 20
DONE = tuple(status for status in STATUSES if status not in UNRESOLVED)


def managed_customers(session: Session, person: Person) -> list[Organization]:
    """The active customers a partner's person may file for (none for a customer's people)."""
    if person.organization is None or person.organization.kind != "partner":
        return []
    return list(session.scalars(select(Organization).where(
        Organization.partner_id == person.organization_id, Organization.kind == "customer", Organization.active)
        .order_by(Organization.name, Organization.id)))


def _seen_conditions(person: Person, managed: list[int] | None) -> list[ColumnElement[bool]]:
    """One condition per way `person` may see a ticket; `managed`: the ids of the customers their
    partner manages (None: say it as a subquery)."""
    conditions: list[ColumnElement[bool]] = [Ticket.requester_id == person.id]
    organization = person.organization
    if organization is not None and organization.active:
        if person.organization_admin:
            conditions.append(Ticket.organization_id == organization.id)
        if organization.kind == "partner":
            if managed is None:
                conditions.append(Ticket.organization_id.in_(select(Organization.id).where(
                    Organization.partner_id == organization.id, Organization.kind == "customer")))
            else:
                conditions.extend(Ticket.organization_id == customer for customer in managed)
    if person.email:
        conditions.append(Ticket.id.in_(select(InboundMail.ticket_id).where(
            InboundMail.ticket_id.is_not(None), InboundMail.addresses.contains(f"\n{person.email}\n"))))
    return conditions


def seen_by(person: Person) -> ColumnElement[bool]:
    """The condition a ticket meets when `person` may see it."""
    return or_(*_seen_conditions(person, None))


def _newest_ids(session: Session, conditions: list[ColumnElement[bool]], statuses: Sequence[str], *, offset: int,
                limit: int) -> list[int]:
    """The ids of the newest tickets that meet any of `conditions` and have one of `statuses`.

    Each condition and status is its own branch, newest first and cut at `offset + limit`, so each
    walks its own index ((requester_id, status, created_at), (organization_id, status, created_at))
    for as many rows as the page needs, however many tickets the line or the organisation has; the
    union then orders the few it got. One statement.
    """
    branches = [select(Ticket.id, Ticket.created_at).where(condition, Ticket.status == status)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(offset + limit).subquery()
                for condition in conditions for status in statuses]
    union = select(branches[0]).union(*(select(b) for b in branches[1:])).subquery()
    return list(session.scalars(select(union.c.id).order_by(union.c.created_at.desc(), union.c.id.desc())
                                .offset(offset).limit(limit)))


def my_tickets(session: Session, person: Person, *, status: str | None, page: int) -> tuple[list[Ticket], bool]:
    """A page of the tickets `person` sees: those still with support first, then the newest; and
    whether more follow. `status` keeps one status only."""
    managed = [customer.id for customer in managed_customers(session, person)]
    conditions = _seen_conditions(person, managed)
    wanted, offset = MY_TICKETS_PAGE + 1, MY_TICKETS_PAGE * (page - 1)
    if status:
        ids = _newest_ids(session, conditions, [status], offset=offset, limit=wanted)
    else:
        waiting = _newest_ids(session, conditions, UNRESOLVED, offset=0, limit=offset + wanted)
        # Fewer than asked for means these are all of them: the rest start where they end.
        on_page = waiting[offset:]
        rest = _newest_ids(session, conditions, DONE, offset=max(0, offset - len(waiting)),
                           limit=max(1, wanted - len(on_page)))
        ids = (on_page + rest)[:wanted]
    found = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)).options(
        selectinload(Ticket.organization), selectinload(Ticket.requester)))}
    rows = [found[i] for i in ids if i in found]
    return rows[:MY_TICKETS_PAGE], len(rows) > MY_TICKETS_PAGE


def ticket_seen_by(session: Session, person: Person, number: Any, *, for_update: bool = False) -> Ticket | None:
    """The ticket with this number if `person` may see it, with its conversation; None otherwise
    (another's ticket and one that does not exist look the same)."""
    parsed = parse_ticket_number(number)
    if parsed is None:
        return None
    query = (select(Ticket).where(Ticket.number == parsed, seen_by(person))
             .options(selectinload(Ticket.comments).selectinload(Comment.attachments),
                      selectinload(Ticket.organization), selectinload(Ticket.requester)))
    if for_update:
        query = query.with_for_update(of=Ticket).execution_options(populate_existing=True)
    return session.scalar(query)
