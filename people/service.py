"""Organisations and people: each change checked, audited and committed here (contract §8).

Admins make them on the pages, integrators through the API; both call these functions with
the fields as given, the time and who acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.limits import MAX_ROW_ID, Refusal, checked_name, clipped, storable
from core.phones import checked_phone
from people.models import ORGANIZATION_KINDS, Organization, Person
from staff.audit import audit

MAX_ORGANIZATION_NAME = 200
MAX_PERSON_NAME = 120
MAX_EMAIL = 254
ORGANIZATION_FIELDS = frozenset({"name", "kind", "partner_id", "active"})
PERSON_FIELDS = frozenset({"name", "email", "phone", "organization_id", "organization_admin", "active"})


class InvalidAccountChange(Refusal):
    """A change to an organisation or a person that cannot be saved."""


class AccountConflict(InvalidAccountChange):
    """A change the organisation's state does not allow (a partner that still manages customers, say)."""


class AccountNotFound(LookupError):
    """No such organisation or person."""


# ----------------------------------------------------------------------------- how they are shown


def organization_json(organization: Organization) -> dict[str, Any]:
    """An organisation as the API and the audit trail show it."""
    return {"id": organization.id, "name": organization.name, "kind": organization.kind,
            "partner_id": organization.partner_id, "active": organization.active}


def person_json(person: Person) -> dict[str, Any]:
    """A person as the API and the audit trail show them."""
    return {"id": person.id, "name": person.name, "email": person.email, "phone": person.phone,
            "organization_id": person.organization_id, "organization_admin": person.organization_admin,
            "active": person.active}


# ----------------------------------------------------------------------------- checking fields


def _checked_name(value: Any, longest: int) -> str:
    return checked_name(value, longest, partial(InvalidAccountChange, field="name"))


