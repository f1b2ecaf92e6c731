"""Fixtures for mail: real messages from `messages/`, the filing rules, and the line's SMTP listener on a free port."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import partial
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy.orm import Session

from core.calendar import business_calendar
from mail.commands import keeper
from mail.filing import MailRules, receive
from mail.listener import listening
from mail.models import InboundMail
from oncall.service import duty_at
from people.models import Organization, Person
from people.service import add_organization, add_person
from tests.support import FakeClock

MESSAGES = Path(__file__).parent / "messages"
SUPPORT = "support@example.com"


def message(name: str) -> bytes:
    """The raw bytes of `messages/<name>.eml`, with the CRLF line ends mail has on the wire."""
    return (MESSAGES / f"{name}.eml").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.fixture
def rules() -> MailRules:
    return MailRules(support_address=SUPPORT, max_message_bytes=10_000_000,
                     calendar=business_calendar("America/New_York", "US"), secret="test-secret-key")


@pytest.fixture
def deliver(session: Session, clock: FakeClock, rules: MailRules) -> Callable[[bytes], InboundMail]:
    """File a raw message as the listener would, at the fixture clock's time."""
    return lambda raw: receive(session, raw, now=clock.now, via="smtp", rules=rules, duty_at=partial(duty_at, session))


@pytest.fixture
def acme(session: Session, clock: FakeClock) -> Organization:
    return add_organization(session, {"name": "Acme Corp", "kind": "customer"}, now=clock.now, actor="tests")


@pytest.fixture
def lena(session: Session, clock: FakeClock, acme: Organization) -> Person:
    return add_person(session, {"name": "Lena Fischer", "email": "lena@acme.example", "organization_id": acme.id},
                      region="US", now=clock.now, actor="tests")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def listener(make_app: Callable[..., Flask]) -> Iterator[tuple[str, int]]:
    """The line's own SMTP listener (aiosmtpd) on a free loopback port, for the support address."""
    app = make_app(MAIL_FROM=SUPPORT)
    port = free_port()
    controller = listening(keeper(app, "smtp"), host="127.0.0.1", port=port, support_address=SUPPORT,
                           max_message_bytes=10_000_000)
    try:
        yield "127.0.0.1", port
    finally:
        controller.stop()


class Outgoing:
    """A real SMTP server (aiosmtpd) standing in for the vendor's mail server: it keeps what it is sent,
    or answers `refuse_with` (e.g. "451 4.3.0 try later") to DATA."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.refuse_with: str | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        if self.refuse_with:
            return self.refuse_with
        self.received.append(BytesParser(policy=policy.default).parsebytes(envelope.original_content))
        return "250 2.0.0 Ok: queued as 4F1A2B"


@pytest.fixture
def outgoing() -> Iterator[tuple[Outgoing, str]]:
    """The outgoing mail server and its MAIL_SMTP_URL."""
    server = Outgoing()
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield server, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
