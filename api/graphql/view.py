"""HTTP endpoint for GraphQL: POST (and GET with ``?query=``) runs queries; GET without a
query serves GraphiQL from ``static/graphiql`` under a strict Content-Security-Policy."""

from __future__ import annotations

import json

import orjson
from flask import Blueprint, Response, current_app, render_template_string, request

from api.context import current_principal, runtime
from api.graphql.core.budget import PointsBudget
from api.graphql.core.context import SUPPORTED_LANGUAGES
from api.graphql.core.errors import request_error
from api.graphql.core.limits import QueryLimits
from api.graphql.execution import Caller, GraphQLEndpoint, Outcome
from api.graphql.schema import schema
from api.json_bodies import loads as bounded_json_loads
from schema.errors import CGDError

bp = Blueprint("graphql", __name__)

EXTENSION = "cgd_graphql"

#: GraphiQL runs only the vendored files; no inline script, no CDN, no eval.
GRAPHIQL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

GRAPHIQL_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cgd-portal GraphQL API</title>
<link rel="stylesheet" href="{{ static('graphiql/graphiql.min.css') }}">
<link rel="stylesheet" href="{{ static('graphiql/cgd-graphiql.css') }}">
</head>
<body>
<div id="graphiql" data-endpoint="{{ endpoint }}" data-default-query="{{ default_query }}">
<noscript>GraphiQL needs JavaScript. POST queries to {{ endpoint }} as JSON instead.</noscript>
</div>
<script src="{{ static('graphiql/react.production.min.js') }}"></script>
<script src="{{ static('graphiql/react-dom.production.min.js') }}"></script>
<script src="{{ static('graphiql/graphiql.min.js') }}"></script>
<script src="{{ static('graphiql/cgd-graphiql.js') }}"></script>
</body>
</html>
"""

DEFAULT_QUERY = """# The public GraphQL API of this portal. Press the play button (or Ctrl-Enter).
# Documentation: the Docs panel on the left, or docs/graphql.md.
{
  datasets(query: "water", first: 5) {
    totalCount
    edges { node { title slug organization { name } } }
  }
  rateLimit { cost remaining resetAt }
}
"""


def endpoint_of(app) -> GraphQLEndpoint:
    """The app's endpoint (schema, limits, budget storage), built once on first use."""
    found = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions[EXTENSION] = GraphQLEndpoint(
            schema.graphql_schema,
            QueryLimits.from_config(app.config),
            PointsBudget.from_config(app.config),
        )
    return found


def _caller(*, allow_mutations: bool) -> Caller:
    lang = request.accept_languages.best_match(SUPPORTED_LANGUAGES) or "en"
    return Caller(
        runtime=runtime(),
        principal=current_principal(),
        address=request.remote_addr,
        lang=lang,
        base_url=current_app.config.get("BASE_URL") or request.host_url,
        allow_mutations=allow_mutations,
    )


#: orjson keeps the text ``json.dumps(ensure_ascii=False, separators=(",", ":"), default=str)``
#: gave: dict keys in their order (a GraphQL answer's field order), non-str keys as text, and
#: datetimes and dataclasses left to ``default`` (``str``) rather than orjson's own forms.
_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _orjson_default(value):
    # json.dumps writes float subclasses (numpy.float64) as numbers; orjson hands them here.
    return float(value) if isinstance(value, float) else str(value)


def _encode(body) -> bytes:
    """An answer as UTF-8 JSON: orjson, or ``json.dumps`` for what orjson refuses (integers
    beyond 64 bits), so the text is the same either way (NaN, never in an answer, is null)."""
    try:
        return orjson.dumps(body, default=_orjson_default, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _json(body, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(
        _encode(body),
        status=status,
        mimetype="application/json",
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _answer(outcome: Outcome) -> Response:
    return _json(outcome.body, outcome.status, outcome.headers)


@bp.errorhandler(CGDError)
def _refused_before_graphql(err: CGDError):
    """An error raised before the operation ran (a bad bearer token), in GraphQL's shape."""
    headers = {}
    if err.code == "invalid_token":
        headers["WWW-Authenticate"] = 'Bearer realm="cgd-portal", error="invalid_token"'
    return _json({"errors": [request_error(err.code, err.message)]}, err.status, headers)


@bp.post("/graphql")
def graphql_post():
    """Run one operation, or a batch (a JSON array) of up to ``GRAPHQL_MAX_BATCH``."""
    body = request.get_json(silent=True)
    if body is None and request.mimetype == "application/graphql":
        # The query as the body, variables and operationName in the address (as
        # express-graphql and graphql-http take it); not a type a browser sends cross-site
        # without asking first, so no cookie-borne request arrives this way.
        body = {"query": request.get_data(as_text=True)}
        if request.args.get("operationName"):
            body["operationName"] = request.args["operationName"]
        if request.args.get("variables"):
            try:
                body["variables"] = json.loads(request.args["variables"])
            except ValueError:
                return _json(
                    {"errors": [request_error("bad_request", "'variables' is not JSON.")]}, 400
                )
    endpoint = endpoint_of(current_app)
    if isinstance(body, list):
        if not body:
            return _json({"errors": [request_error("bad_request", "The batch is empty.")]}, 400)
        if len(body) > endpoint.limits.max_batch:
            return _json(
                {
                    "errors": [
                        request_error(
                            "batch_too_large",
                            f"A batch may hold at most {endpoint.limits.max_batch} operations; "
                            f"this one holds {len(body)}.",
                            maxBatch=endpoint.limits.max_batch,
                        )
                    ]
                },
                400,
            )
        caller = _caller(allow_mutations=True)
        outcomes = [endpoint.run(op, caller) for op in body]
        status = 429 if any(o.status == 429 for o in outcomes) else 200
        headers: dict[str, str] = {}
        for o in outcomes:
            headers.update(o.headers)
        return _json([o.body for o in outcomes], status, headers)
    if body is None:
        return _json(
            {"errors": [request_error("bad_request", "Send a JSON body with a 'query' string.")]},
            400,
        )
    return _answer(endpoint.run(body, _caller(allow_mutations=True)))


@bp.get("/graphql")
def graphql_get():
    """GraphiQL for a browser; ``?query=`` runs a query (never a mutation) for scripts."""
    if "query" not in request.args:
        return _graphiql()
    variables = request.args.get("variables")
    try:
        parsed = bounded_json_loads(variables) if variables else None
    except json.JSONDecodeError:  # too deep nesting included (never a RecursionError)
        return _json({"errors": [request_error("bad_request", "'variables' is not JSON.")]}, 400)
    operation = {
        "query": request.args["query"],
        "variables": parsed,
        "operationName": request.args.get("operationName"),
    }
    return _answer(endpoint_of(current_app).run(operation, _caller(allow_mutations=False)))


def _graphiql() -> Response:
    from flask import url_for

    html = render_template_string(
        GRAPHIQL_PAGE,
        static=lambda path: url_for("static", filename=path),
        endpoint=url_for("graphql.graphql_post"),
        default_query=DEFAULT_QUERY,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = GRAPHIQL_CSP
    response.headers["Cache-Control"] = "no-cache"
    return response
