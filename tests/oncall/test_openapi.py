"""The OpenAPI description matches the routes the app really serves under /api."""

from __future__ import annotations

import re


def test_the_openapi_document_names_exactly_the_api_routes_and_methods(app, client) -> None:
    document = client.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.1")
    described = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    served = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).replace("{raw_id}", "{id}"), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert described == served


def test_every_schema_reference_resolves(client) -> None:
    document = client.get("/api/openapi.json").json
    text = str(document)
    for name in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert name in document["components"]["schemas"], name
