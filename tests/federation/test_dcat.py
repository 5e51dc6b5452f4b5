"""DCAT-AP: the paged catalogue and per-dataset documents parse with rdflib and carry the required properties."""

from __future__ import annotations

import pytest
from rdflib import Graph, Namespace
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF

DCAT = Namespace("http://www.w3.org/ns/dcat#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")

FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}


def _graph(client, url: str, fmt: str = "ttl") -> Graph:
    resp = client.get(url)
    assert resp.status_code == 200, resp.data[:300]
    return Graph().parse(data=resp.data.decode(), format=FORMATS[fmt])


def test_catalogue_turtle_has_the_required_dcat_ap_properties(catalogue):
    g = _graph(catalogue.app.test_client(), "/catalog.ttl")
    (cat,) = g.subjects(RDF.type, DCAT.Catalog)
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.publisher):
        assert g.value(cat, prop) is not None, prop
    assert g.value(g.value(cat, DCTERMS.publisher), FOAF.name) is not None
    assert str(g.value(cat, DCAT.themeTaxonomy)).endswith("/authority/data-theme")
    datasets = set(g.objects(cat, DCAT.dataset))
    assert datasets == set(g.subjects(RDF.type, DCAT.Dataset)) and len(datasets) == 3

    for ds in datasets:
        # Mandatory (title, description) and the recommended properties we always know.
        for prop in (
            DCTERMS.title,
            DCTERMS.description,
            DCTERMS.publisher,
            DCAT.distribution,
            DCAT.contactPoint,
            DCAT.keyword,
            DCAT.theme,
            DCTERMS.spatial,
            DCTERMS.temporal,
            DCAT.landingPage,
            DCTERMS.identifier,
            DCTERMS.issued,
            DCTERMS.modified,
        ):
            assert g.value(ds, prop) is not None, (ds, prop)
        assert g.value(g.value(ds, DCTERMS.publisher), FOAF.name) is not None
        assert g.value(g.value(ds, DCAT.contactPoint), VCARD.hasEmail) is not None
        period = g.value(ds, DCTERMS.temporal)
        assert (
            str(g.value(period, DCAT.startDate)) == "2025-01-15"
            and g.value(period, DCAT.endDate) is not None
        )
        assert any("/authority/data-theme/" in str(t) for t in g.objects(ds, DCAT.theme))
        assert any(str(s).endswith("/country/NPL") for s in g.objects(ds, DCTERMS.spatial))
        dists = list(g.objects(ds, DCAT.distribution))
        assert len(dists) == 4
        for dist in dists:
            assert g.value(dist, RDF.type) == DCAT.Distribution
            for prop in (
                DCAT.accessURL,
                DCAT.downloadURL,
                DCTERMS.format,
                DCTERMS.license,
                DCAT.mediaType,
            ):
                assert g.value(dist, prop) is not None, (dist, prop)
        assert str(g.value(ds, DCTERMS.license)) == "https://creativecommons.org/licenses/by/4.0/"


def _without_paging(g: Graph) -> Graph:
    for pager in list(g.subjects(RDF.type, HYDRA.PagedCollection)):
        g.remove((pager, None, None))  # the page links name the format's own URL
    return g


def test_json_ld_and_rdf_xml_say_the_same_as_turtle(catalogue):
    client = catalogue.app.test_client()
    turtle = _without_paging(_graph(client, "/catalog.ttl"))
    assert len(turtle) > 100
    for fmt in ("jsonld", "rdf"):
        assert isomorphic(turtle, _without_paging(_graph(client, f"/catalog.{fmt}", fmt))), fmt
    resp = client.get("/catalog.jsonld")
    assert resp.mimetype == "application/ld+json"
    assert client.get("/catalog.rdf").mimetype == "application/rdf+xml"


def test_catalogue_pages_with_hydra_links_that_keep_the_page_size(catalogue):
    client = catalogue.app.test_client()
    seen = set()
    url, pages = "/catalog.ttl?per_page=2", 0
    while url:
        g = _graph(client, url)
        pages += 1
        (pager,) = g.subjects(RDF.type, HYDRA.PagedCollection)
        assert (
            int(g.value(pager, HYDRA.totalItems)) == 3
            and int(g.value(pager, HYDRA.itemsPerPage)) == 2
        )
        assert str(g.value(pager, HYDRA.lastPage)).endswith("per_page=2&page=2")
        batch = set(g.subjects(RDF.type, DCAT.Dataset))
        assert batch and not batch & seen
        seen |= batch
        nxt = g.value(pager, HYDRA.nextPage)
        if pages == 2:
            assert str(g.value(pager, HYDRA.previousPage)).endswith("page=1")
        url = str(nxt).removeprefix(catalogue.url) if nxt is not None else None
    assert pages == 2 and len(seen) == 3


@pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=5000"])
def test_bad_paging_is_a_clear_json_error(catalogue, query):
    resp = catalogue.app.test_client().get(f"/catalog.ttl?{query}")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "invalid_parameter"


def test_one_document_per_dataset(catalogue):
    client = catalogue.app.test_client()
    slug = catalogue.published["health"]["slug"]
    for fmt in FORMATS:
        g = _graph(client, f"/datasets/{slug}/dcat.{fmt}", fmt)
        (ds,) = g.subjects(RDF.type, DCAT.Dataset)
        assert str(ds) == f"{catalogue.url}/datasets/{slug}"
        assert (
            str(g.value(ds, DCTERMS.title))
            == "Barriers to health posts for people with disabilities"
        )
    assert client.get("/datasets/no-such-dataset/dcat.ttl").status_code == 404


@pytest.mark.parametrize(
    "accept, fmt",
    [
        ("text/turtle", "ttl"),
        ("application/ld+json", "jsonld"),
        ("application/rdf+xml", "rdf"),
        ("*/*", "ttl"),
    ],
)
def test_the_catalogue_iri_dereferences_by_content_negotiation(catalogue, accept, fmt):
    resp = catalogue.app.test_client().get("/catalog", headers={"Accept": accept})
    assert resp.status_code == 200
    g = Graph().parse(data=resp.data.decode(), format=FORMATS[fmt])
    assert (None, RDF.type, DCAT.Catalog) in g
    assert "Accept" in [v.strip() for v in resp.headers["Vary"].split(",")]