def _checked_active(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidAccountChange("active must be true or false", "active")
    return value


def _checked_flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidAccountChange(f"{field} must be true or false", field)
    return value


def _checked_kind(value: Any) -> str:
    if value not in ORGANIZATION_KINDS:
        raise InvalidAccountChange(f"kind must be one of {', '.join(ORGANIZATION_KINDS)}", "kind")
    return value


def _checked_id(value: Any, field: str) -> int | None:
    """A row id given in a request, or None for null (and, from a form, empty)."""
    if value is None or value == "":
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ROW_ID:
        raise InvalidAccountChange(f"{field} must be an organisation's id or null", field)
    return value


def checked_email(value: Any) -> str | None:
    """An address as stored (in lower case: no mail system tells Ana@ from ana@), None for none, or a refusal."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_EMAIL or not storable(value):
        raise InvalidAccountChange(f"email must be an e-mail address of at most {MAX_EMAIL} characters", "email")
    try:
        # Syntax only: saving a person never waits on DNS, and a new domain may have no MX yet.
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidAccountChange(f"email {clipped(value.strip(), 60)!r} is not an e-mail address: {error}",
                                   "email") from None


def _checked_phone(value: Any, region: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return checked_phone("phone", value, region, partial(InvalidAccountChange, field="phone"))


def _refuse_unknown(fields: dict[str, Any], known: frozenset[str]) -> None:
    unknown = set(fields) - known
    if unknown:
        raise InvalidAccountChange(f"unknown fields: {', '.join(sorted(unknown))}")


# ----------------------------------------------------------------------------- organisations


def get_organization(session: Session, organization_id: int) -> Organization:
    """The organisation, or AccountNotFound."""
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise AccountNotFound(f"there is no organization {organization_id}")
    return organization


def active_partners(session: Session) -> list[Organization]:
    """The partners a customer can be managed by, by name."""
    return list(session.scalars(select(Organization).where(Organization.kind == "partner", Organization.active)
                                .order_by(Organization.name, Organization.id)))


def _check_partner(session: Session, organization: Organization) -> None:
    if organization.partner_id is None:
        return
    if organization.kind != "customer":
        raise InvalidAccountChange("only a customer can be managed by a partner; a partner has no partner_id",
                                   "partner_id")
    partner = session.get(Organization, organization.partner_id)
    if partner is None or partner.id == organization.id:
        raise InvalidAccountChange(f"there is no partner organization {organization.partner_id}", "partner_id")
    if partner.kind != "partner":
        raise InvalidAccountChange(f"{partner.name} is a customer, not a partner", "partner_id")
    if not partner.active:
        raise InvalidAccountChange(f"{partner.name} is inactive; activate it before it manages a customer",
                                   "partner_id")


def _check_name_is_theirs(session: Session, organization: Organization) -> None:
    """Refuse two active organisations of one name: a person choosing theirs could not tell them apart."""
    if not organization.active:
        return
    with session.no_autoflush:
        holder = session.scalar(select(Organization).where(
            func.lower(Organization.name) == organization.name.lower(), Organization.active,
            Organization.id != (organization.id or 0)))
    if holder is not None:
        raise InvalidAccountChange(f"there is an active organization called {holder.name} already "
                                   f"(organization {holder.id})", "name")


def add_organization(session: Session, fields: dict[str, Any], *, now: datetime, actor: str) -> Organization:
    """Add an organisation from `name`, `kind`, optional `partner_id` and `active` (default true)."""
    _refuse_unknown(fields, ORGANIZATION_FIELDS)
    organization = Organization(
        name=_checked_name(fields.get("name"), MAX_ORGANIZATION_NAME),
        kind=_checked_kind(fields.get("kind")),
        partner_id=_checked_id(fields.get("partner_id"), "partner_id"),
        active=_checked_active(fields.get("active", True)),
        created_at=now,
    )
    _check_partner(session, organization)
    _check_name_is_theirs(session, organization)
    session.add(organization)
    session.flush()
    audit(session, at=now, actor=actor, action="organization.created", subject=f"organization {organization.id}",
          before=None, after=organization_json(organization))
    session.commit()
    return organization


def update_organization(session: Session, organization_id: int, fields: dict[str, Any], *, now: datetime,
                        actor: str) -> Organization:
    """Change some of an organisation's `name`, `kind`, `partner_id`, `active`."""
    organization = get_organization(session, organization_id)
    _refuse_unknown(fields, ORGANIZATION_FIELDS)
    before = organization_json(organization)
    if "name" in fields:
        organization.name = _checked_name(fields["name"], MAX_ORGANIZATION_NAME)
    if "kind" in fields:
        organization.kind = _checked_kind(fields["kind"])
    if "partner_id" in fields:
        organization.partner_id = _checked_id(fields["partner_id"], "partner_id")
    if "active" in fields:
        organization.active = _checked_active(fields["active"])
    if before["kind"] == "partner" and organization.kind != "partner":
        with session.no_autoflush:
            managed = session.scalar(select(func.count()).select_from(Organization)
                                     .where(Organization.partner_id == organization.id))
        if managed:
            raise AccountConflict(f"{organization.name} manages {managed} customer"
                                  f"{'' if managed == 1 else 's'}; give them another partner first", "kind")
    with session.no_autoflush:
        if organization.partner_id != before["partner_id"] or organization.kind != before["kind"]:
            _check_partner(session, organization)
        if organization.name != before["name"] or (organization.active and not before["active"]):
            _check_name_is_theirs(session, organization)
    after = organization_json(organization)
    if after != before:
        audit(session, at=now, actor=actor, action="organization.updated", subject=f"organization {organization.id}",
              before=before, after=after)
    session.commit()
    return organization


# ----------------------------------------------------------------------------- people


def get_person(session: Session, person_id: int) -> Person:
    """The person, or AccountNotFound."""
    person = session.get(Person, person_id)
    if person is None:
        raise AccountNotFound(f"there is no person {person_id}")
    return person


@dataclass(frozen=True)
class KnownCaller:
    """An active person whose phone rang the line, as the greeting names them."""

    person_id: int
    name: str
    organization: str | None

    @property
    def greeting_name(self) -> str:
        """Whom the line thanks for calling: their organisation, or them when they have none."""
        return self.organization or self.name


_PEOPLE = Person.__table__
_ORGANIZATIONS = Organization.__table__
# Built once: the phone line's first webhook runs it while the caller hears silence.
_CALLER = (
    select(_PEOPLE.c.id, _PEOPLE.c.name, _ORGANIZATIONS.c.name)
    .select_from(_PEOPLE.outerjoin(_ORGANIZATIONS, _ORGANIZATIONS.c.id == _PEOPLE.c.organization_id))
    .where(_PEOPLE.c.active)
)
_CALLER_BY_PHONE = _CALLER.where(_PEOPLE.c.phone == bindparam("phone"))
_CALLER_BY_ID = _CALLER.where(_PEOPLE.c.id == bindparam("person_id"))


def known_caller(session: Session, *, phone: str | None = None, person_id: int | None = None) -> KnownCaller | None:
    """The active person with this phone (E.164) or id, and their organisation's name: one indexed statement."""
    statement, params = (_CALLER_BY_PHONE, {"phone": phone}) if person_id is None else (_CALLER_BY_ID,
                                                                                       {"person_id": person_id})
    row = session.connection().execute(statement, params).first()
    return None if row is None else KnownCaller(row[0], row[1], row[2])


def _check_organization(session: Session, person: Person) -> None:
    if person.organization_id is None:
        return
    organization = session.get(Organization, person.organization_id)
    if organization is None:
        raise InvalidAccountChange(f"there is no organization {person.organization_id}", "organization_id")
    if not organization.active and person.active:
        raise InvalidAccountChange(f"{organization.name} is inactive; activate it before adding people to it",
                                   "organization_id")


def _check_reachable_and_theirs(session: Session, person: Person) -> None:
    """A person has an address or a number, and no other active person has the same one."""
    if person.email is None and person.phone is None:
        raise InvalidAccountChange("give an e-mail address or a phone number: the line knows a person by one",
                                   "email")
    if not person.active:
        return
    others = select(Person).where(Person.active, Person.id != (person.id or 0))
    with session.no_autoflush:
        if person.email is not None:
            holder = session.scalar(others.where(Person.email == person.email))
            if holder is not None:
                raise InvalidAccountChange(f"{person.email} is already {holder.name}'s (person {holder.id}): two "
                                           "active people cannot share an address, or mail from it would be filed "
                                           "for the wrong one", "email")
        if person.phone is not None:
            holder = session.scalar(others.where(Person.phone == person.phone))
            if holder is not None:
                raise InvalidAccountChange(f"phone {person.phone} is already {holder.name}'s (person {holder.id}): "
                                           "two active people cannot share a number, or a call from it would be "
                                           "credited to the wrong one", "phone")


def _committed(session: Session) -> None:
    """Commit; two saves racing for one address or number meet the unique index, and the second is told so."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise InvalidAccountChange("another active person took that e-mail address or phone number just now",
                                   "email") from None


def add_person(session: Session, fields: dict[str, Any], *, region: str, now: datetime, actor: str) -> Person:
    """Add a person from `name`, `email` and/or `phone`, optional `organization_id`, `organization_admin`
    (sees all of the organisation's tickets on the portal; default false) and `active` (default true)."""
    _refuse_unknown(fields, PERSON_FIELDS)
    person = Person(
        name=_checked_name(fields.get("name"), MAX_PERSON_NAME),
        email=checked_email(fields.get("email")),
        phone=_checked_phone(fields.get("phone"), region),
        organization_id=_checked_id(fields.get("organization_id"), "organization_id"),
        organization_admin=_checked_flag(fields.get("organization_admin", False), "organization_admin"),
        active=_checked_active(fields.get("active", True)),
        created_at=now,
    )
    _check_organization(session, person)
    _check_reachable_and_theirs(session, person)
    session.add(person)
    session.flush()
    audit(session, at=now, actor=actor, action="person.created", subject=f"person {person.id}",
          before=None, after=person_json(person))
    _committed(session)
    return person


def person_by_email(session: Session, address: str) -> Person | None:
    """The active person with this address (any case)."""
    return session.scalar(select(Person).where(Person.email == address.lower(), Person.active))


def add_unknown_sender(session: Session, address: str, name: str, *, now: datetime, actor: str) -> Person:
    """A person for an address the line has not seen, flagged for an admin to place (no organisation yet).

    Added in the caller's transaction: the message that brought them is filed with them or not at all.
    """
    person = Person(name=name.strip()[:MAX_PERSON_NAME] or address, email=address.lower(), phone=None,
                    organization_id=None, active=True, flagged=True, created_at=now)
    session.add(person)
    session.flush()
    audit(session, at=now, actor=actor, action="person.created", subject=f"person {person.id}",
          before=None, after=person_json(person))
    return person


def update_person(session: Session, person_id: int, fields: dict[str, Any], *, region: str, now: datetime,
                  actor: str) -> Person:
    """Change some of a person's `name`, `email`, `phone`, `organization_id`, `organization_admin`, `active`."""
    person = get_person(session, person_id)
    _refuse_unknown(fields, PERSON_FIELDS)
    before = person_json(person)
    if "name" in fields:
        person.name = _checked_name(fields["name"], MAX_PERSON_NAME)
    if "email" in fields:
        person.email = checked_email(fields["email"])
    if "phone" in fields:
        person.phone = _checked_phone(fields["phone"], region)
    if "organization_id" in fields:
        person.organization_id = _checked_id(fields["organization_id"], "organization_id")
    if "organization_admin" in fields:
        person.organization_admin = _checked_flag(fields["organization_admin"], "organization_admin")
    if "active" in fields:
        person.active = _checked_active(fields["active"])
    person.flagged = False  # an admin (or integrator) has looked at them
    with session.no_autoflush:  # the checks say what is wrong before the unique index would
        if person.organization_id != before["organization_id"] or (person.active and not before["active"]):
            _check_organization(session, person)
        _check_reachable_and_theirs(session, person)
    after = person_json(person)
    if after != before:
        audit(session, at=now, actor=actor, action="person.updated", subject=f"person {person.id}",
              before=before, after=after)
    _committed(session)
    return person
