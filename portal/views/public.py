"""Public pages: home, search, dataset."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from api.context import current_principal, runtime
from catalog.services import datasets as dataset_service
from indexer.search.base import SearchQuery
from schema.errors import NotFound

bp = Blueprint("public", __name__)
PAGE_SIZE = 20
FACETS = ("organisation", "topic", "dimension", "place", "licence", "language", "endorsed")


def _lang() -> str:
    return request.args.get("lang") or request.accept_languages.best_match(["en", "ne"]) or "en"


@bp.route("/")
def home():
    rt = runtime()
    recent = rt.search.search(SearchQuery(text="", limit=6, sort="recent", facets=("topic",)))
    return render_template("home.html", recent=recent, lang=_lang())


@bp.route("/search")
def search():
    rt = runtime()
    q = request.args.get("q", "").strip()[:500]
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    filters = {f: request.args.getlist(f) for f in FACETS if request.args.getlist(f)}
    result = rt.search.search(
        SearchQuery(
            text=q, filters=filters, facets=FACETS, lang=_lang(),
            limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
        )
    )
    pages = max(1, -(-result.total // PAGE_SIZE))
    return render_template(
        "search.html", q=q, result=result, filters=filters, page=page, pages=pages, lang=_lang()
    )


@bp.route("/datasets/<slug>")
def dataset(slug: str):
    rt = runtime()
    with rt.db.session() as session:
        try:
            ds = dataset_service.get_dataset(session, slug, current_principal())
        except NotFound:
            abort(404)
        version = ds.published_version
        doc = rt.search.get_dataset(ds.id)
        return render_template(
            "dataset.html", dataset=ds, version=version, doc=doc, meta=ds.metadata_, lang=_lang()
        )
