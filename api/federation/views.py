"""Open formats over HTTP: the DCAT-AP catalogue, per-dataset DCAT, downloads, Data Packages.

Everything here reads only public datasets (published, not withdrawn) through
:mod:`api.federation.published`; downloads read only the anonymised records of
the public version.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from datetime import datetime

from flask import Blueprint, Response, jsonify, request

from api.context import runtime
from api.federation import dcat
from api.federation.downloads import (
    column_specs,
    csv_text,
    datapackage,
    hxl_tags,
    json_text,
    package_csv_text,
    public_records,
)
from api.federation.published import (
    base_url_of,
    catalogue_modified,
    published_one,
    published_page,
)
from schema.errors import CGDError, InvalidInput, NotFound, Problem

bp = Blueprint("federation", __name__)

#: Serialisation formats of the DCAT documents: URL extension -> (rdflib format, media type).
RDF_FORMATS = {
    "jsonld": ("json-ld", "application/ld+json"),
    "ttl": ("turtle", "text/turtle"),
    "rdf": ("xml", "application/rdf+xml"),
}
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@bp.errorhandler(CGDError)
def _machine_error(err: CGDError):
    """Machine formats answer errors as JSON with the stable code, whatever the Accept header."""
    return jsonify({"error": err.to_dict()}), err.status


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise InvalidInput(
            f"{name} must be a whole number from {low} to {high}.",
            [Problem("invalid_integer", f"{name} must be {low}..{high}", field=name)],
            code="invalid_parameter",
        )
    return value


def _rdf_response(graph, ext: str) -> Response:
    fmt, media_type = RDF_FORMATS[ext]
    body = dcat.serialise(graph, fmt)
    return Response(body, mimetype=media_type, headers={"Access-Control-Allow-Origin": "*"})


def _negotiated() -> str:
    """The RDF format the Accept header prefers (Turtle when it names none)."""
    best = request.accept_mimetypes.best_match(
        ["text/turtle", "application/ld+json", "application/rdf+xml"], default="text/turtle"
    )
    return {"application/ld+json": "jsonld", "application/rdf+xml": "rdf"}.get(best, "ttl")


@bp.route("/catalog")
def catalog_negotiated() -> Response:
    """The catalogue's own IRI: its description in the format the client asks for."""
    resp = catalog(_negotiated())
    resp.vary.add("Accept")
    return resp


@bp.route("/catalog.<any(jsonld, ttl, rdf):ext>")
def catalog(ext: str) -> Response:
    """The DCAT-AP catalogue, one hydra page at a time (``?page=``, ``?per_page=``)."""
    rt = runtime()
    page = _int_arg("page", 1, 1, 10**6)
    per_page = _int_arg("per_page", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    base = base_url_of(rt.config)
    with rt.db.session() as session:
        total, items = published_page(session, base, limit=per_page, offset=(page - 1) * per_page)
        modified = catalogue_modified(session)
        graph = dcat.catalog_graph(
            items,
            base_url=base,
            title=rt.config.get("SITE_TITLE") or "cgd-portal",
            description=rt.config.get("SITE_DESCRIPTION")
            or "Citizen-generated data, anonymised and open, from civil-society organisations.",
            page_url=f"{base}/catalog.{ext}"
            + (f"?per_page={per_page}" if per_page != DEFAULT_PAGE_SIZE else ""),
            page=page,
            per_page=per_page,
            total=total,
            modified=modified,
        )
    return _rdf_response(graph, ext)


@bp.route("/datasets/<slug>/dcat.<any(jsonld, ttl, rdf):ext>")
def dataset_dcat(slug: str, ext: str) -> Response:
    """One public dataset as a DCAT-AP document."""
    rt = runtime()
    with rt.db.session() as session:
        item = published_one(session, slug, base_url_of(rt.config))
        graph = dcat.dataset_graph(item)
    return _rdf_response(graph, ext)


def _hxl_wanted() -> bool:
    return request.args.get("hxl", "").lower() in {"1", "true", "yes"}


def _attachment(body: str | bytes, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Access-Control-Allow-Origin": "*",
        },
    )


