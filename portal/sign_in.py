"""Signing in to the portal without a password: a one-time link mailed to the person's address.

A link is signed with `SECRET_KEY` (`itsdangerous`) and names the person, the address it was sent
to, the person's sign-in count when it was made and when that was (by the line's clock). It works
for SIGN_IN_LINK_VALIDITY, once: using it moves the count on in one conditional UPDATE, so two
clicks at once sign in once, and every earlier link stops working too. A link stops working as well
when the person's address changes or they are deactivated.

The session is the portal's own cookie (`web.sessions`): the person's id and a key made from their
session epoch and address. Signing out moves the epoch on, which ends every session they have open.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from core.db import InsertUnlessPresent
from people.models import Person
from portal.models import PortalAccount
from tickets.models import Notification
from tickets.outbox import enqueue

SIGN_IN_LINK_VALIDITY = timedelta(minutes=15)
SIGN_IN_SUBJECT = "Your sign-in link to support"
_LINK_SALT = "support-portal sign-in"
_INSERT_ACCOUNT = InsertUnlessPresent(PortalAccount.__table__, "person_id")


@dataclass(frozen=True)
class SignInLink:
    """What a sign-in link says."""

    person_id: int
    email: str
    serial: int
    next_path: str


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_LINK_SALT)


def safe_next(path: str | None) -> str:
    """Where to land after signing in: a portal page, never another site."""
    if path and path.startswith("/support/") and "//" not in path and "\\" not in path and path.isprintable():
        return path[:300]
    return "/support/tickets"


def _account(session: Session, person: Person, now: datetime) -> PortalAccount:
    _INSERT_ACCOUNT.run(session, {"person_id": person.id, "sign_ins": 0, "session_epoch": 0, "created_at": now,
                                  "last_sign_in_at": None})
    account = session.get(PortalAccount, person.id, populate_existing=True)
    assert account is not None
    return account


def make_link_token(session: Session, person: Person, secret: str, now: datetime, next_path: str = "") -> str:
    """A new sign-in link's token for `person` (who has an address); their account is made if new."""
    account = _account(session, person, now)
    payload = [person.id, person.email, account.sign_ins, int(now.timestamp()), safe_next(next_path)]
    return _serializer(secret).dumps(payload)


def sign_in_mail(name: str, url: str) -> str:
    """The text of the mail that carries a sign-in link."""
    minutes = int(SIGN_IN_LINK_VALIDITY.total_seconds() // 60)
    return (f"Hello {name},\n\n"
            f"Sign in to the support portal with this link:\n{url}\n\n"
            f"It works once, within {minutes} minutes. If you did not ask for it, ignore this mail: "
            "nobody can sign in without it.\n\nSupport\n")


def send_link(session: Session, person: Person, link_url: str, now: datetime) -> None:
    """Queue the mail with the link (the outbox sends it); the caller commits."""
    queued = enqueue(session, ticket=None, to_number=person.email or "", recipient=person.name, kind="sign_in",
                     body=sign_in_mail(person.name, link_url), now=now, channel="email", once_per_ticket=False)
    session.execute(update(Notification).where(Notification.id == queued).values(subject=SIGN_IN_SUBJECT))


def read_link(secret: str, token: str, now: datetime) -> SignInLink | None:
    """What a sign-in link says, or None when it is forged, garbled or expired."""
    try:
        payload = _serializer(secret).loads(token)
    except (BadSignature, UnicodeDecodeError, ValueError):
        return None
    if not (isinstance(payload, list) and len(payload) == 5 and isinstance(payload[0], int)
            and isinstance(payload[1], str) and isinstance(payload[2], int) and isinstance(payload[3], int)
            and isinstance(payload[4], str)):
        return None
    issued = datetime.fromtimestamp(payload[3], timezone.utc)
    if not issued - timedelta(minutes=1) <= now <= issued + SIGN_IN_LINK_VALIDITY:
        return None
    return SignInLink(payload[0], payload[1], payload[2], safe_next(payload[4]))


def use_link(session: Session, link: SignInLink, now: datetime) -> Person | None:
    """Use a sign-in link: the person it signs in, or None when it was used (or outdated by another)
    or its person has since changed address or left. Commits."""
    person = session.get(Person, link.person_id)
    if person is None or not person.active or person.email != link.email:
        session.rollback()
        return None
    taken = session.execute(
        update(PortalAccount)
        .where(PortalAccount.person_id == link.person_id, PortalAccount.sign_ins == link.serial)
        .values(sign_ins=PortalAccount.sign_ins + 1, last_sign_in_at=now)
    ).rowcount
    session.commit()
    return person if taken == 1 else None


def session_key(secret: str, person_id: int, epoch: int, email: str | None) -> str:
    """What the portal cookie holds besides the person's id: it changes at sign-out and with their address."""
    material = f"{person_id}:{epoch}:{email}".encode()
    return hmac.new(secret.encode(), material, hashlib.sha256).hexdigest()[:32]


def key_for(session: Session, person: Person, secret: str) -> str:
    """The session key for `person` now."""
    account = session.get(PortalAccount, person.id)
    return session_key(secret, person.id, account.session_epoch if account else 0, person.email)


def signed_in_person(session: Session, person_id: object, key: object, secret: str) -> Person | None:
    """The active person a portal cookie names, if its key is still theirs (one query, organisation loaded)."""
    if not isinstance(person_id, int) or not isinstance(key, str):
        return None
    row = session.execute(
        select(Person, PortalAccount.session_epoch)
        .join(PortalAccount, PortalAccount.person_id == Person.id)
        .options(joinedload(Person.organization))
        .where(Person.id == person_id, Person.active)
    ).first()
    if row is None:
        return None
    person, epoch = row
    return person if hmac.compare_digest(session_key(secret, person.id, epoch, person.email), key) else None


def end_sessions(session: Session, person_id: int) -> None:
    """Sign a person out everywhere: every portal cookie they hold stops working (one commit)."""
    session.execute(update(PortalAccount).where(PortalAccount.person_id == person_id)
                    .values(session_epoch=PortalAccount.session_epoch + 1))
    session.commit()
