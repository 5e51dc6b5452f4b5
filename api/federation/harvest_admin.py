"""Harvest sources over HTTP for site administrators (``/api/v1/harvest``, bearer tokens only).

Register a source, queue a harvest (a background job) and read a run's
progress and per-source report.  Who may do it is decided in
:mod:`catalog.services.harvest` (site administrators; a token needs the
``org:admin`` scope).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from api.context import current_principal, runtime
from catalog.harvest_models import HarvestRun, HarvestSource
from catalog.services import harvest as harvest_service
from schema.errors import CGDError, InvalidInput, PermissionDenied, Problem

bp = Blueprint("harvest_admin", __name__, url_prefix="/api/v1/harvest")


@bp.errorhandler(CGDError)
def _error(err: CGDError):
    return jsonify({"error": err.to_dict()}), err.status


def _admin_only():
    principal = current_principal()
    if not principal.is_authenticated:
        raise PermissionDenied(
            "Send a bearer token of a site administrator.", code="unauthenticated"
        )
    return principal


def source_json(source: HarvestSource) -> dict[str, Any]:
    last = source.runs[-1] if source.runs else None
    return {
        "name": source.name,
        "title": source.title,
        "url": source.url,
        "kind": source.kind,
        "config": source.config,
        "active": source.active,
        "frequency_hours": source.frequency_hours,
        "last_run": run_json(last, report=False) if last else None,
    }


def run_json(run: HarvestRun, *, report: bool = True) -> dict[str, Any]:
    out = {
        "id": run.id,
        "source": run.source.name,
        "job": run.job_id,
        "status": run.status,
        "progress": run.progress,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
        "counts": {
            k: (len(v) if isinstance(v, list) else v) for k, v in (run.report or {}).items()
        },
    }
    if report:
        out["report"] = run.report
    return out


@bp.get("/sources")
def list_sources():
    principal = _admin_only()
    with runtime().db.session() as session:
        harvest_service.require_admin(principal)
        return jsonify({"sources": [source_json(s) for s in harvest_service.list_sources(session)]})


@bp.post("/sources")
def create_source():
    principal = _admin_only()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput(
            "Send a JSON object.", [Problem("invalid_json", "Body must be a JSON object.")]
        )
    config = body.get("config") or {}
    if not isinstance(config, dict):
        raise InvalidInput(
            "config must be an object.",
            [Problem("invalid_type", "Must be an object.", field="config")],
        )
    frequency = body.get("frequency_hours")
    if frequency is not None and (not isinstance(frequency, int) or not 1 <= frequency <= 24 * 365):
        raise InvalidInput(
            "frequency_hours must be 1..8760.",
            [Problem("invalid_integer", "Must be 1..8760.", field="frequency_hours")],
        )
    with runtime().db.session() as session:
        source = harvest_service.create_source(
            session,
            principal,
            name=str(body.get("name") or ""),
            url=str(body.get("url") or ""),
            kind=str(body.get("kind") or ""),
            title=str(body.get("title") or ""),
            config=config,
            frequency_hours=frequency,
        )
        return jsonify(source_json(source)), 201


@bp.post("/sources/<name>/runs")
def start_run(name: str):
    principal = _admin_only()
    with runtime().db.session() as session:
        harvest_service.require_admin(principal)
        source = harvest_service.get_source(session, name)
        run, _job = harvest_service.request_harvest(session, principal, source)
        run_id = run.id
    with runtime().db.session() as session:
        return jsonify(run_json(harvest_service.get_run(session, run_id))), 202


@bp.get("/runs/<run_id>")
def get_run(run_id: str):
    principal = _admin_only()
    with runtime().db.session() as session:
        harvest_service.require_admin(principal)
        return jsonify(run_json(harvest_service.get_run(session, run_id)))
