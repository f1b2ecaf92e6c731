"""What the portal keeps about a person besides who they are (`people`): their sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class PortalAccount(Base):
    """A person's use of the portal, made when they first ask for a sign-in link.

    `sign_ins` counts the links used: a link carries the count it was made at, and using it moves the
    count on, so each link works once and the links made before it stop working. `session_epoch`
    moves on at sign-out, which ends every session the person has open.
    """

    __tablename__ = "portal_accounts"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    sign_ins: Mapped[int] = mapped_column(default=0)
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]
