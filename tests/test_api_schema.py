"""The REST API against its own OpenAPI document, with Schemathesis: every operation with
generated requests that fit the document, under every check Schemathesis has but one
(`schemathesis.toml` says which, and which refusals a schema cannot express).

A failure is the server doing what the document does not say: a 5xx, an answer outside its
schema, a schema-valid request refused. Requests that do not fit the document and the
stateful phase are not run yet: the API ignores query parameters it does not know, which
Schemathesis counts as accepting what the schema forbids.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from oncall.openapi import document
from staff.tokens import issue_api_token

EXAMPLES = 25  # per operation and mode: enough to find a gap, few enough for CI's minutes
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
OPERATIONS = [(path, method.upper()) for path, item in document()["paths"].items()
              for method in item if method in {"get", "post", "put", "patch", "delete"}]


@pytest.fixture
def bearer(session, clock) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_api_token(session, 'schemathesis', clock.now)}"}


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_every_operation_answers_as_its_document_says(app, bearer, team, path: str, method: str) -> None:
    operation = schemathesis.openapi.from_wsgi("/api/openapi.json", app)[path][method]

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @SETTINGS
    def answers_as_documented(case) -> None:
        case.call_and_validate(headers=bearer)

    answers_as_documented()

