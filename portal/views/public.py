"""Public pages: home, search, dataset, organisations, coverage grid."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from api.context import current_principal, runtime
from api.federation.published import local_distributions, remote_distributions
from api.federation.schemaorg import dataset_jsonld
from catalog.services import datasets as dataset_service
from catalog.services import organisations as organisation_service
from catalog.services import partnerships as partnership_service
from catalog.services import reviews as review_service
from indexer.search.base import MAX_LIMIT, SearchQuery
from portal import charts
from portal.i18n import current_language, digits, number
from portal.views import labels
from portal.views.coverage import coverage_grid
from schema.errors import NotFound
from schema.metadata import DEFAULT_CUBE_THRESHOLD
from schema.topics import TOPICS

bp = Blueprint("public", __name__)
PAGE_SIZE = 10
FACETS = ("organisation", "topic", "dimension", "place", "licence", "language", "endorsed")
PUBLIC_VERSION_STATES = ("published", "superseded", "withdrawn")
SVG_CACHE_SIZE = 256
_SVG_CACHE: dict[tuple, str] = {}
_SVG_LOCK = threading.Lock()


def _page_number() -> int:
    try:
        return max(1, min(10_000, int(request.args.get("page", 1))))
    except ValueError:
        return 1


def search_url(q: str, filters: dict[str, list[str]], page: int = 1, **extra) -> str:
    """A bookmarkable search URL (the language stays in the cookie or in ``lang``)."""
    args: list[tuple[str, str]] = [("q", q)] if q else []
    for field in FACETS:
        args += [(field, v) for v in filters.get(field, [])]
    if page > 1:
        args.append(("page", str(page)))
    if request.args.get("lang"):
        args.append(("lang", request.args["lang"]))
    args += list(extra.items())
    return url_for("public.search") + ("?" + urlencode(args) if args else "")


def _org_names() -> dict[str, str]:
    with runtime().db.session() as session:
        return {o.slug: o.name for o in organisation_service.list_organisations(session)}


@bp.route("/")
def home():
    rt = runtime()
    lang = current_language()
    recent = rt.search.search(
        SearchQuery(limit=5, sort="recent", facets=("topic", "organisation"), lang=lang)
    )
    endorsed = rt.search.search(
        SearchQuery(filters={"endorsed": ["true"]}, limit=5, sort="recent", facets=(), lang=lang)
    )
    topics = [
        (code, labels.topic_label(code, lang), count)
        for code, count in recent.facets.get("topic", [])
    ]
    grid = coverage_grid(rt, lang)
    return render_template(
        "home.html",
        recent=recent,
        endorsed=endorsed,
        topics=topics,
        organisation_count=len(recent.facets.get("organisation", [])),
        grid=grid,
    )


@bp.route("/search")
def search():
    rt = runtime()
    lang = current_language()
    q = request.args.get("q", "").strip()[:500]
    page = _page_number()
    filters = {f: request.args.getlist(f)[:20] for f in FACETS if request.args.getlist(f)}
    result = rt.search.search(
        SearchQuery(
            text=q,
            filters=filters,
            facets=FACETS,
            lang=lang,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            sort="relevance" if q else "recent",
        )
    )
    pages = max(1, -(-result.total // PAGE_SIZE))
    org_names = _org_names()
    facets = []
    for field in FACETS:
        buckets = result.facets.get(field) or []
        chosen = set(filters.get(field, []))
        values = [
            {
                "value": value,
                "label": labels.facet_value_label(field, value, lang, org_names),
                "count": count,
                "selected": value in chosen,
            }
            for value, count in buckets
        ]
        # A chosen value with no matches left still shows, so it can be unticked.
        values += [
            {
                "value": v,
                "label": labels.facet_value_label(field, v, lang, org_names),
                "count": 0,
                "selected": True,
            }
            for v in chosen - {b[0] for b in buckets}
        ]
        if values:
            facets.append({"field": field, "title": labels.facet_title(field), "values": values})
    active = [
        {
            "field": field,
            "label": labels.facet_value_label(field, value, lang, org_names),
            "title": labels.facet_title(field),
            "remove": search_url(q, {**filters, field: [v for v in values if v != value]}),
        }
        for field, values in filters.items()
        for value in values
    ]
    return render_template(
        "search.html",
        q=q,
        result=result,
        filters=filters,
        facets=facets,
        active=active,
        page=page,
        pages=pages,
        search_url=search_url,
    )


def _chart_request(columns: dict) -> tuple[str | None, tuple[str, ...], list[str]]:
    """The measure and dimensions the reader chose (defaults: count by the first group dimension)."""
    dims = charts.chartable_dimensions(columns)
    measures = charts.measures(columns)
    measure = request.args.get("measure") or None
    if measure not in measures:
        measure = None
    chosen = [d for d in (request.args.get("by"), request.args.get("by2")) if d in dims]
    chosen = list(dict.fromkeys(chosen))[:2]
    if not chosen and dims:
        preferred = [d for d in dims if charts.dimension_of(d, columns) in labels.GROUP_DIMENSIONS]
        chosen = [(preferred or dims)[0]]
    problems = []
    if request.args.get("measure") and measure is None:
        problems.append(_("That measure is not in this dataset; showing the number of people."))
    if (request.args.get("by") and request.args.get("by") not in dims) or (
        request.args.get("by2") and request.args.get("by2") not in dims
    ):
        problems.append(_("That breakdown is not in this dataset."))
    return measure, tuple(chosen), problems


def build_chart(
    rt,
    dataset_id: str,
    columns: dict,
    by: tuple[str, ...],
    measure: str | None,
    chart_id: str,
    *,
    text_as_paths: bool = False,
    width: float = 7.0,
):
    """The chart of a dataset's protected cube: (ChartData, SVG markup), or (None, None)."""
    if not by:
        return None, None
    lang = current_language()
    cells = rt.search.cube(dataset_id, by)
    data = charts.chart_data(cells, columns, by, measure, lang=lang, gettext=_)
    if not data.categories:
        return data, None
    # Drawings are kept (matplotlib takes ~0.2 s), keyed on what is drawn: the same figures
    # and labels give the same SVG, and a version whose cube or labels changed in place (a
    # harvested dataset updated by its source) is drawn again.
    drawn = hashlib.sha256(repr(data).encode("utf-8")).hexdigest()
    key = (drawn, lang, chart_id, text_as_paths, width)
    svg = _SVG_CACHE.get(key)
    if svg is None:
        svg = charts.render_svg(
            data,
            number=lambda v, decimals=None: number(v, lang, decimals=decimals),
            gettext=_,
            chart_id=chart_id,
            text_as_paths=text_as_paths,
            width=width,
        )
        with _SVG_LOCK:
            if len(_SVG_CACHE) >= SVG_CACHE_SIZE:
                _SVG_CACHE.pop(next(iter(_SVG_CACHE)))
            _SVG_CACHE[key] = svg
    return data, Markup(svg)  # noqa: S704 - matplotlib escapes text; title/desc escaped in render_svg


