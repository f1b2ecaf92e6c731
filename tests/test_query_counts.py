"""Query discipline: how many SQL statements each webhook of a call and each list page runs.

A webhook runs while a caller hears silence, so its statements are counted and capped; and
neither a webhook nor a page may run more statements because there is more data (more
contacts in the rotation, more overrides, more calls and tickets, more rows on the page):
a query per row (N+1) fails here. Counted with SQLAlchemy's `before_cursor_execute` on the
app's engine; SQLite's `BEGIN IMMEDIATE` is left out so that both databases count alike.
Timings are measured by `make bench`, never asserted here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from core.db import app_engine
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from people.service import add_organization, add_person
from phonesim import FlaskClientTransport, ScriptedCaller, place_call
from tests.support import add_admin
from staff.tokens import issue_api_token
from tests.support import AUTH_TOKEN, PUBLIC_BASE, SUPPORT_NUMBER, Team, add_contact, add_override, add_rotation

CALLER = "+12125550147"

# Statements per webhook of the benchmark's call (new issue, critical, call me back here, the
# engineer accepts), as the line runs them today. Lower is welcome: lower the budget with it.
WEBHOOK_BUDGET = {
    "voice": 4,  # the call's row, its first steps, and whether the caller ID is a known person's (contract §8)
    "gather main_menu": 3,
    "gather severity": 3,
    "gather callback_choice": 9,  # opens the ticket: who is on duty (2), number, ticket, entries, the text
    "whisper": 2,
    "whisper-answer": 5,  # the first response on the ticket and its entry
    "dial-result": 3,
    "status": 3,
}


def _label(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.removeprefix("/ivr/")
    return f"gather {dict(parse_qsl(parts.query)).get('step')}" if name == "gather" else name


@contextmanager
def statements_of(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block (SQLite's BEGIN left out)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement: str, *_args) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    engine = app_engine(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


class CountingTransport(FlaskClientTransport):
    """The test client, noting which webhook each statement belongs to."""

    def __init__(self, client: FlaskClient, statements: list[str]) -> None:
        super().__init__(client)
        self.statements = statements
        self.per_webhook: Counter[str] = Counter()
        self.webhooks: Counter[str] = Counter()

    def post(self, url, params, headers):
        before = len(self.statements)
        try:
            return super().post(url, params, headers)
        finally:
            self.per_webhook[_label(url)] += len(self.statements) - before
            self.webhooks[_label(url)] += 1


def call(app: Flask, client: FlaskClient) -> dict[str, int]:
    """Place the benchmark's call; statements per webhook (the most any one request of it ran)."""
    with statements_of(app) as statements:
        transport = CountingTransport(client, statements)
        record = place_call(
            voice_url=f"{PUBLIC_BASE}/ivr/voice", status_callback_url=f"{PUBLIC_BASE}/ivr/status",
            auth_token=AUTH_TOKEN, transport=transport, caller=ScriptedCaller(["1", "1", "1"]),
            engineers=["accept"], from_number=CALLER, to_number=SUPPORT_NUMBER,
        )
    assert record.dials and record.dials[0].bridged, record.transcript()
    assert set(transport.webhooks) == set(WEBHOOK_BUDGET), record.transcript()
    assert all(n == 1 for n in transport.webhooks.values()), transport.webhooks
    return dict(transport.per_webhook)


def a_busier_line(session: Session, team: Team, clock) -> None:
    """Everything a webhook might read more of: a long rotation, overrides all around now, past calls."""
    extra = [add_contact(session, f"Engineer {i}", f"+1415555{2000 + i:04d}") for i in range(12)]
    add_rotation(session, [team.priya, team.tom, team.ana, *extra], backups=3, effective_from=clock.now - timedelta(days=2))
    for day in range(-15, 15):
        if day != 0:  # none in force now: the rotation still decides, cut by the overrides around it
            start = clock.now + timedelta(days=day, hours=2)
            add_override(session, extra[day % len(extra)], start, start + timedelta(hours=5))
    session.commit()


def test_every_webhook_of_a_call_stays_within_its_statement_budget(app: Flask, client: FlaskClient, team: Team) -> None:
    counts = call(app, client)

    over = {name: (counts[name], budget) for name, budget in WEBHOOK_BUDGET.items() if counts[name] > budget}
    assert not over, f"webhooks over their statement budget (ran, budget): {over}"


