"""The line's own SMTP listener (`MAIL_SMTP_LISTEN`), built on `aiosmtpd`: an MTA relays the support
address to it, or a person sends to it directly in development.

It answers `250` to DATA only once the message is kept in the database, and `451` when it cannot
keep it, so the sending server tries again later and nothing is lost. Filing runs in a thread,
off the listener's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)

# Base64 makes attachments a third larger on the wire; past this the sender's server is told the
# message is too large (552) before it is sent, rather than after.
WIRE_OVERHEAD = 1.4
# Headers and text on top of the attachments.
HEADROOM_BYTES = 1_000_000


class SupportAddress:
    """aiosmtpd's handler: mail for the support address is kept (`keep` raises if it cannot be)."""

    def __init__(self, keep: Callable[[bytes], Any], support_address: str | None) -> None:
        self.keep = keep
        self.support_address = support_address

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802 - aiosmtpd's name
                          rcpt_options: list[str]) -> str:
        if self.support_address and address.strip().lower() != self.support_address:
            return f"550 5.1.1 this server takes mail for {self.support_address} only"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.keep, raw)
        except Exception:  # noqa: BLE001 - whatever failed, the sender must try again, not lose the message
            log.exception("a message from %s could not be kept", envelope.mail_from)
            return "451 4.3.0 the message could not be stored just now; try again later"
        return "250 2.0.0 kept: support will answer"


def listening(keep: Callable[[bytes], Any], *, host: str, port: int, support_address: str | None,
              max_message_bytes: int) -> Controller:
    """A started listener on `host`:`port` (stop it with `.stop()`)."""
    limit = int(max_message_bytes * WIRE_OVERHEAD) + HEADROOM_BYTES
    controller = Controller(SupportAddress(keep, support_address), hostname=host, port=port,
                            data_size_limit=limit, server_hostname="support-line")
    controller.start()
    return controller
