"""Fixtures for mail: real messages from `messages/`, the filing rules, and the line's SMTP listener on a free port."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
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
                     calendar=business_calendar("America/New_York", "US"))


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
