"""Fact sheets: one page per dataset or topic, in the reader's language, as HTML and PDF."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _

from api.context import current_principal, runtime
from catalog.services import datasets as dataset_service
from catalog.services import reviews as review_service
from indexer.search.base import SearchQuery
from portal import charts
from portal.factsheet import featured_charts, render_pdf
from portal.i18n import current_language, number
from portal.views import labels
from portal.views.public import build_chart, citation
from schema.errors import NotFound
from schema.topics import TOPICS

bp = Blueprint("factsheets", __name__)
TOPIC_DATASETS = 2  # what fits on one A4 page
PDF_CACHE_SIZE = 64
_PDF_CACHE: dict[str, bytes] = {}
_PDF_LOCK = threading.Lock()


def _dataset_sheet(rt, session, ds, pdf: bool, limit: int = 2, prefix: str = "fs") -> dict:
    lang = current_language()
    version = ds.published_version
    columns = (version.columns if version else None) or {}
    featured = (
        featured_charts(
            lambda by: rt.search.cube(ds.id, by), columns, lang=lang, gettext=_, limit=limit
        )
        if version
        else []
    )
    base_url = current_app.config["BASE_URL"].rstrip("/")
    url = f"{base_url}/datasets/{ds.slug}"
    meta = ds.metadata_ or {}
    return {
        "dataset": ds,
        "version": version,
        "meta": meta,
        "charts": [
            {
                "data": f.data,
                "svg": build_chart(
                    rt,
                    ds.id,
                    columns,
                    f.by,
                    f.measure,
                    f"{prefix}{i}",
                    text_as_paths=pdf,
                    width=6.4 if pdf else 7.0,
                )[1],
                "summary": charts.describe(
                    f.data, lambda v, decimals=None: number(v, lang, decimals=decimals), _
                ),
            }
            for i, f in enumerate(featured)
        ],
        "endorsements": review_service.endorsements_for(session, ds),
        "url": url,
        "cite": citation(ds, version, url, lang),
        "places": [
            labels.place_label(p, lang) for p in (meta.get("coverage") or {}).get("places") or []
        ],
        "topics": [labels.topic_label(t, lang) for t in meta.get("topics") or []],
    }


def _respond(template: str, context: dict, pdf: bool, filename: str):
    context["generated"] = datetime.now(UTC).date()
    context["pdf"] = pdf
    html = render_template(template, **context)
    if not pdf:
        return html
    # Same HTML, same PDF: WeasyPrint takes seconds, so a PDF is made once per content.
    key = hashlib.sha256(html.encode()).hexdigest()
    body = _PDF_CACHE.get(key)
    if body is None:
        body = render_pdf(html)
        with _PDF_LOCK:
            if len(_PDF_CACHE) >= PDF_CACHE_SIZE:
                _PDF_CACHE.pop(next(iter(_PDF_CACHE)))
            _PDF_CACHE[key] = body
    return Response(
        body,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "public, max-age=3600",
        },
    )


@bp.route("/datasets/<slug>/factsheet")
@bp.route("/datasets/<slug>/factsheet.pdf", endpoint="dataset_factsheet_pdf")
def dataset_factsheet(slug: str):
    pdf = request.path.endswith(".pdf")
    rt = runtime()
    with rt.db.session() as session:
        try:
            ds = dataset_service.get_dataset(session, slug, current_principal())
        except NotFound:
            abort(404)
        sheet = _dataset_sheet(rt, session, ds, pdf=pdf)
        return _respond(
            "factsheet.html", {"sheet": sheet}, pdf, f"factsheet-{ds.slug}-{current_language()}.pdf"
        )


@bp.route("/topics/<code>/factsheet")
@bp.route("/topics/<code>/factsheet.pdf", endpoint="topic_factsheet_pdf")
def topic_factsheet(code: str):
    if code not in TOPICS:
        abort(404)
    pdf = request.path.endswith(".pdf")
    lang = current_language()
    rt = runtime()
    result = rt.search.search(
        SearchQuery(
            filters={"topic": [code]}, facets=(), limit=TOPIC_DATASETS, sort="recent", lang=lang
        )
    )
    sheets = []
    with rt.db.session() as session:
        for i, hit in enumerate(result.hits):
            try:
                ds = dataset_service.get_dataset(session, hit.doc["slug"])
            except NotFound:
                continue
            sheets.append(_dataset_sheet(rt, session, ds, pdf=pdf, limit=1, prefix=f"t{i}-"))
        return _respond(
            "factsheet_topic.html",
            {
                "topic": code,
                "topic_label": labels.topic_label(code, lang),
                "sheets": sheets,
                "total": result.total,
            },
            pdf,
            f"factsheet-{code}-{lang}.pdf",
        )
