"""API tokens: kept as digests, and when each was last used, saved whatever the request does."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from staff.models import ApiToken
from staff.tokens import issue_api_token
from tests.support import FakeClock, fresh


def last_used(session: Session) -> object:
    fresh(session)
    return session.scalars(select(ApiToken.last_used_at)).one()


def test_a_read_only_request_saves_when_its_token_was_last_used(client, session: Session, clock: FakeClock) -> None:
    token = issue_api_token(session, "dashboard", clock.now)
    assert last_used(session) is None

    clock.advance(minutes=5)
    assert client.get("/api/contacts", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    assert last_used(session) == clock.now


def test_requests_within_a_minute_write_the_last_use_once(client, session: Session, clock: FakeClock) -> None:
    token = issue_api_token(session, "dashboard", clock.now)
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/api/oncall", headers=headers)
    first = clock.now

    clock.advance(seconds=30)
    client.get("/api/oncall", headers=headers)
    assert last_used(session) == first

    clock.advance(seconds=31)
    client.get("/api/oncall", headers=headers)
    assert last_used(session) == clock.now


def test_a_refused_token_records_no_use(client, session: Session, clock: FakeClock) -> None:
    issue_api_token(session, "dashboard", clock.now)
    assert client.get("/api/contacts", headers={"Authorization": "Bearer sl_not-the-token"}).status_code == 401
    assert last_used(session) is None


def test_only_a_digest_of_the_token_is_stored(session: Session, clock: FakeClock) -> None:
    token = issue_api_token(session, "deploy-bot", clock.now)
    stored = session.scalars(select(ApiToken)).one()
    assert stored.name == "deploy-bot" and token not in stored.token_hash and len(stored.token_hash) == 64
