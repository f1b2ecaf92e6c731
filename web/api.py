"""The REST API's plumbing, shared by every area's API (contract §7).

Errors are `{"error": "..."}` with a 4xx status; lists are pages of `limit` rows from
`offset`, with `more` and, on request, `total`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from core.db import db
from core.limits import clipped, row_id, storable

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# Past this an offset is a mistake, and past 2**63 the database cannot even take it.
MAX_OFFSET = 10**9
# Longer URLs are refused with a JSON 414; past 8190 characters gunicorn refuses the line itself,
# in the same JSON shape (web/serving.py).
MAX_URL_LENGTH = 8000


class ApiError(Exception):
    """A request the API refuses, with the status and the reason the client sees."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_error(status: int, message: str) -> Response:
    """The API's one error shape: `{"error": "..."}` with a 4xx status."""
    response = jsonify(error=message)
    response.status_code = status
    return response


def json_body() -> dict[str, Any]:
    """The request's JSON object, or an ApiError(400) saying what is wrong with it."""
    if not request.data:
        raise ApiError(400, "send a JSON object in the request body")
    try:
        body = json.loads(request.data)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"the body is not valid JSON: {error}") from None
    except RecursionError:
        raise ApiError(400, "the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    where = _unstorable_field(body)
    if where is not None:
        raise ApiError(422, f"{where} must not contain NUL characters or unpaired surrogates")
    return body


def _unstorable_field(value: Any, path: str = "") -> str | None:
    """The first field (as a path like `members[2]`) holding text no database can store, or None."""
    if isinstance(value, str):
        return None if storable(value) else (path or "the body")
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and not storable(key):
            return "a field name"
        found = _unstorable_field(item, f"{path}.{key}" if isinstance(key, str) and path else
                                  str(key) if isinstance(key, str) else f"{path}[{key}]")
        if found is not None:
            return found
    return None


def handle_api_errors(blueprint: Blueprint, *, invalid: tuple[type[Exception], ...] = (),
                      missing: tuple[type[Exception], ...] = (),
                      conflict: tuple[type[Exception], ...] = ()) -> None:
    """Make errors answer in the API's JSON shape on `blueprint`: `ApiError` with its status,
    the domain's `invalid` errors with 422, its `missing` errors with 404 and the refusals its
    `conflict` errors name (the thing's state does not allow it) with 409."""

    @blueprint.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        db().rollback()
        return json_error(error.status, error.message)

    def _invalid(error: Exception) -> Response:
        db().rollback()
        return json_error(422, str(error))

    def _missing(error: Exception) -> Response:
        db().rollback()
        return json_error(404, str(error))

    def _conflict(error: Exception) -> Response:
        db().rollback()
        return json_error(409, str(error))

    for error_type in invalid:
        blueprint.register_error_handler(error_type, _invalid)
    for error_type in missing:
        blueprint.register_error_handler(error_type, _missing)
    for error_type in conflict:
        blueprint.register_error_handler(error_type, _conflict)

    @blueprint.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        return json_error(error.code or 400, error.description or error.name)


def init_app(app: Flask, query_parameters: Mapping[tuple[str, str], frozenset[str]] | None = None) -> None:
    """Every HTTP error under /api (an unknown URL or method, a body over the size limit…)
    answers in the API's shape; a body sent without a length is held to the same limit.

    `query_parameters` names, by documented path and method, the query parameters each call
    takes (the OpenAPI document's); any other is refused with a 400 that names them.
    """
    app.register_error_handler(HTTPException, _api_errors_in_json)
    app.before_request(_refuse_unsized_bodies_over_the_limit)
    app.before_request(lambda: _refuse_what_the_call_does_not_take(query_parameters or {}))


@functools.cache
def documented_path(rule: str) -> str:
    """A Flask URL rule as the OpenAPI document writes its path: `/api/contacts/<raw_id>` is
    `/api/contacts/{id}`."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule).replace("{raw_id}", "{id}")


def _refuse_what_the_call_does_not_take(taken: Mapping[tuple[str, str], frozenset[str]]) -> Response | None:
    """Under /api only: a URL too long to read (414), a query parameter the call does not take (400)."""
    if not request.path.startswith("/api/"):
        return None
    url = request.environ.get("RAW_URI") or request.full_path
    if len(url) > MAX_URL_LENGTH:
        return json_error(414, f"the URL has {len(url)} characters; at most {MAX_URL_LENGTH} are read")
    if request.url_rule is None:
        return None
    allowed = taken.get((documented_path(request.url_rule.rule), request.method))
    unknown = sorted(set(request.args) - allowed) if allowed is not None else []
    if not unknown:
        return None
    names = ", ".join(repr(clipped(name, 40)) for name in unknown[:5])
    return json_error(400, f"unknown query parameters {names}; this call takes "
                           f"{', '.join(sorted(allowed or ())) or 'none'}")


def _api_errors_in_json(error: HTTPException) -> Any:
    if not request.path.startswith("/api/"):
        return error
    response = json_error(error.code or 400, f"{error.name}: {request.method} {request.path}")
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _refuse_unsized_bodies_over_the_limit() -> None:
    """A chunked body over MAX_CONTENT_LENGTH gets 413, as a sized one does; werkzeug alone
    would read it up to the limit and hand on the cut-off part as if it were whole."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is None or request.content_length is not None or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


def query_value(name: str) -> str | None:
    """A query parameter's one value, or None when it is left out; given empty or twice is a 400."""
    values = request.args.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ApiError(400, f"give {name} once")
    if not values[0].strip():
        raise ApiError(400, f"{name} is empty: give a value, or leave it out")
    return values[0]


@dataclass(frozen=True)
class PageArgs:
    """What a list request asks for: a window of rows, and whether to count them all."""

    limit: int
    offset: int
    with_total: bool


def page_args() -> PageArgs:
    """`limit`, `offset` and `total` from the query string, checked (shared by every list).

    As in PagerDuty's API, `total` is counted only on request (`?total=true`): counting a
    million calls costs more than the page itself, and `more` already says whether to go on.
    """
    try:
        limit = int(request.args.get("limit", DEFAULT_PAGE_SIZE))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        raise ApiError(400, "limit and offset must be whole numbers") from None
    if not 1 <= limit <= MAX_PAGE_SIZE or not 0 <= offset <= MAX_OFFSET:
        raise ApiError(400, f"limit must be 1 to {MAX_PAGE_SIZE} and offset 0 to {MAX_OFFSET}")
    total = request.args.get("total", "false").lower()
    if total not in {"true", "false", "1", "0"}:
        raise ApiError(400, "total must be true or false")
    return PageArgs(limit, offset, total in {"true", "1"})


def count_of(session: Session, query: Select[Any], args: PageArgs) -> int | None:
    """How many rows `query` matches, when the request asked for the total."""
    return session.scalar(select(func.count()).select_from(query.subquery())) if args.with_total else None


def page(items: list[dict[str, Any]], args: PageArgs, more: bool, total: int | None) -> Response:
    """A page of a list, with what a client needs to fetch the next one."""
    return jsonify(items=items, limit=args.limit, offset=args.offset, more=more, total=total)


def path_id(raw: str, what: str) -> int:
    """A row id from the URL; anything that cannot be one is simply not found."""
    number = row_id(raw)
    if number is None:
        raise ApiError(404, f"there is no {what} {clipped(raw, 40)}")
    return number