def test_a_recognised_caller_costs_no_statement_more_than_a_stranger(app: Flask, client: FlaskClient,
                                                                     session: Session, team: Team, clock) -> None:
    stranger = call(app, client)
    acme = add_organization(session, {"name": "Acme Corp", "kind": "customer"}, now=clock.now, actor="tests")
    add_person(session, {"name": "Lena Fischer", "phone": CALLER, "organization_id": acme.id}, region="US",
               now=clock.now, actor="tests")
    clock.advance(minutes=3)

    known = call(app, client)

    assert known == stranger, "a known caller's webhooks ran more statements (stranger → known): " + ", ".join(
        f"{name} {stranger[name]} → {known[name]}" for name in WEBHOOK_BUDGET if known.get(name) != stranger.get(name))


def test_a_webhook_runs_no_more_statements_on_a_busier_line(
    app: Flask, client: FlaskClient, session: Session, team: Team, clock
) -> None:
    quiet = call(app, client)
    a_busier_line(session, team, clock)
    for _ in range(5):
        clock.advance(minutes=3)
        call(app, client)
    clock.advance(minutes=3)

    busy = call(app, client)

    assert busy == quiet, "statements per webhook grew with the data (quiet → busy): " + ", ".join(
        f"{name} {quiet[name]} → {busy[name]}" for name in WEBHOOK_BUDGET if busy.get(name) != quiet.get(name)
    )


# ----------------------------------------------------------------------------- list pages


def _calls(app: Flask, client: FlaskClient, clock, how_many: int) -> None:
    for _ in range(how_many):
        clock.advance(minutes=2)
        call(app, client)


def _contacts(session: Session, how_many: int) -> None:
    for i in range(how_many):
        add_contact(session, f"Contact {i}", f"+1415555{3000 + i:04d}")
    session.commit()


def _overrides(session: Session, team: Team, clock, how_many: int) -> None:
    for i in range(how_many):
        begins = clock.now + timedelta(days=1 + i)
        add_override(session, (team.priya, team.tom, team.ana)[i % 3], begins, begins + timedelta(hours=4))
    session.commit()


def _statements_for(app: Flask, get) -> tuple[int, object]:
    get()  # a first look may create what later looks only read (calendar feeds, say)
    with statements_of(app) as statements:
        response = get()
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return len(statements), response


@pytest.mark.parametrize(
    "path",
    [
        "/api/tickets",
        "/api/calls",
        "/api/notifications",
        "/api/contacts",
        "/api/overrides?all=1",
    ],
)
def test_an_api_list_page_runs_as_many_statements_for_20_rows_as_for_1(
    app: Flask, client: FlaskClient, session: Session, team: Team, clock, path: str
) -> None:
    _calls(app, client, clock, 20)  # 20 tickets, calls and notifications
    _contacts(session, 17)  # 20 with the team
    _overrides(session, team, clock, 20)
    headers = {"Authorization": f"Bearer {issue_api_token(session, 'counts', clock.now)}"}
    separator = "&" if "?" in path else "?"

    with_one, one = _statements_for(app, lambda: client.get(f"{path}{separator}limit=1", headers=headers))
    with_twenty, twenty = _statements_for(app, lambda: client.get(f"{path}{separator}limit=20", headers=headers))

    assert (len(one.get_json()["items"]), len(twenty.get_json()["items"])) == (1, 20)
    assert with_twenty == with_one, f"GET {path}: {with_one} statements for 1 row, {with_twenty} for 20"


ADMIN_PAGES = {"call_pages.calls": "/admin/calls/", "ticket_pages.tickets": "/admin/tickets/"}


@pytest.mark.parametrize(
    "endpoint",
    [
        "call_pages.calls",
        "ticket_pages.tickets",
    ],
)
def test_an_admin_list_page_runs_as_many_statements_for_20_rows_as_for_1(
    app: Flask, client: FlaskClient, session: Session, team: Team, clock, endpoint: str
) -> None:
    assert endpoint in app.view_functions, f"there is no {endpoint} page to measure"
    path = ADMIN_PAGES[endpoint]
    add_admin(session, "counts", "counting statements 1234", clock.now)
    login = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login)
    response = client.post("/admin/login", data={"csrf_token": token.group(1) if token else "",
                                                  "username": "counts", "password": "counting statements 1234"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    get = lambda: client.get(path)  # noqa: E731

    _calls(app, client, clock, 1)
    with_one, _ = _statements_for(app, get)
    _calls(app, client, clock, 19)
    with_twenty, _ = _statements_for(app, get)

    assert with_twenty == with_one, f"GET {path}: {with_one} statements for 1 row, {with_twenty} for 20"
