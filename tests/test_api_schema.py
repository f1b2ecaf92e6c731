"""The REST API against its own OpenAPI document, with Schemathesis: every operation with
generated requests that fit the document and requests that do not, then sequences of calls
that follow each other (the stateful phase), under every check Schemathesis has
(`schemathesis.toml` says which refusals a schema cannot express).

A failure is the server doing what the document does not say: a 5xx, an answer outside its
schema, a request the schema forbids that is accepted, or one it allows that is refused.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from sqlalchemy import delete

from core.db import app_engine
from oncall.openapi import document
from people.models import Organization, Person
from staff.tokens import issue_api_token

EXAMPLES = 25  # per operation and mode: enough to find a gap, few enough for CI's minutes
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
PATHS = document()["paths"]
OPERATIONS = [(path, method.upper()) for path, item in PATHS.items()
              for method in item if method in {"get", "post", "put", "patch", "delete"}]
# Requests that do not fit need something to get wrong: a parameter or a body.
CASES = [(path, method, mode) for path, method in OPERATIONS for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode is GenerationMode.POSITIVE or PATHS[path].get("parameters")
         or {"parameters", "requestBody"} & set(PATHS[path][method.lower()])]


@pytest.fixture
def api(app, session, clock) -> schemathesis.BaseSchema:
    """The API's own document, served by the app, with a real token as the one credential.

    Given as an auth provider, Schemathesis knows the token for a real one: its `ignored_auth`
    check then sends each operation again without it and with a made-up one, expecting 401.
    """
    token = issue_api_token(session, "schemathesis", clock.now)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)

    @schema.auth(refresh_interval=None)
    class Token:
        def get(self, case, context) -> str:  # type: ignore[no-untyped-def]
            return token

        def set(self, case, data: str, context) -> None:  # type: ignore[no-untyped-def]
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema


@pytest.mark.parametrize(("path", "method", "mode"), CASES,
                         ids=[f"{m} {p} {'fits' if g is GenerationMode.POSITIVE else 'does not fit'}"
                              for p, m, g in CASES])
def test_every_operation_answers_as_its_document_says(api, team, path: str, method: str,
                                                      mode: GenerationMode) -> None:
    operation = api[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @SETTINGS
    def answers_as_documented(case) -> None:
        case.call_and_validate()

    answers_as_documented()


def test_sequences_of_calls_answer_as_the_document_says(app, api, team) -> None:
    class EachSequenceFromTheSameAccounts(api.as_state_machine()):  # type: ignore[misc]
        """Hypothesis replays a sequence expecting the same answers: organisation names, addresses and
        numbers are unique, so what one sequence added must not be there when the next one starts."""

        def teardown(self) -> None:
            with app_engine(app).begin() as connection:
                connection.execute(delete(Person))
                connection.execute(delete(Organization))

    EachSequenceFromTheSameAccounts.run(settings=settings(SETTINGS, stateful_step_count=6))
