"""Federation: harvest a DCAT catalogue of N datasets, then serve it back as DCAT and CKAN.

Figures, each beside its peer measured in the same run:

* harvest (fetch over HTTP on 127.0.0.1, parse, create, index) per dataset,
  beside rdflib parsing the same Turtle alone (the unavoidable part);
* ``/catalog.ttl`` (one page of 100) beside rdflib serialising that page's graph alone;
* CKAN ``package_search`` (rows=100) beside the search backend's own query for the same page.

    .venv/bin/python bench/bench_federation.py [datasets]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rdflib import BNode, Graph, Literal, Namespace, URIRef  # noqa: E402
from rdflib.namespace import DCTERMS, FOAF, RDF  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

from catalog.principal import system  # noqa: E402
from catalog.services import harvest as harvest_service  # noqa: E402
from indexer.harvest import harvest_now  # noqa: E402
from indexer.search.base import SearchQuery  # noqa: E402
from tests.federation.nodes import LiveServer, Node  # noqa: E402

DCAT = Namespace("http://www.w3.org/ns/dcat#")
TOPICS = ["water", "health", "education", "gender", "disability"]


def synthetic_catalogue(n: int) -> bytes:
    g = Graph()
    cat = URIRef("http://example.org/catalog")
    g.add((cat, RDF.type, DCAT.Catalog))
    for i in range(n):
        ds = URIRef(f"http://example.org/dataset/{i}")
        g.add((cat, DCAT.dataset, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCTERMS.identifier, Literal(f"ds-{i}")))
        g.add(
            (
                ds,
                DCTERMS.title,
                Literal(f"Synthetic survey {i} of {TOPICS[i % 5]} access", lang="en"),
            )
        )
        g.add((ds, DCTERMS.description, Literal("Generated for the benchmark. " * 5, lang="en")))
        pub = URIRef(f"http://example.org/org/{i % 20}")
        g.add((pub, FOAF.name, Literal(f"Organisation {i % 20}")))
        g.add((ds, DCTERMS.publisher, pub))
        g.add((ds, DCAT.keyword, Literal(TOPICS[i % 5])))
        g.add((ds, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")))
        dist = BNode()
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCAT.accessURL, URIRef(f"http://example.org/files/{i}.csv")))
        g.add((dist, DCTERMS.format, Literal("CSV")))
        g.add((ds, DCAT.distribution, dist))
    return g.serialize(format="turtle").encode()


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n: int) -> None:
    body = synthetic_catalogue(n)
    source = LiveServer(
        lambda environ, start: Response(body, mimetype="text/turtle")(environ, start)
    )
    root = Path(tempfile.mkdtemp(prefix="bench-federation-"))
    node = Node(root, "bench", HARVEST_ALLOW_PRIVATE=True)
    try:
        with node.runtime.db.session() as s:
            harvest_service.create_source(
                s, system(), name="bench", url=source.url + "/catalog.ttl", kind="dcat"
            )
        start = time.perf_counter()
        result = harvest_now(node.runtime.ctx, "bench")
        harvest_s = time.perf_counter() - start
        assert result["status"] == "succeeded" and result["counts"]["created"] == n, result
        parse_s = best_of(lambda: Graph().parse(data=body.decode(), format="turtle"), 3)
        print(
            f"harvest {n} DCAT datasets: {harvest_s:.2f} s ({1000 * harvest_s / n:.2f} ms/dataset); "
            f"peer rdflib parse alone: {parse_s:.2f} s ({1000 * parse_s / n:.2f} ms/dataset)"
        )

        client = node.app.test_client()
        page = client.get("/catalog.ttl").data.decode()
        graph = Graph().parse(data=page, format="turtle")
        ours = best_of(lambda: client.get("/catalog.ttl"))
        peer = best_of(lambda: graph.serialize(format="turtle"))
        print(
            f"/catalog.ttl page of 100: {1000 * ours:.0f} ms; peer rdflib serialise of the same graph: {1000 * peer:.0f} ms"
        )

        search = node.runtime.search
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            client.get("/api/3/action/package_search?rows=100&q=water")
            runs.append(time.perf_counter() - start)
        backend = best_of(lambda: search.search(SearchQuery(text="water", limit=100)))
        print(
            f"CKAN package_search rows=100: {1000 * min(runs):.0f} ms (median {1000 * statistics.median(runs):.0f}); "
            f"peer search backend query alone: {1000 * backend:.0f} ms"
        )
    finally:
        node.close()
        source.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
