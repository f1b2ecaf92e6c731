"""The call log: one row per call (`CallSid`), holding the call's state between webhooks, and its steps."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from tickets.models import Ticket

# What a Twilio CallSid looks like; the webhooks log only these, and nothing else is worth a query.
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")


class RingsTargets:
    """Who a call rings, kept as JSON in its `targets_json` column (the ORM row and `LiveCall` share it)."""

    targets_json: Any  # provided by the class this is mixed into

    @property
    def targets(self) -> list[dict[str, Any]]:
        """Who this call rings, in order: a snapshot taken when the ticket was opened."""
        return json.loads(self.targets_json) if self.targets_json else []

    @targets.setter
    def targets(self, value: list[dict[str, Any]]) -> None:
        self.targets_json = json.dumps(value)


class CallLog(RingsTargets, Base):
    """One phone call, from the first webhook to the status callback.

    The columns under "flow state" are where the call is in the menu; they live here,
    not in process memory or cookies, so any web process can serve the next webhook.
    """

    __tablename__ = "call_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str | None] = mapped_column(String(64))
    to_number: Mapped[str | None] = mapped_column(String(64))
    caller_name: Mapped[str | None] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    duration: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default="in-progress")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(16))

    # flow state
    step: Mapped[str] = mapped_column(String(24))
    seq: Mapped[int] = mapped_column(default=0)
    tries: Mapped[int] = mapped_column(default=0)
    notice: Mapped[str | None] = mapped_column(String(24))
    severity: Mapped[str | None] = mapped_column(String(10))
    caller_id: Mapped[str | None] = mapped_column(String(20))  # usable caller ID, E.164
    callback_number: Mapped[str | None] = mapped_column(String(20))
    pending_number: Mapped[str | None] = mapped_column(String(20))
    callback_settled: Mapped[bool] = mapped_column(default=False)
    looked_up_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    looked_up_number: Mapped[str | None] = mapped_column(String(20))  # up to menus.MAX_DIGITS
    targets_json: Mapped[str | None] = mapped_column(Text)
    target_index: Mapped[int] = mapped_column(default=0)
    accepted_target: Mapped[int | None]
    # The known person whose phone rang the line, and the open tickets offered to them, as
    # "10042:critical,10039:normal" so the menu can be said again without a query.
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    offered_tickets: Mapped[str | None] = mapped_column(String(200))

    ticket: Mapped[Ticket | None] = relationship(foreign_keys=[ticket_id])
    looked_up_ticket: Mapped[Ticket | None] = relationship(foreign_keys=[looked_up_ticket_id])
    events: Mapped[list[CallEvent]] = relationship(
        order_by="CallEvent.id", cascade="all, delete-orphan", back_populates="call"
    )



class CallEvent(Base):
    """One step of a call: a menu choice, digits, a dial attempt and its result, a voicemail."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call_log.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")

    call: Mapped[CallLog] = relationship(back_populates="events")


class InboundText(Base):
    """A text an engineer sent the line, by Twilio's `MessageSid`: each is carried out once,
    however often the same signed request arrives."""

    __tablename__ = "inbound_texts"

    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime]
