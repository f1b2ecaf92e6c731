"""The OpenAPI description matches the routes the app really serves under /api."""

from __future__ import annotations

import re

from web.api import documented_path


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
        (documented_path(rule.rule), method)
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


def test_the_document_states_the_limits_the_server_enforces(client, session, clock) -> None:
    from staff.tokens import issue_api_token

    document = client.get("/api/openapi.json").json
    headers = {"Authorization": f"Bearer {issue_api_token(session, 'tests', clock.now)}"}
    offset = next(p for p in document["paths"]["/api/calls"]["get"]["parameters"] if p["name"] == "offset")["schema"]
    assert client.get(f"/api/calls?offset={offset['maximum']}", headers=headers).status_code == 200
    assert client.get(f"/api/calls?offset={offset['maximum'] + 1}", headers=headers).status_code == 400
    at = document["paths"]["/api/oncall"]["get"]["parameters"][0]["schema"]
    for year, allowed in [("1970", False), ("1971", True), ("2199", True), ("2200", False)]:
        assert bool(re.match(at["pattern"], f"{year}-01-01T00:00:00Z")) is allowed
        answered = client.get(f"/api/oncall?at={year}-06-01T00:00:00Z", headers=headers).status_code
        assert (answered == 200) is allowed, (year, answered)


def test_bodies_that_refuse_unknown_fields_say_so(client, session, clock) -> None:
    from staff.tokens import issue_api_token

    document = client.get("/api/openapi.json").json
    headers = {"Authorization": f"Bearer {issue_api_token(session, 'tests', clock.now)}"}
    schemas = document["components"]["schemas"]
    for name, method, path in [("TicketInput", "post", "/api/tickets"), ("OverrideInput", "post", "/api/overrides"),
                               ("ContactInput", "post", "/api/contacts"), ("RotationInput", "put", "/api/rotation")]:
        assert schemas[name]["additionalProperties"] is False, name
        refused = getattr(client, method)(path, json={"surprise": 1}, headers=headers)
        assert refused.status_code == 422 and "surprise" in refused.json["error"], (name, refused.json)


def test_a_query_parameter_a_call_does_not_take_is_refused_naming_those_it_does(client, session, clock) -> None:
    from staff.tokens import issue_api_token

    headers = {"Authorization": f"Bearer {issue_api_token(session, 'tests', clock.now)}"}
    refused = client.get("/api/contacts?limit=5&colour=blue", headers=headers)
    assert refused.status_code == 400 and refused.json["error"] == (
        "unknown query parameters 'colour'; this call takes limit, offset, total")
    assert client.get("/api/rotation?at=now", headers=headers).json["error"].endswith("this call takes none")
    assert client.get("/api/contacts?limit=5&total=true", headers=headers).status_code == 200
