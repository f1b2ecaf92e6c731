"""Every message that reached the support address, kept as it came (contract §8: nothing is lost)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from tickets.models import Ticket

# What became of a message: filed on a ticket, kept without a ticket (automatic, bulk, a loop), or
# kept with the reason it could not be read (filed again by `refile-mail` once that is fixed).
MAIL_STATUSES = ("received", "filed", "ignored", "failed")


class InboundMail(Base):
    """A message as it reached the line, raw, with what was done with it.

    `message_key` is the SHA-256 of its Message-ID (of the raw bytes when it has none): the same
    message delivered twice, by the listener and the mailbox, say, is kept and filed once.
    """

    __tablename__ = "inbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_key: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    received_via: Mapped[str] = mapped_column(String(8))  # smtp | imap
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(8), default="received")
    why: Mapped[str | None] = mapped_column(Text)  # why it was ignored, or what failed
    sender: Mapped[str | None] = mapped_column(String(320), index=True)
    # Every address it came from or went to (From, To, Cc), lower case, one a line: who is "copied".
    addresses: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(998))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)

    ticket: Mapped[Ticket | None] = relationship()
