"""Which tickets a person sees on the portal (contract §9), as one SQL condition.

Their own (they asked); those they were copied on (their address on a mail of the ticket); every
ticket of their organisation when they are its organisation admin; and, for a partner's people,
those of the customers the partner manages. Nobody sees any other ticket: to them it does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, false, or_, select
from sqlalchemy.orm import Session, selectinload

from mail.models import InboundMail
from people.models import Organization, Person
from tickets.models import UNRESOLVED, Comment, Ticket
from tickets.records import parse_ticket_number

MY_TICKETS_PAGE = 20


def managed_customers(session: Session, person: Person) -> list[Organization]:
    """The active customers a partner's person may file for (none for a customer's people)."""
    if person.organization is None or person.organization.kind != "partner":
        return []
    return list(session.scalars(select(Organization).where(
        Organization.partner_id == person.organization_id, Organization.kind == "customer", Organization.active)
        .order_by(Organization.name, Organization.id)))


def seen_by(person: Person) -> ColumnElement[bool]:
    """The condition a ticket meets when `person` may see it."""
    conditions: list[ColumnElement[bool]] = [Ticket.requester_id == person.id]
    if person.email:
        conditions.append(Ticket.id.in_(select(InboundMail.ticket_id).where(
            InboundMail.ticket_id.is_not(None), InboundMail.addresses.contains(f"\n{person.email}\n"))))
    organization = person.organization
    if organization is not None and organization.active:
        if person.organization_admin:
            conditions.append(Ticket.organization_id == organization.id)
        if organization.kind == "partner":
            conditions.append(Ticket.organization_id.in_(select(Organization.id).where(
                Organization.partner_id == organization.id, Organization.kind == "customer")))
    return or_(*conditions) if conditions else false()


def my_tickets(session: Session, person: Person, *, status: str | None, page: int) -> tuple[list[Ticket], bool]:
    """A page of the tickets `person` sees: those still with support first, then the newest; and
    whether more follow. `status` keeps one status only."""
    query: Any = select(Ticket).where(seen_by(person))
    if status:
        query = query.where(Ticket.status == status)
    rows = list(session.scalars(
        query.options(selectinload(Ticket.organization), selectinload(Ticket.requester))
        .order_by(case((Ticket.status.in_(UNRESOLVED), 0), else_=1), Ticket.created_at.desc(), Ticket.id.desc())
        .limit(MY_TICKETS_PAGE + 1).offset(MY_TICKETS_PAGE * (page - 1))))
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