def citation(dataset, version, url: str, lang: str) -> str:
    year = (
        version.published_at.year if version and version.published_at else dataset.created_at.year
    )
    parts = [f"{dataset.organisation.name} ({digits(year, lang)}).", f"{dataset.title(lang)}."]
    if version:
        parts.append(_("Version %(n)s.") % {"n": number(version.number, lang)})
    parts.append(f"cgd-portal. {url}")
    return " ".join(parts)


@bp.route("/datasets/<slug>")
def dataset(slug: str):
    rt = runtime()
    lang = current_language()
    base_url = current_app.config["BASE_URL"].rstrip("/")
    with rt.db.session() as session:
        try:
            ds = dataset_service.get_dataset(session, slug, current_principal())
        except NotFound:
            abort(404)
        version = ds.published_version
        columns = (version.columns if version else None) or {}
        measure, by, problems = _chart_request(columns)
        chart, svg = (
            build_chart(rt, ds.id, columns, by, measure, "cube-chart") if version else (None, None)
        )
        endorsements = review_service.endorsements_for(session, ds)
        partners = _partners(
            partnership_service.partnerships_covering(session, ds), ds.organisation_id
        )
        versions = [v for v in reversed(ds.versions) if v.status in PUBLIC_VERSION_STATES]
        downloads = (
            local_distributions(ds, version, "")
            if ds.source == "local"
            else remote_distributions(ds, None)
        )
        jsonld = json.dumps(dataset_jsonld(ds, version, base_url), ensure_ascii=False)
        page_url = f"{base_url}/datasets/{ds.slug}"
        return render_template(
            "dataset.html",
            dataset=ds,
            version=version,
            meta=ds.metadata_ or {},
            default_threshold=DEFAULT_CUBE_THRESHOLD,
            report=(version.disclosure_report if version else {}) or {},
            chart=chart,
            svg=svg,
            measure=measure,
            by=by,
            problems=problems,
            dims=[
                (d, charts.column_label(d, columns, lang))
                for d in charts.chartable_dimensions(columns)
            ],
            measures=[(m, charts.column_label(m, columns, lang)) for m in charts.measures(columns)],
            endorsements=endorsements,
            partners=partners,
            versions=versions,
            downloads=downloads,
            jsonld=Markup(jsonld.replace("<", "\\u003c")),  # noqa: S704 - JSON with every < escaped
            cite=citation(ds, version, page_url, lang),
            page_url=page_url,
            topics=[
                (t, labels.topic_label(t, lang)) for t in (ds.metadata_ or {}).get("topics") or []
            ],
            places=[
                labels.place_label(p, lang)
                for p in ((ds.metadata_ or {}).get("coverage") or {}).get("places") or []
            ],
        )


