"""Fixtures of the ticket tests: a desk with a customer organisation, and a month of tickets on it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.tickets.seeded_month import Desk, add_desk, seed_november


@pytest.fixture
def desk(session: Session) -> Desk:
    """Acme Corp, a customer, and Lena Fischer of Acme."""
    return add_desk(session)


@pytest.fixture
def november(desk: Desk) -> dict[str, int]:
    """The tickets of `tests.tickets.seeded_month.seed_november` by name (C1, H2, …), the report's cells computed."""
    return seed_november(desk)
