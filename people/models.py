"""Organisations and the people in them, as contract §8 describes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base

ORGANIZATION_KINDS = ("customer", "partner")


class Organization(Base):
    """A customer, or a partner that may manage customers (and asks for support itself)."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # one of ORGANIZATION_KINDS
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    partner: Mapped[Organization | None] = relationship(remote_side=[id])


class Person(Base):
    """Someone who may ask for support, known by their e-mail address and phone number."""

    __tablename__ = "people"
    __table_args__ = (
        # Two active people never share an address or a number: mail and calls from it name one requester.
        Index("uq_people_active_email", "email", unique=True,
              sqlite_where=text("active AND email IS NOT NULL"), postgresql_where=text("active AND email IS NOT NULL")),
        Index("uq_people_active_phone", "phone", unique=True,
              sqlite_where=text("active AND phone IS NOT NULL"), postgresql_where=text("active AND phone IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))  # in lower case, as mail clients treat it
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Made by the line for an unknown sender, for an admin to place in an organisation.
    flagged: Mapped[bool] = mapped_column(default=False)
    # Sees every ticket of their organisation on the portal, not only their own.
    organization_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]

    organization: Mapped[Organization | None] = relationship()
