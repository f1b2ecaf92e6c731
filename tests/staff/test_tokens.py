"""API tokens: kept as digests, and when each was last used, saved whatever the request does."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from staff.models import ApiToken, AuditEntry
from staff.tokens import issue_api_token
from tests.support import AdminActions, FakeClock, fresh


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


def test_token_names_are_unique_so_a_token_can_be_revoked_by_name(app, session: Session, clock: FakeClock) -> None:
    issue_api_token(session, "dashboard", clock.now)
    again = app.test_cli_runner().invoke(args=["create-api-token", "dashboard"])
    assert again.exit_code != 0 and "already" in again.output
    assert session.scalars(select(ApiToken.name)).all() == ["dashboard"]


def test_the_cli_lists_tokens_without_them_and_a_revoked_token_is_refused(app, client, session: Session,
                                                                          clock: FakeClock) -> None:
    token = issue_api_token(session, "dashboard", clock.now)
    issue_api_token(session, "deploy-bot", clock.now)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["list-api-tokens"]).output
    assert [line.split("\t")[0] for line in listed.splitlines()] == ["dashboard", "deploy-bot"]
    assert token not in listed and "last used never" in listed
    assert runner.invoke(args=["revoke-api-token", "dashboard"]).exit_code == 0
    assert client.get("/api/contacts", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    unknown = runner.invoke(args=["revoke-api-token", "nobody"])
    assert unknown.exit_code != 0 and "no token called 'nobody'" in unknown.output
    fresh(session)
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["api_token.created", "api_token.created", "api_token.revoked"]


def test_an_admin_sees_the_tokens_page_and_revokes_one(client, admin_user, session: Session, clock: FakeClock) -> None:
    token = issue_api_token(session, "dashboard", clock.now)
    actions = AdminActions(client)
    actions.login()
    page = client.get("/admin/tokens")
    assert page.status_code == 200 and "dashboard" in page.text and token not in page.text
    revoked = actions.post("/admin/tokens/revoke", {"name": "dashboard"}, page="/admin/tokens")
    assert revoked.status_code == 302
    assert client.get("/api/contacts", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    gone = actions.post("/admin/tokens/revoke", {"name": "dashboard"}, page="/admin/tokens")
    assert gone.status_code == 404 and "no token called" in gone.text


def test_the_tokens_page_needs_a_login(client) -> None:
    response = client.get("/admin/tokens")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
