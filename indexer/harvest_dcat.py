"""Harvest a DCAT catalogue: JSON-LD, Turtle or RDF/XML, following hydra paging.

Remote documents are data, never instructions: JSON-LD that names a remote
``@context`` is refused (rdflib would fetch it), XML with a DOCTYPE or
entities is refused, and every next-page link goes through the same guarded
client as the first page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS

from catalog.harvest_models import HarvestSource
from catalog.services.harvest import HarvestedItem, Offer
from indexer.harvest_http import Fetched, HarvestClient, HarvestFetchError
from schema.topics import TOPICS

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SCHEMA = Namespace("http://schema.org/")
LOCN = Namespace("http://www.w3.org/ns/locn#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
MAX_PAGES = 200
#: EU authority codes back to the ISO codes our metadata uses (others are kept, lower-cased).
EU_LANGUAGES = {
    "ENG": "en",
    "NEP": "ne",
    "HIN": "hi",
    "MAI": "mai",
    "BHO": "bho",
    "NEW": "new",
    "BEN": "bn",
    "URD": "ur",
    "FRA": "fr",
    "SPA": "es",
    "THA": "tha",
    "TAJ": "taj",
}
EU_COUNTRIES = {
    "NPL": "NP",
    "IND": "IN",
    "BGD": "BD",
    "PAK": "PK",
    "LKA": "LK",
    "BTN": "BT",
    "AFG": "AF",
    "MMR": "MM",
    "KEN": "KE",
    "UGA": "UG",
    "TZA": "TZ",
    "GHA": "GH",
    "NGA": "NG",
    "PHL": "PH",
    "IDN": "ID",
}

_MEDIA = {
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
}
_EXT = {".jsonld": "json-ld", ".json": "json-ld", ".ttl": "turtle", ".rdf": "xml", ".xml": "xml"}
ACCEPT = "text/turtle, application/ld+json;q=0.9, application/rdf+xml;q=0.8"


def rdf_format(fetched: Fetched, configured: str | None = None) -> str:
    """The rdflib parser for a response: configured, else by media type, else by extension."""
    if configured:
        return {"jsonld": "json-ld", "ttl": "turtle", "rdfxml": "xml", "rdf": "xml"}.get(
            configured, configured
        )
    if fetched.content_type in _MEDIA:
        return _MEDIA[fetched.content_type]
    path = fetched.url.split("?", 1)[0].lower()
    for ext, fmt in _EXT.items():
        if path.endswith(ext):
            return fmt
    return "turtle"


def _remote_contexts(node: Any) -> bool:
    """Whether JSON-LD names a context by URL (or imports one) anywhere."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@context" and _context_is_remote(value):
                return True
            if _remote_contexts(value):
                return True
    elif isinstance(node, list):
        return any(_remote_contexts(v) for v in node)
    return False


def _context_is_remote(ctx: Any) -> bool:
    if isinstance(ctx, str):
        return True
    if isinstance(ctx, list):
        return any(_context_is_remote(c) for c in ctx)
    if isinstance(ctx, dict):
        return "@import" in ctx
    return False


