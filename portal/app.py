"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from indexer import pipeline
from indexer.runtime import build_runtime
from portal import i18n, page_cache
from portal.config import STATIC_DIR, load_config
from portal.json_provider import OrjsonProvider
from portal.logs import configure_logging
from portal.views.auth import init_access
from schema.errors import CGDError

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def create_app(config: dict[str, Any] | None = None, *, start_jobs: bool = True) -> Flask:
    """Build the portal: configuration, services, extensions, blueprints."""
    cfg = load_config(config)
    app = Flask(
        __name__,
        instance_path=cfg["INSTANCE_PATH"],
        static_folder=str(STATIC_DIR),
        static_url_path="/static",
    )
    app.config.update(cfg)
    app.json = OrjsonProvider(app)  # responses by orjson; a body nested too deeply is a 400
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 31536000  # static URLs carry a content hash (?v=)
    app.config["MAX_CONTENT_LENGTH"] = cfg["MAX_UPLOAD_BYTES"]
    configure_logging(cfg)
    # disclosure settings out of range stop start-up, not the first upload
    pipeline.disclosure_config({**cfg, "DISCLOSURE_NER": ""})

    runtime = build_runtime(cfg, runner=cfg.get("JOB_RUNNER_OVERRIDE"))
    app.extensions["cgd"] = runtime
    if start_jobs:
        runtime.jobs.start()

    csrf.init_app(app)
    i18n.init_app(app)
    _register_blueprints(app)
    init_access(app)
    page_cache.init_app(app)  # after the principal hook: anonymous pages only
    _register_errors(app)
    app.after_request(_security_headers)
    if cfg.get("TRUSTED_PROXIES"):
        # Behind a TLS proxy: take the client address, scheme and host from the
        # X-Forwarded-* headers of exactly that many proxies (rate limits count by address).
        n = int(cfg["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    return app


def _register_blueprints(app: Flask) -> None:
    from api.federation.ckan import bp as ckan_bp
    from api.federation.harvest_admin import bp as harvest_admin_bp
    from api.federation.views import bp as federation_bp
    from api.graphql.view import bp as graphql_bp
    from api.oauth2.views import bp as oauth2_bp
    from api.rest.partnerships import bp as rest_partnerships_bp
    from api.rest.views import bp as rest_bp
    from api.schema_docs import bp as schema_docs_bp
    from portal.views import ops
    from portal.views.auth import bp as auth_bp
    from portal.views.factsheets import bp as factsheets_bp
    from portal.views.guide import bp as guide_bp
    from portal.views.public import bp as public_bp
    from portal.views.wizard import bp as wizard_bp

    ops.init_app(app)  # first: times and logs every request
    # (blueprint, CSRF-exempt). Exempt are the machine interfaces that take no session
    # cookie as authority: GraphQL reads JSON bodies only, the CKAN actions are read-only
    # (ckanapi POSTs JSON), the token endpoints authenticate the client, and everything
    # under /api/v1 takes bearer tokens only. Every HTML form keeps CSRF.
    blueprints = (
        (graphql_bp, True),
        (ckan_bp, True),
        (federation_bp, False),
        (harvest_admin_bp, True),
        (public_bp, False),
        (oauth2_bp, True),
        (rest_bp, True),
        (auth_bp, False),
        (factsheets_bp, False),
        (guide_bp, False),
        (wizard_bp, False),
        (schema_docs_bp, False),
        (rest_partnerships_bp, True),
    )
    for bp, csrf_exempt in blueprints:
        if csrf_exempt:
            csrf.exempt(bp)
        app.register_blueprint(bp)


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CGDError)
    def _cgd_error(err: CGDError):
        if (
            request.path.startswith(("/api/", "/graphql"))
            or request.accept_mimetypes.best == "application/json"
        ):
            return jsonify({"error": err.to_dict()}), err.status
        return render_template("error.html", error=err), err.status

    @app.errorhandler(404)
    def _not_found(_err):
        if request.path.startswith(("/api/", "/graphql")):
            return jsonify({"error": {"code": "not_found", "message": "Not found."}}), 404
        return render_template(
            "error.html", error=CGDError("Page not found.", code="not_found", status=404)
        ), 404


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response
