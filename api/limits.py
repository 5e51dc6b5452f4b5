"""Rate limits per token and per address (Flask-Limiter).

Storage is memory in the embedded deployment and Redis when CGD_REDIS_URL is
set, so that every process of a scaled deployment counts against one budget.
One limiter per app: tests build several apps in one process.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from api.oauth2.resource import bearer_value
from catalog.services.tokens import digest

DEFAULTS = {
    # Each key: a Flask-Limiter limit string (";" separates several).
    "RATELIMIT_API": "120/minute;3000/hour",
    "RATELIMIT_TOKEN_ENDPOINT": "30/minute",
    "RATELIMIT_SIGN_IN": "10/minute",
}


def client_address() -> str:
    return request.remote_addr or "unknown"


def rate_limit_key() -> str:
    """A token's budget is its own; without a token, the address's."""
    raw = bearer_value()
    if raw:
        return "token:" + digest(raw)[:24]
    return "addr:" + client_address()


def _outside_the_api() -> bool:
    return not request.path.startswith("/api/")


def storage_uri(config) -> str:
    return config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"


def init_limiter(app: Flask) -> Limiter:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app.config))
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "cgd")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Every machine interface under /api/ (REST, CKAN actions, harvest admin,
    # partnerships) gets the API budget unless a blueprint or view sets its own.
    limiter = Limiter(
        key_func=rate_limit_key,
        default_limits=[lambda: current_app.config["RATELIMIT_API"]],
        default_limits_exempt_when=_outside_the_api,
    )
    limiter.init_app(app)
    app.extensions["cgd_limiter"] = limiter

    @app.errorhandler(RateLimitExceeded)
    def _too_many(err: RateLimitExceeded):
        body: dict = {
            "error": {"code": "rate_limited", "message": f"Too many requests: {err.description}."}
        }
        if request.path.startswith(("/api/3/action/", "/api/action/")):
            # CKAN's envelope, so that CKAN clients read it as a failed action.
            body["success"] = False
            body["error"]["__type"] = "Rate Limit Error"
        response = jsonify(body)
        response.status_code = 429
        return response

    return limiter


def limit_blueprint(app: Flask, name: str, config_key: str) -> None:
    """Apply the configured limit to every view of a registered blueprint."""
    limiter: Limiter = app.extensions["cgd_limiter"]
    limiter.limit(lambda: current_app.config[config_key])(app.blueprints[name])


def limit_view(
    app: Flask, endpoint: str, config_key: str, *, methods: list[str] | None = None
) -> None:
    """Limit one view per address (sign-in, sign-up: the attempts, not the form)."""
    limiter: Limiter = app.extensions["cgd_limiter"]
    # The limit is checked by the wrapper, so the wrapper must become the view.
    app.view_functions[endpoint] = limiter.limit(
        lambda: current_app.config[config_key], key_func=client_address, methods=methods
    )(app.view_functions[endpoint])