def parse_graph(fetched: Fetched, fmt: str) -> Graph:
    """Parse one document into a graph without fetching anything it refers to."""
    text = fetched.body.decode("utf-8-sig", errors="replace")
    if fmt == "json-ld":
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise HarvestFetchError(
                f"{fetched.url} is not JSON-LD.", code="harvest_bad_response"
            ) from exc
        if _remote_contexts(doc):
            raise HarvestFetchError(
                f"{fetched.url} uses a remote JSON-LD @context, which is never fetched; "
                "publish the context inline.",
                code="harvest_remote_context",
            )
    if fmt == "xml" and ("<!DOCTYPE" in text or "<!ENTITY" in text):
        raise HarvestFetchError(
            f"{fetched.url}: XML with a DOCTYPE or entities is refused.",
            code="harvest_bad_response",
        )
    g = Graph()
    try:
        g.parse(data=text, format=fmt, publicID=fetched.url)
    except HarvestFetchError:
        raise
    except RecursionError:
        raise HarvestFetchError(
            f"{fetched.url} is nested too deeply to be a catalogue.", code="harvest_bad_response"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad document
        raise HarvestFetchError(
            f"{fetched.url} could not be read as {fmt}: {str(exc)[:200]}",
            code="harvest_bad_response",
        ) from exc
    return g


def _next_page(g: Graph) -> str | None:
    for pager in g.subjects(RDF.type, HYDRA.PagedCollection):
        nxt = g.value(pager, HYDRA.nextPage)
        if nxt is not None:
            return str(nxt)
    for pager in g.subjects(HYDRA.nextPage, None):
        return str(g.value(pager, HYDRA.nextPage))
    return None


def list_offers(client: HarvestClient, source: HarvestSource, *, max_items: int) -> Iterator[Offer]:
    """Every dcat:Dataset of the catalogue, page after hydra page."""
    url: str | None = source.url
    visited: set[str] = set()
    seen: set[str] = set()
    configured = (source.config or {}).get("format")
    while url and len(visited) < MAX_PAGES:
        if url in visited:
            return
        visited.add(url)
        fetched = client.get(url, accept=ACCEPT)
        g = parse_graph(fetched, rdf_format(fetched, configured))
        for ds in sorted(set(g.subjects(RDF.type, DCAT.Dataset)), key=str):
            offer = dataset_offer(g, ds)
            if offer.original_id in seen:
                continue
            seen.add(offer.original_id)
            if len(seen) > max_items:
                raise HarvestFetchError(
                    f"{source.name} lists more than {max_items} datasets.", code="harvest_too_many"
                )
            yield offer
        url = _next_page(g)
    if url:
        raise HarvestFetchError(
            f"{source.name} has more than {MAX_PAGES} pages.", code="harvest_too_many"
        )


def _texts(g: Graph, node, pred) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in g.objects(node, pred):
        if isinstance(value, Literal):
            out.setdefault(value.language or "en", str(value))
    return out


def _label(g: Graph, node) -> str:
    if isinstance(node, Literal):
        return str(node)
    for pred in (SKOS.prefLabel, RDFS.label, LOCN.geographicName, FOAF.name, DCTERMS.title):
        value = g.value(node, pred)
        if value is not None:
            return str(value)
    text = str(node).rstrip("/")
    return text.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _date(g: Graph, node, *preds) -> str | None:
    for pred in preds:
        value = g.value(node, pred)
        if value is not None:
            return str(value)[:10]
    return None


def _code(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def dataset_offer(g: Graph, ds) -> Offer:
    """One dcat:Dataset as an offer (an error when it has no title)."""
    identifier = g.value(ds, DCTERMS.identifier)
    original_id = str(identifier) if identifier is not None else str(ds)
    titles = _texts(g, ds, DCTERMS.title)
    if not titles:
        return Offer(original_id=original_id, error="dataset without dct:title")
    landing = g.value(ds, DCAT.landingPage)
    publisher = g.value(ds, DCTERMS.publisher)
    pub = {}
    if publisher is not None:
        name = _label(g, publisher)
        pub = {
            "slug": _code(str(publisher)) if isinstance(publisher, URIRef) else name,
            "name": name,
        }
    keywords = [str(k) for k in g.objects(ds, DCAT.keyword)]
    themes = [_code(str(t)) for t in g.objects(ds, DCAT.theme) if isinstance(t, URIRef)]
    topics = list(
        dict.fromkeys([t for t in themes if t in TOPICS] + [k for k in keywords if k in TOPICS])
    )
    licence = g.value(ds, DCTERMS.license)
    places, country = [], None
    for spatial in g.objects(ds, DCTERMS.spatial):
        if isinstance(spatial, URIRef) and "/authority/country/" in str(spatial):
            country = EU_COUNTRIES.get(_code(str(spatial)), _code(str(spatial)))
        else:
            places.append(_label(g, spatial))
    period = None
    temporal = g.value(ds, DCTERMS.temporal)
    if temporal is not None:
        start = _date(g, temporal, DCAT.startDate, SCHEMA.startDate)
        end = _date(g, temporal, DCAT.endDate, SCHEMA.endDate)
        period = {k: v for k, v in (("start", start), ("end", end)) if v} or None
    distributions = []
    for dist in g.objects(ds, DCAT.distribution):
        access = g.value(dist, DCAT.accessURL)
        download = g.value(dist, DCAT.downloadURL)
        fmt = g.value(dist, DCTERMS.format)
        media = g.value(dist, DCAT.mediaType)
        distributions.append(
            {
                "title": _label(g, dist) if g.value(dist, DCTERMS.title) is not None else "",
                "format": _code(str(fmt)) if isinstance(fmt, URIRef) else (str(fmt) if fmt else ""),
                "media_type": str(media).split("/media-types/", 1)[-1] if media else "",
                "access_url": str(access) if access else (str(download) if download else None),
                "download_url": str(download) if download else None,
                "description": next(iter(_texts(g, dist, DCTERMS.description).values()), ""),
            }
        )
    languages = [
        EU_LANGUAGES.get(_code(str(x)), _code(str(x)).lower())
        for x in g.objects(ds, DCTERMS.language)
    ]
    item = HarvestedItem(
        original_id=original_id,
        name=_code(str(ds)) if isinstance(ds, URIRef) else None,
        title=titles,
        description=_texts(g, ds, DCTERMS.description),
        original_url=str(landing)
        if landing is not None
        else (str(ds) if isinstance(ds, URIRef) else None),
        publisher=pub,
        topics=topics,
        keywords=keywords,
        licence=str(licence) if licence is not None else None,
        places=places,
        country=country,
        period=period,
        languages=languages,
        distributions=sorted(distributions, key=lambda d: (d["access_url"] or "", d["title"])),
        modified=_date(g, ds, DCTERMS.modified),
    )
    return Offer(original_id=original_id, item=item)
