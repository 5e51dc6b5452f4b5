"""GraphQL benchmark, two figures, each beside its peer measured in the same run.

1. Answer time for 1,000 anonymised records: ten ``records(first: 100)`` pages
   through the whole endpoint (parse cache, limits, points, execution, JSON),
   beside ``json.dumps`` of the same 1,000 rows (and beside reading them from
   the store plus ``json.dumps``, for what the store itself costs).
2. HTTP throughput of a small query (five dataset titles) beside a plain Flask
   JSON route that makes the same search call and returns the same JSON, both
   served by the same gunicorn (2 sync workers) in the same run.

Run: .venv/bin/python bench/bench_graphql.py [--seconds 6] [--clients 4]
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SMALL_QUERY = "{ datasets(first: 5, orderBy: TITLE) { totalCount edges { node { slug title } } } }"
RECORDS_QUERY = """query($d: String!, $after: String) { records(dataset: $d, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor } rows } }"""


def bench_config(instance: str) -> dict:
    return {
        "INSTANCE_PATH": instance,
        "JOB_RUNNER_OVERRIDE": "inline",
        "RATELIMIT_ENABLED": True,
        "GRAPHQL_POINTS_ANONYMOUS": 10**9,
        "LOG_LEVEL": "WARNING",
    }


def wsgi_app():
    """The portal plus ``/bench/plain``: the gunicorn entry point (``bench_graphql:wsgi_app()``)."""
    from flask import jsonify, request

    from api.context import runtime
    from indexer.search.base import SearchQuery
    from portal.app import create_app, csrf

    app = create_app(bench_config(os.environ["CGD_INSTANCE_PATH"]), start_jobs=False)

    @app.route("/bench/plain", methods=["GET", "POST"])
    def plain():
        request.get_json(silent=True)  # read the same body as GraphQL is sent, for a fair peer
        result = runtime().search.search(SearchQuery(limit=5, sort="title").validated())
        return jsonify(
            {
                "data": {
                    "datasets": {
                        "totalCount": result.total,
                        "edges": [
                            {"node": {"slug": h.doc["slug"], "title": h.doc["title"].get("en")}}
                            for h in result.hits
                        ],
                    }
                }
            }
        )

    @app.get("/bench/records/<dataset_id>")
    def plain_records(dataset_id: str):
        page = runtime().search.records(
            dataset_id, filters={}, limit=100, after=request.args.get("after")
        )
        return jsonify({"rows": page.rows, "endCursor": page.next_cursor})

    csrf.exempt(plain)  # like /graphql: a JSON API, no cookie form
    return app


def prepare(instance: Path) -> str:
    """One organisation, one published survey of 1,200 households; returns its slug."""
    from catalog.principal import system
    from catalog.services import organisations
    from indexer.synthetic import demo_metadata, generate_survey
    from portal.app import create_app
    from portal.ingest import ingest_file

    app = create_app(bench_config(str(instance)), start_jobs=False)
    rt = app.extensions["cgd"]
    with rt.db.session() as s:
        organisations.create_organisation(s, system(), slug="samata", name="Samata Collective")
    path = instance / "survey.csv"
    generate_survey(1200, seed=3).write_csv(path)
    slug = ingest_file(rt, path, "samata", demo_metadata(), publish=True)["slug"]
    for i in range(5):
        meta = demo_metadata()
        meta["title"] = {"en": f"Small survey {i}"}
        small = instance / f"small{i}.csv"
        generate_survey(60, seed=20 + i).write_csv(small)
        ingest_file(rt, small, "samata", meta, publish=True)
    rt.close()
    return slug


def records_figure(instance: Path, slug: str, repeats: int) -> dict:
    from werkzeug.test import EnvironBuilder

    os.environ["CGD_INSTANCE_PATH"] = str(instance)
    app = wsgi_app()
    rt = app.extensions["cgd"]
    client = app.test_client()

    # One untimed pass collects the ten cursors, so that the timed passes send the same
    # ten requests and do not parse the answers (the peer does not parse either).
    rows, cursors, after = [], [], None
    while len(rows) < 1000:
        cursors.append(after)
        body = client.post(
            "/graphql", json={"query": RECORDS_QUERY, "variables": {"d": slug, "after": after}}
        )
        page = json.loads(body.data)["data"]["records"]
        rows.extend(page["rows"])
        after = page["pageInfo"]["endCursor"]
    rows = rows[:1000]
    with rt.db.session() as s:
        from catalog.services import datasets

        dataset_id = datasets.get_dataset(s, slug).id

    # The requests are built once: the timed part is the server answering them (the
    # app's WSGI call and reading its body), not the test client building requests.
    def environ(path: str, **kw) -> tuple[dict, bytes]:
        env = EnvironBuilder(path=path, **kw).get_environ()
        return env, env["wsgi.input"].read()

    graphql_requests = [
        environ(
            "/graphql",
            method="POST",
            json={"query": RECORDS_QUERY, "variables": {"d": slug, "after": c}},
        )
        for c in cursors
    ]

    def answer(prepared: list[tuple[dict, bytes]]) -> int:
        size = 0
        for env, body in prepared:
            env = {**env, "wsgi.input": io.BytesIO(body)}
            status: list[str] = []
            chunks = app.wsgi_app(env, functools.partial(_start_response, status))
            size += sum(len(c) for c in chunks)
            assert status[0].startswith("200"), status
        return size

    def via_graphql() -> int:
        return answer(graphql_requests)

    def store_plus_dumps() -> str:
        out, after = [], None
        while len(out) < 1000:
            page = rt.search.records(dataset_id, filters={}, limit=100, after=after)
            out.extend(page.rows)
            after = page.next_cursor
        return json.dumps(out[:1000])

    plain_requests = [
        environ(f"/bench/records/{dataset_id}", query_string={"after": c} if c else {})
        for c in cursors
    ]

    def via_plain_route() -> int:
        return answer(plain_requests)

    timings: dict[str, list[float]] = {
        "graphql": [],
        "dumps": [],
        "store_dumps": [],
        "plain_route": [],
    }
    runs = {
        "graphql": via_graphql,
        "dumps": lambda: json.dumps(rows),
        "store_dumps": store_plus_dumps,
        "plain_route": via_plain_route,
    }
    for _ in range(repeats):  # interleaved, so load on the shared machine hits all three alike
        for name, fn in runs.items():
            t = time.perf_counter()
            fn()
            timings[name].append(time.perf_counter() - t)
    small = {
        "small_graphql": [environ("/graphql", method="POST", json={"query": SMALL_QUERY})] * 50,
        "small_plain": [environ("/bench/plain", method="POST", json={"query": SMALL_QUERY})] * 50,
    }
    for _ in range(repeats):
        for name, prepared in small.items():
            t = time.perf_counter()
            answer(prepared)
            timings.setdefault(name, []).append((time.perf_counter() - t) / len(prepared))
    rt.close()
    return {**{k: statistics.median(v) for k, v in timings.items()}, "rows": len(rows)}


def _start_response(seen: list[str], status: str, headers, exc_info=None) -> None:
    seen.append(status)


def load(url: str, body: dict | None, seconds: float, clients: int) -> float:
    """Requests per second from ``clients`` threads for ``seconds`` (after a short warm-up)."""
    import requests

    stop = time.perf_counter() + 1.0 + seconds
    start_counting = time.perf_counter() + 1.0
    counts = [0] * clients
    failures = [0] * clients

    def worker(i: int) -> None:
        session = requests.Session()
        while (now := time.perf_counter()) < stop:
            if body is None:
                r = session.get(url, timeout=10)
            else:
                r = session.post(url, json=body, timeout=10)
            if r.status_code != 200:
                failures[i] += 1
            elif now >= start_counting:
                counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if sum(failures):
        raise SystemExit(f"{sum(failures)} failed requests to {url}")
    return sum(counts) / seconds


def throughput_figure(instance: Path, seconds: float, clients: int) -> dict:
    import requests

    port = 18000 + os.getpid() % 1000
    env = {**os.environ, "CGD_INSTANCE_PATH": str(instance)}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--pythonpath",
            f"{ROOT},{ROOT / 'bench'}",
            "bench_graphql:wsgi_app()",
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/bench/plain", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        graphql_answer = requests.post(
            f"{base}/graphql", json={"query": SMALL_QUERY}, timeout=5
        ).json()
        plain_answer = requests.get(f"{base}/bench/plain", timeout=5).json()
        assert graphql_answer == plain_answer, (graphql_answer, plain_answer)
        figures = {"graphql": [], "plain": []}
        for _ in range(2):  # alternate, so drift on the shared machine hits both alike
            figures["plain"].append(
                load(f"{base}/bench/plain", {"query": SMALL_QUERY}, seconds, clients)
            )
            figures["graphql"].append(
                load(f"{base}/graphql", {"query": SMALL_QUERY}, seconds, clients)
            )
        return {k: statistics.mean(v) for k, v in figures.items()}
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-graphql-") as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        slug = prepare(instance)
        rec = records_figure(instance, slug, args.repeats)
        print(f"1,000 records: GraphQL (10 pages of 100) {rec['graphql'] * 1000:.1f} ms")
        print(
            f"               json.dumps of the same rows {rec['dumps'] * 1000:.1f} ms"
            f"  -> {rec['graphql'] / rec['dumps']:.1f}x (goal <= 3x)"
        )
        print(
            f"               store read + json.dumps   {rec['store_dumps'] * 1000:.1f} ms"
            f"  -> {rec['graphql'] / rec['store_dumps']:.1f}x"
        )
        print(
            f"               plain Flask route, 10 pages  {rec['plain_route'] * 1000:.1f} ms"
            f"  -> {rec['graphql'] / rec['plain_route']:.1f}x"
        )
        print(
            f"small query, server answer: GraphQL {rec['small_graphql'] * 1000:.2f} ms, "
            f"plain route {rec['small_plain'] * 1000:.2f} ms -> "
            f"{rec['small_plain'] / rec['small_graphql']:.2f}x the plain route's rate"
        )
        tp = throughput_figure(instance, args.seconds, args.clients)
        print(
            f"HTTP, gunicorn 2 workers, {args.clients} clients: small GraphQL query {tp['graphql']:.0f} req/s"
        )
        print(
            f"               plain Flask JSON route, same answer {tp['plain']:.0f} req/s"
            f"  -> {tp['graphql'] / tp['plain']:.2f}x (goal >= 0.5x)"
        )


if __name__ == "__main__":
    main()
