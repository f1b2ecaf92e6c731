"""Admin logins: a wrong username costs what a wrong password does, and a guess never holds a transaction."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

import staff.admins
from staff.admins import ACCOUNT_LIMIT, create_admin, log_in
from tests.support import FakeClock

PASSWORD = "correct horse battery"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch, session: Session) -> list[tuple[str, bool]]:
    """Every password check a login runs: the hash's method and cost, and whether a transaction was open."""
    seen: list[tuple[str, bool]] = []
    real = staff.admins.check_password_hash

    def recorded(hashed: str, password: str) -> bool:
        seen.append((hashed.rsplit("$", 2)[0], session.in_transaction()))
        return real(hashed, password)

    monkeypatch.setattr(staff.admins, "check_password_hash", recorded)
    return seen


def test_an_admin_is_stored_with_werkzeugs_default_hash_never_the_password(session: Session, clock: FakeClock) -> None:
    admin = create_admin(session, "maria", PASSWORD, clock.now)
    assert admin.password_hash.startswith("scrypt:") and PASSWORD not in admin.password_hash


def test_unknown_username_and_wrong_password_each_check_one_hash_of_the_same_cost(
    session: Session, clock: FakeClock, checks: list[tuple[str, bool]]
) -> None:
    create_admin(session, "maria", PASSWORD, clock.now)
    assert log_in(session, "nobody", PASSWORD, clock.now, client="203.0.113.1").admin is None
    assert log_in(session, "maria", "wrong password!", clock.now, client="203.0.113.2").admin is None
    assert log_in(session, "maria", PASSWORD, clock.now, client="203.0.113.3").admin is not None
    methods = {method for method, _ in checks}
    assert len(checks) == 3 and len(methods) == 1, f"every login checks one hash made the same way: {checks}"


def test_no_password_is_checked_inside_a_transaction(session: Session, clock: FakeClock,
                                                     checks: list[tuple[str, bool]]) -> None:
    create_admin(session, "maria", PASSWORD, clock.now)
    log_in(session, "maria", "wrong password!", clock.now, client="203.0.113.1")
    log_in(session, "nobody", "wrong password!", clock.now, client="203.0.113.1")
    assert [open_transaction for _, open_transaction in checks] == [False, False]


def test_a_held_back_client_gets_the_same_answer_for_a_real_and_a_made_up_username(
    session: Session, clock: FakeClock, checks: list[tuple[str, bool]]
) -> None:
    create_admin(session, "maria", PASSWORD, clock.now)
    for name in ("maria", "nobody"):
        for _ in range(ACCOUNT_LIMIT):
            log_in(session, name, "wrong password!", clock.now, client="203.0.113.9")
    checks.clear()
    answers = [log_in(session, name, PASSWORD, clock.now, client="203.0.113.9") for name in ("maria", "nobody")]
    assert [(a.admin, a.retry_after, a.busy) for a in answers] == [(None, answers[0].retry_after, False)] * 2
    assert checks == [], "a held-back client is answered without a password check, whatever the name"
