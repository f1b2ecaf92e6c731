"""The customer portal at scale: "My tickets" and a ticket's page for people of a customer, on the
scale databases (`bench/scale.py`).

Acme's people get tickets of the seeded history: Lena the newest 25 (the same in every size), Otto
one ticket in seven of all the rest (about 140,000 at a million). Lena sees her own; Otto is Acme's
organisation admin and sees all of Acme's. Each signs in as a customer does, by the link the line
mails (read from the outbox).
"""

from __future__ import annotations

import re
from datetime import datetime

from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

NEWEST_FOR_LENA = 25
OTTO_EVERY = 7


def seed_portal_people(engine: Engine, now: datetime) -> dict[str, int]:
    """Acme (a customer), Lena and Otto (its organisation admin), and their share of the tickets."""
    with engine.begin() as connection:
        acme = connection.execute(text(
            "INSERT INTO organizations (name, kind, partner_id, active, created_at) "
            "VALUES ('Acme Corp', 'customer', NULL, :yes, :now) RETURNING id"), {"yes": True, "now": now}).scalar_one()
        people = {}
        for name, email, admin in (("Lena Fischer", "lena@acme.example", False),
                                   ("Otto Brandt", "otto@acme.example", True)):
            people[name.split()[0].lower()] = connection.execute(text(
                "INSERT INTO people (name, email, phone, organization_id, active, flagged, organization_admin, "
                "created_at) VALUES (:name, :email, NULL, :org, :yes, :no, :admin, :now) RETURNING id"),
                {"name": name, "email": email, "org": acme, "yes": True, "no": False, "admin": admin,
                 "now": now}).scalar_one()
        newest = connection.execute(text("SELECT MAX(number) FROM tickets")).scalar_one()
        connection.execute(text("UPDATE tickets SET requester_id = :lena, organization_id = :org "
                                "WHERE number > :newest - :n"),
                           {"lena": people["lena"], "org": acme, "newest": newest, "n": NEWEST_FOR_LENA})
        connection.execute(text("UPDATE tickets SET requester_id = :otto, organization_id = :org "
                                "WHERE number <= :newest - :n AND number % :every = 0"),
                           {"otto": people["otto"], "org": acme, "newest": newest, "n": NEWEST_FOR_LENA,
                            "every": OTTO_EVERY})
        people["newest_ticket"] = newest
    return people


def signed_in_client(client: FlaskClient, engine: Engine, email: str) -> FlaskClient:
    """`client` signed in to the portal as `email`, by the link the line mailed (CSRF is off in the bench)."""
    answer = client.post("/support/sign-in", data={"email": email})
    if answer.status_code != 200:
        raise RuntimeError(f"asking for a sign-in link answered {answer.status_code}")
    with engine.connect() as connection:
        body = connection.execute(text("SELECT body FROM notifications WHERE kind = 'sign_in' AND to_number = :to "
                                       "ORDER BY id DESC LIMIT 1"), {"to": email}).scalar_one()
    path = re.search(r"(/support/sign-in/\S+)", body)
    if path is None or client.post(path.group(1)).status_code != 302:
        raise RuntimeError(f"the sign-in link for {email} did not sign in")
    return client