def _partners(partnerships, own_id: int) -> list[dict]:
    """Other organisations in the partnerships in force (names and roles, for pages)."""
    seen: dict[str, dict] = {}
    for p in partnerships:
        for party in p.parties:
            if party.organisation_id != own_id and party.organisation.slug not in seen:
                seen[party.organisation.slug] = {
                    "slug": party.organisation.slug,
                    "name": party.organisation.name,
                    "role": labels.party_role_label(party.role),
                    "partnership": p.title,
                }
    return list(seen.values())


@bp.route("/organisations")
def organisations():
    rt = runtime()
    counts = dict(
        rt.search.search(SearchQuery(facets=("organisation",), limit=0)).facets.get(
            "organisation", []
        )
    )
    with rt.db.session() as session:
        orgs = [
            {
                "slug": o.slug,
                "name": o.name,
                "kind": labels.organisation_kind_label(o.kind),
                "count": counts.get(o.slug, 0),
            }
            for o in organisation_service.list_organisations(session)
        ]
    orgs.sort(key=lambda o: (-o["count"], o["name"].lower()))
    return render_template("organisations.html", orgs=orgs)


@bp.route("/organisations/<slug>")
def organisation(slug: str):
    rt = runtime()
    lang = current_language()
    with rt.db.session() as session:
        try:
            org = organisation_service.get_organisation(session, slug)
        except NotFound:
            abort(404)
        info = {
            "slug": org.slug,
            "name": org.name,
            "kind": labels.organisation_kind_label(org.kind),
            "description": org.description,
            "website": org.website,
            "verified": org.verified,
        }
        partners = _partners(partnership_service.partnerships_of(session, org), org.id)
    result = rt.search.search(
        SearchQuery(
            filters={"organisation": [slug]},
            facets=("topic",),
            limit=MAX_LIMIT,
            sort="recent",
            lang=lang,
        )
    )
    topics = [(c, labels.topic_label(c, lang), n) for c, n in result.facets.get("topic", [])]
    return render_template(
        "organisation.html", org=info, result=result, topics=topics, partners=partners
    )


@bp.route("/coverage")
def coverage():
    rt = runtime()
    grid = coverage_grid(rt, current_language())
    return render_template("coverage.html", grid=grid)


@bp.route("/topics/<code>")
def topic(code: str):
    if code not in TOPICS:
        abort(404)
    return search_redirect({"topic": [code]})


def search_redirect(filters: dict[str, list[str]]):
    from flask import redirect

    return redirect(search_url("", filters))


@bp.app_context_processor
def _page_context() -> dict:
    return {"lang": current_language(), "labels": labels}


_STATIC_HASHES: dict[str, str] = {}


@bp.app_url_defaults
def _static_version(endpoint: str, values: dict) -> None:
    """Static URLs carry a hash of the file, so they can be cached for a year and still change."""
    if endpoint != "static" or "v" in values or "filename" not in values:
        return
    filename = values["filename"]
    if filename not in _STATIC_HASHES:
        import hashlib

        path = Path(current_app.static_folder or "") / filename
        try:
            _STATIC_HASHES[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        except OSError:
            return
    values["v"] = _STATIC_HASHES[filename]


COMPRESSIBLE = ("text/html", "image/svg+xml")  # pages; the API and static files are left alone


@bp.after_app_request
def _gzip(response):
    """Compress pages for clients that accept it (pages are most of what a reader downloads)."""
    if (
        response.direct_passthrough
        or response.is_streamed
        or response.status_code < 200
        or "Content-Encoding" in response.headers
        or response.mimetype not in COMPRESSIBLE
        or "gzip" not in request.headers.get("Accept-Encoding", "").lower()
    ):
        return response
    body = response.get_data()
    if len(body) < 1400:
        return response
    import gzip

    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))  # same page, same bytes (ETag)
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = ", ".join(
        v for v in (response.headers.get("Vary"), "Accept-Encoding") if v
    )
    return response
