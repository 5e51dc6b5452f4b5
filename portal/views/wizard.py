"""The upload wizard for signed-in members: file -> column roles -> metadata -> anonymisation
preview and report -> approve and publish, with the ingest job's progress shown live.

It calls the same catalogue services and pipeline as the REST API
(``create_dataset``, ``create_version`` -> the ``ingest`` job, ``request_publish``
-> the ``publish`` job); every permission is checked there. Until the metadata
step the draft (the file and the choices so far) lives in the private file
store under ``wizard/<draft>/``, readable only by the person who started it.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from api.context import current_principal, runtime
from catalog.permissions import authorize, can
from catalog.services import accounts
from catalog.services import datasets as dataset_service
from catalog.services import organisations as organisation_service
from catalog.services.jobs import get_job
from indexer.pipeline import column_specs
from indexer.readers import read_table
from indexer.storage import FileTooLarge
from indexer.validate import validate_table
from portal.i18n import current_language
from schema.errors import CGDError, InvalidInput, Problem
from schema.licences import LICENCES
from schema.metadata import COLLECTION_METHODS, SELECTION_METHODS
from schema.roles import ColumnRole
from schema.suggest import suggest_roles
from schema.topics import TOPICS
from schema.vocabularies import DIMENSIONS
from schema.vocabularies.geography import level_of, match_place

bp = Blueprint("wizard", __name__, url_prefix="/publish")
SAMPLE_VALUES = 4

#: The metadata form: (field path, kind). Labels are in ``field_label``.
METADATA_FIELDS: tuple[tuple[str, str], ...] = (
    ("title.en", "text"),
    ("title.ne", "text"),
    ("description.en", "textarea"),
    ("description.ne", "textarea"),
    ("licence", "licence"),
    ("period.start", "date"),
    ("period.end", "date"),
    ("coverage.places", "places"),
    ("languages", "codes"),
    ("contact.name", "text"),
    ("contact.email", "email"),
    ("methodology.purpose", "textarea"),
    ("methodology.participant_selection.method", "selection"),
    ("methodology.participant_selection.sample_size", "number"),
    ("methodology.participant_selection.inclusion_criteria", "textarea"),
    ("methodology.collection.method", "collection"),
    ("methodology.collection.tool", "text"),
    ("methodology.consent.how_obtained", "textarea"),
    ("methodology.consent.uses", "textarea"),
    ("methodology.consent.withdrawal_contact", "text"),
    ("methodology.facilitation.collected_by", "textarea"),
    ("methodology.facilitation.community_involvement", "textarea"),
    ("methodology.facilitation.training", "textarea"),
    ("methodology.data_management.storage", "textarea"),
    ("methodology.data_management.retention", "textarea"),
    ("methodology.limitations", "textarea"),
)


def field_label(path: str) -> str:
    return {
        "title.en": _("Title in English"),
        "title.ne": _("Title in Nepali"),
        "description.en": _("Description in English"),
        "description.ne": _("Description in Nepali"),
        "licence": _("Licence"),
        "period.start": _("Collection started"),
        "period.end": _("Collection ended"),
        "coverage.places": _("Places covered (names or codes, separated by commas)"),
        "languages": _("Languages of collection (codes such as ne, mai, en)"),
        "contact.name": _("Contact name"),
        "contact.email": _("Contact e-mail"),
        "methodology.purpose": _("Purpose of the collection"),
        "methodology.participant_selection.method": _("How participants were selected"),
        "methodology.participant_selection.sample_size": _("Number of participants"),
        "methodology.participant_selection.inclusion_criteria": _("Who could take part"),
        "methodology.collection.method": _("How the data was collected"),
        "methodology.collection.tool": _("Tool (e.g. KoboToolbox)"),
        "methodology.consent.how_obtained": _("How informed consent was obtained"),
        "methodology.consent.uses": _("Uses participants agreed to"),
        "methodology.consent.withdrawal_contact": _("Whom participants contact to withdraw"),
        "methodology.facilitation.collected_by": _("Who collected the data"),
        "methodology.facilitation.community_involvement": _("How the community was involved"),
        "methodology.facilitation.training": _("Training of the data collectors"),
        "methodology.data_management.storage": _("Where the raw data is stored"),
        "methodology.data_management.retention": _("How long the raw data is kept"),
        "methodology.limitations": _("Known limitations"),
    }.get(path, path)


def role_label(role: str) -> str:
    return {
        "direct_identifier": _("Direct identifier (removed)"),
        "quasi_identifier": _("Quasi-identifier (generalised)"),
        "dimension": _("Dimension (breakdown)"),
        "measure": _("Measure (number or yes/no)"),
        "free_text": _("Free text (scrubbed)"),
        "other": _("Other (kept as is)"),
    }.get(role, role)


# -- the draft ---------------------------------------------------------------------------


def _draft_key(draft_id: str, name: str = "state.json") -> str:
    if not draft_id.isalnum() or len(draft_id) > 40:
        abort(404)
    return f"wizard/{draft_id}/{name}"


def _load(draft_id: str) -> dict[str, Any]:
    path = runtime().files.path(_draft_key(draft_id))
    if not path.exists():
        abort(404)
    state = json.loads(path.read_text())
    if state.get("owner") != current_principal().user_id:
        abort(404)  # someone else's draft does not exist for you
    return state


def _save(draft_id: str, state: dict[str, Any]) -> None:
    path = runtime().files.path(_draft_key(draft_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False))
    tmp.replace(path)


def _frame(state: dict[str, Any]):
    return read_table(runtime().files.path(state["file_key"]), filename=state["filename"])


def _upload_organisations(session, principal) -> list[tuple[str, str]]:
    return [
        (org.slug, org.name)
        for org, _role in accounts.memberships(session, principal)
        if can(session, principal, "version.upload", org.id)
    ]


def _problems(err: CGDError) -> list[dict[str, Any]]:
    out = []
    for p in getattr(err, "problems", None) or []:
        out.append(
            {
                "field": p.field,
                "row": p.row,
                "column": p.column,
                "message": p.message,
                "code": p.code,
            }
        )
    if err.message not in {p["message"] for p in out}:
        out.insert(
            0,
            {"field": None, "row": None, "column": None, "message": err.message, "code": err.code},
        )
    return out


# -- step 1: the file --------------------------------------------------------------------


@bp.route("/", methods=["GET", "POST"])
@login_required
def start():
    principal = current_principal()
    with runtime().db.session() as session:
        orgs = _upload_organisations(session, principal)
    problems: list[dict] = []
    status = 200
    if request.method == "POST":
        org_slug = request.form.get("organisation", "")
        upload = request.files.get("file")
        try:
            with runtime().db.session() as session:
                org = organisation_service.get_organisation(session, org_slug)
                authorize(session, principal, "dataset.create", org.id)
            if upload is None or not upload.filename:
                raise InvalidInput(
                    _("Choose a file to upload."),
                    [Problem("required", _("Choose a file to upload."), field="file")],
                )
            draft_id = secrets.token_hex(12)
            filename = (
                "".join(c for c in upload.filename.rsplit("/", 1)[-1] if c.isalnum() or c in "._-")[
                    :120
                ]
                or "upload"
            )
            key = _draft_key(draft_id, "upload-" + filename)
            try:
                runtime().files.save_stream(
                    key, upload.stream, max_bytes=runtime().config["MAX_UPLOAD_BYTES"]
                )
            except FileTooLarge:
                raise InvalidInput(
                    _("The file is too large."),
                    [Problem("too_large", _("The file is too large."), field="file")],
                ) from None
            state = {
                "owner": principal.user_id,
                "organisation": org.slug,
                "filename": filename,
                "file_key": key,
                "created": datetime.now(UTC).isoformat(),
            }
            try:
                df = _frame(state)
            except CGDError:
                runtime().files.delete_prefix(f"wizard/{draft_id}")
                raise
            state["columns"] = {
                n: s.to_dict() | {"reason": getattr(s, "reason", "")}
                for n, s in suggest_roles(df).items()
            }
            state["rows"] = df.height
            # Example values help confirm a role; identifiers' values are never kept or shown.
            state["samples"] = {
                n: [
                    str(v)[:40]
                    for v in df.get_column(n)
                    .drop_nulls()
                    .unique(maintain_order=True)
                    .head(SAMPLE_VALUES)
                    .to_list()
                ]
                for n, spec in state["columns"].items()
                if spec.get("role") != "direct_identifier"
            }
            _save(draft_id, state)
            return redirect(url_for("wizard.columns", draft_id=draft_id))
        except CGDError as err:
            problems, status = _problems(err), err.status
    return render_template("wizard/start.html", orgs=orgs, problems=problems, step=1), status


# -- step 2: column roles ----------------------------------------------------------------


@bp.route("/<draft_id>/columns", methods=["GET", "POST"])
@login_required
def columns(draft_id: str):
    state = _load(draft_id)
    if state.get("version_id"):
        return redirect(url_for("wizard.progress", draft_id=draft_id))
    problems: list[dict] = []
    status = 200
    if request.method == "POST":
        chosen = {}
        for name, spec in state["columns"].items():
            role = request.form.get(f"role-{name}", spec.get("role"))
            if role not in {r.value for r in ColumnRole}:
                role = spec.get("role")
            dim = request.form.get(f"dimension-{name}") or None
            if dim not in DIMENSIONS:
                dim = None
            chosen[name] = {
                "name": name,
                "role": role,
                "dimension": dim if role in ("dimension", "quasi_identifier") else None,
                "reason": spec.get("reason", ""),
            }
        state["columns"] = chosen
        try:
            df = _frame(state)
            declared = {
                n: {k: v for k, v in c.items() if k != "reason" and v is not None}
                for n, c in chosen.items()
            }
            validate_table(df, column_specs(df, declared), filename=state["filename"])
            state["columns_confirmed"] = True
            _save(draft_id, state)
            return redirect(url_for("wizard.metadata", draft_id=draft_id))
        except CGDError as err:
            problems, status = _problems(err), 400
            _save(draft_id, state)
    return render_template(
        "wizard/columns.html",
        state=state,
        draft_id=draft_id,
        problems=problems,
        step=2,
        roles=[(r.value, role_label(r.value)) for r in ColumnRole],
        dimensions=[
            (code, dim.labels.get(current_language()) or dim.labels.get("en", code))
            for code, dim in DIMENSIONS.items()
        ],
    ), status


# -- step 3: metadata ---------------------------------------------------------------------


def _metadata_from_form(form, columns: dict) -> tuple[dict[str, Any], dict[str, str]]:
    values = {path: (form.get(path) or "").strip() for path, _kind in METADATA_FIELDS}
    meta: dict[str, Any] = {"country": "NP"}

    def put(path: str, value: Any) -> None:
        node = meta
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    for path, kind in METADATA_FIELDS:
        raw = values[path]
        if not raw:
            continue
        if kind == "number":
            try:
                put(path, int(raw))
            except ValueError:
                put(path, raw)
        elif kind == "places":
            places = [match_place(p.strip()) or p.strip() for p in raw.split(",") if p.strip()]
            put(path, places)
            levels = [level_of(p) for p in places if level_of(p)]
            if levels:
                put(
                    "coverage.level",
                    max(levels, key=("province", "district", "municipality").index),
                )
        elif kind == "codes":
            put(path, [c.strip() for c in raw.split(",") if c.strip()])
        else:
            put(path, raw)
    topics = [t for t in form.getlist("topics") if t in TOPICS]
    meta["topics"] = topics
    values["topics"] = topics
    meta["columns"] = {
        n: {k: v for k, v in c.items() if k not in ("reason", "name") and v is not None}
        for n, c in columns.items()
    }
    return meta, values


@bp.route("/<draft_id>/metadata", methods=["GET", "POST"])
@login_required
def metadata(draft_id: str):
    state = _load(draft_id)
    if not state.get("columns_confirmed"):
        return redirect(url_for("wizard.columns", draft_id=draft_id))
    if state.get("version_id"):
        return redirect(url_for("wizard.progress", draft_id=draft_id))
    problems: list[dict] = []
    status = 200
    values = state.get("metadata_form") or {}
    if request.method == "POST":
        meta, values = _metadata_from_form(request.form, state["columns"])
        state["metadata_form"] = values
        _save(draft_id, state)
        principal = current_principal()
        try:
            with runtime().db.session() as session:
                dataset = dataset_service.create_dataset(
                    session, principal, state["organisation"], meta
                )
                dataset_id = dataset.id
            key = f"datasets/{dataset_id}/uploads/{secrets.token_hex(8)}/{state['filename']}"
            runtime().files.save_file(key, runtime().files.path(state["file_key"]))
            with runtime().db.session() as session:
                dataset = dataset_service.get_dataset(session, dataset_id, principal)
                version, job = dataset_service.create_version(
                    session,
                    principal,
                    dataset,
                    filename=state["filename"],
                    raw_path=key,
                    columns=meta["columns"],
                )
                state.update(
                    dataset_id=dataset_id, version_id=version.id, job_id=job.id, slug=dataset.slug
                )
            _save(draft_id, state)
            # The version has its own copy now; the draft keeps only the choices.
            runtime().files.path(state["file_key"]).unlink(missing_ok=True)
            return redirect(url_for("wizard.progress", draft_id=draft_id))
        except CGDError as err:
            problems, status = _problems(err), 400
    by_field: dict[str, list[str]] = {}
    for p in problems:
        if p["field"]:
            by_field.setdefault(p["field"], []).append(p["message"])
    return render_template(
        "wizard/metadata.html",
        state=state,
        draft_id=draft_id,
        problems=problems,
        by_field=by_field,
        values=values,
        fields=[(path, kind, field_label(path)) for path, kind in METADATA_FIELDS],
        step=3,
        licences=[(code, lic["title"]) for code, lic in LICENCES.items()],
        topics=[(code, names.get("en", code)) for code, names in TOPICS.items()],
        selection=SELECTION_METHODS,
        collection=COLLECTION_METHODS,
    ), status


# -- progress, step 4: the anonymisation preview, step 5: publish --------------------------------


def _status(state: dict[str, Any]) -> dict[str, Any]:
    with runtime().db.session() as session:
        job = get_job(session, state["job_id"])
        authorize(session, current_principal(), "dataset.read_private", job.organisation_id)
        version = dataset_service.get_version(session, state["version_id"])
        out = {
            "job": job.id,
            "kind": job.kind,
            "status": job.status,
            "progress": job.progress,
            "version_status": version.status,
            "error": (job.error or {}).get("message") or (version.error or {}).get("message"),
        }
    if out["version_status"] == "published":
        out["next"] = url_for("public.dataset", slug=state["slug"])
    elif out["version_status"] == "awaiting_approval":
        out["next"] = url_for("wizard.review", draft_id=state.get("draft_id"))
    return out


@bp.get("/<draft_id>/progress")
@login_required
def progress(draft_id: str):
    state = _load(draft_id)
    if not state.get("job_id"):
        return redirect(url_for("wizard.metadata", draft_id=draft_id))
    state["draft_id"] = draft_id
    return render_template(
        "wizard/progress.html", state=state, draft_id=draft_id, status=_status(state), step=4
    )


@bp.get("/<draft_id>/status.json")
@login_required
def status_json(draft_id: str):
    state = _load(draft_id)
    if not state.get("job_id"):
        abort(404)
    state["draft_id"] = draft_id
    return jsonify(_status(state))


@bp.route("/<draft_id>/review", methods=["GET", "POST"])
@login_required
def review(draft_id: str):
    state = _load(draft_id)
    if not state.get("version_id"):
        return redirect(url_for("wizard.metadata", draft_id=draft_id))
    principal = current_principal()
    problems: list[dict] = []
    status = 200
    with runtime().db.session() as session:
        version = dataset_service.get_version(session, state["version_id"])
        authorize(session, principal, "dataset.read_private", version.dataset.organisation_id)
        if request.method == "POST":
            try:
                job = dataset_service.request_publish(
                    session,
                    principal,
                    version,
                    approve_free_text=request.form.get("approve_free_text") == "yes",
                )
                state["job_id"] = job.id
                _save(draft_id, state)
                return redirect(url_for("wizard.progress", draft_id=draft_id))
            except CGDError as err:
                problems, status = _problems(err), err.status
                session.rollback()
                version = dataset_service.get_version(session, state["version_id"])
        has_free_text = any(
            (c or {}).get("role") == "free_text" for c in (version.columns or {}).values()
        )
        return render_template(
            "wizard/review.html",
            state=state,
            draft_id=draft_id,
            report=version.disclosure_report or {},
            validation=version.validation_report or {},
            version_status=version.status,
            has_free_text=has_free_text,
            problems=problems,
            step=5,
        ), status