@bp.route("/datasets/<slug>/download.<any(csv, json):ext>")
def download(slug: str, ext: str) -> Response:
    """The public version's anonymised records as CSV or JSON (``?hxl=1`` adds HXL hashtags)."""
    rt = runtime()
    with rt.db.session() as session:
        item = published_one(session, slug, base_url_of(rt.config))
        df = public_records(rt.files, item.version)
        hxl = hxl_tags(df.columns, column_specs(item.version)) if _hxl_wanted() else None
        name = f"{item.dataset.slug}-v{item.version.number}"
    if ext == "csv":
        return _attachment(csv_text(df, hxl), "text/csv", f"{name}.csv")
    return _attachment(json_text(df, hxl), "application/json", f"{name}.json")


@bp.route("/datasets/<slug>/datapackage.json")
def datapackage_descriptor(slug: str) -> Response:
    """The Data Package descriptor; its resource points at :func:`datapackage_records`.

    Not at ``download.csv``: that file is neutralised for spreadsheets (a cell
    or name starting with ``= + - @`` gets an apostrophe), so its header and
    values would disagree with the schema and with ``download.json``.
    """
    rt = runtime()
    with rt.db.session() as session:
        item = published_one(session, slug, base_url_of(rt.config))
        df = public_records(rt.files, item.version)
        descriptor = datapackage(item, df, csv_path=f"{item.uri}/datapackage/records.csv")
    return Response(
        json.dumps(descriptor, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Access-Control-Allow-Origin": "*"},
    )


@bp.route("/datasets/<slug>/datapackage/records.csv")
def datapackage_records(slug: str) -> Response:
    """The CSV resource of ``datapackage.json``: the public version's records, true values."""
    rt = runtime()
    with rt.db.session() as session:
        item = published_one(session, slug, base_url_of(rt.config))
        df = public_records(rt.files, item.version)
        name = f"{item.dataset.slug}-v{item.version.number}-records"
    return _attachment(package_csv_text(df), "text/csv", f"{name}.csv")


#: Versions whose anonymised records stay downloadable: the public one and those it replaced.
#: A withdrawn version (consent withdrawn) never is.
DOWNLOADABLE_STATES = ("published", "superseded")


def _version_item(item, number: int | None):
    if number is None:
        return item
    for version in item.dataset.versions:
        if version.number == number and version.status in DOWNLOADABLE_STATES:
            return dataclasses.replace(item, version=version)
    raise NotFound(f"No published version {number} of this dataset.", code="version_not_found")


@bp.route("/datasets/<slug>/datapackage.zip")
@bp.route("/datasets/<slug>/versions/<int:number>/datapackage.zip")
def datapackage_zip(slug: str, number: int | None = None) -> Response:
    """The Data Package of the public version (or of an earlier published one) as one zip:
    ``datapackage.json`` beside ``records.csv``.

    ``records.csv`` is the package's resource, so it holds the true header and
    values (:func:`package_csv_text`), not the spreadsheet-neutralised ones.
    Entries are written readable by all (0644), as any unzip expects.
    """
    rt = runtime()
    with rt.db.session() as session:
        item = _version_item(published_one(session, slug, base_url_of(rt.config)), number)
        df = public_records(rt.files, item.version)
        descriptor = datapackage(item, df, csv_path="records.csv")
        name = f"{item.dataset.slug}-v{item.version.number}"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        entries = {
            "datapackage.json": json.dumps(descriptor, ensure_ascii=False, indent=2),
            "records.csv": package_csv_text(df),
        }
        for entry, body in entries.items():
            info = zipfile.ZipInfo(entry, date_time=_zip_time(item.modified))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            zf.writestr(info, body)
    return _attachment(buf.getvalue(), "application/zip", f"{name}-datapackage.zip")


def _zip_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    """A zip entry's timestamp (zip cannot hold a year before 1980)."""
    return max(when.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
