"""The floor: the least a Flask app can do for a webhook — answer fixed TwiML.

Served by the Procfile's `web:` command with only the app spec swapped
(`gunicorn … 'bench.floor:create_app()'`), it answers each webhook of the benchmark call with
the very TwiML the line answered for that step (captured from a warm-up call, so the size
is the same and the phone follows the same steps), looked up by path and query string. It
reads no form, checks no signature and touches no database: whatever the line costs on top
of this is the cost of the line's own work.

`BENCH_FLOOR_TWIML` names a JSON file: {"<path>?<sorted query without call=>": "<TwiML>"}.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlencode

from flask import Flask, Response, abort, request


def table_key(path: str, args: dict[str, str]) -> str:
    """The lookup key of a webhook: its path and its query (sorted) without the per-call `call=`."""
    return path + "?" + urlencode(sorted((k, v) for k, v in args.items() if k != "call"))


def create_app() -> Flask:
    with open(os.environ["BENCH_FLOOR_TWIML"], encoding="utf-8") as file:
        table: dict[str, str] = json.load(file)
    app = Flask(__name__)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"floor": "ok"}

    @app.post("/<path:_path>")
    def answer(_path: str) -> Response:
        body = table.get(table_key(request.path, request.args))
        if body is None:
            abort(404)
        return Response(body, mimetype="text/xml")

    return app
