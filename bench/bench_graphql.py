"""GraphQL benchmark, two figures, each beside its peer measured in the same run.

1. Answer time for 1,000 anonymised records. ``records`` pages hold at most 100
   rows (``first`` <= 100), so 1,000 records are ten requests; the bench says
   both the ten-page walk and one page:

   * the ten ``records(first: 100)`` requests through the whole portal (its
     request hooks, parse cache, limits, points, execution, JSON) beside
     ``json.dumps`` of the same 1,000 rows (the issue's figure, goal <= 3x);
   * one page of 100 through the portal beside ``json.dumps`` of its 100 rows;
   * where the time goes: the GraphQL endpoint alone (no portal request
     hooks) beside reading the same pages from the store plus ``json.dumps``
     (what GraphQL adds to the data it serves), and a plain Flask route that
     reads the same pages from the store (the same portal hooks, no GraphQL).
2. HTTP throughput of a small query (five dataset titles) beside a plain Flask
   JSON route that makes the same search call and returns the same JSON, both
   served by the same gunicorn (2 sync workers) in the same run. The machine is
   shared, so the two are measured in short alternating rounds (the order
   flipping each round) and the ratio is the median of the rounds' ratios,
   printed with its range.

Run: .venv/bin/python bench/bench_graphql.py [--seconds 2] [--rounds 6] [--clients 4]
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
    from flask import Response, request

    from api.context import runtime
    from indexer.search.base import SearchQuery
    from portal.app import create_app, csrf

    app = create_app(bench_config(os.environ["CGD_INSTANCE_PATH"]), start_jobs=False)

    def as_json(body) -> Response:
        # Encoded as the GraphQL view encodes its answers (Flask's jsonify sorts keys, which
        # would make the peer slower than it need be).
        return Response(
            json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            mimetype="application/json",
        )

    @app.route("/bench/plain", methods=["GET", "POST"])
    def plain():
        request.get_json(silent=True)  # read the same body as GraphQL is sent, for a fair peer
        result = runtime().search.search(SearchQuery(limit=5, sort="title").validated())
        return as_json(
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
        return as_json({"rows": page.rows, "endCursor": page.next_cursor})

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

    from api.graphql.execution import Caller
    from api.graphql.view import _answer, endpoint_of
    from catalog.principal import ANONYMOUS

    endpoint = endpoint_of(app)
    caller = Caller(runtime=rt, principal=ANONYMOUS, address="127.0.0.1", base_url="http://b/")
    operations = [{"query": RECORDS_QUERY, "variables": {"d": slug, "after": c}} for c in cursors]

    def via_endpoint() -> int:
        # The GraphQL endpoint and the view's JSON answer, without the portal's request hooks.
        with app.app_context():
            return sum(len(_answer(endpoint.run(op, caller)).get_data()) for op in operations)

    def store_pages_plus_dumps() -> int:
        # The same ten reads from the store, each page dumped as its own answer.
        return sum(
            len(json.dumps(rt.search.records(dataset_id, filters={}, limit=100, after=c).rows))
            for c in cursors
        )

    timings: dict[str, list[float]] = {}
    runs = {
        "graphql": via_graphql,
        "dumps": lambda: json.dumps(rows),
        "store_dumps": store_plus_dumps,
        "plain_route": via_plain_route,
        "endpoint": via_endpoint,
        "store_pages_dumps": store_pages_plus_dumps,
    }
    pages = [rows[i : i + 100] for i in range(0, len(rows), 100)]
    per_page: dict[str, list[float]] = {"graphql_page": [], "dumps_page": []}
    for _ in range(repeats):  # interleaved, so load on the shared machine hits all alike
        for name, fn in runs.items():
            t = time.perf_counter()
            fn()
            timings.setdefault(name, []).append(time.perf_counter() - t)
        for request, page in zip(graphql_requests, pages, strict=True):
            t = time.perf_counter()
            answer([request])
            per_page["graphql_page"].append(time.perf_counter() - t)
            t = time.perf_counter()
            json.dumps(page)
            per_page["dumps_page"].append(time.perf_counter() - t)
    timings.update(per_page)
    # The machine is shared: a figure and its peer measured back to back make a pair, and a
    # ratio is the median of its pairs' ratios (a burst of load elsewhere hits one pair only).
    pairs = {
        "walk_vs_dumps": ("graphql", "dumps"),
        "page_vs_dumps": ("graphql_page", "dumps_page"),
        "store_vs_dumps": ("store_dumps", "dumps"),
        "endpoint_vs_store": ("endpoint", "store_pages_dumps"),
        "walk_vs_plain": ("graphql", "plain_route"),
    }
    ratios = {
        name: statistics.median(a / b for a, b in zip(timings[x], timings[y], strict=True))
        for name, (x, y) in pairs.items()
    }
    small = {
        "small_graphql": [environ("/graphql", method="POST", json={"query": SMALL_QUERY})] * 50,
        "small_plain": [environ("/bench/plain", method="POST", json={"query": SMALL_QUERY})] * 50,
    }
    for _ in range(repeats):
        for name, prepared in small.items():
            t = time.perf_counter()
            answer(prepared)
            timings.setdefault(name, []).append((time.perf_counter() - t) / len(prepared))
    ratios["small_rate"] = statistics.median(
        p / g for g, p in zip(timings["small_graphql"], timings["small_plain"], strict=True)
    )
    rt.close()
    return {
        **{k: statistics.median(v) for k, v in timings.items()},
        "ratios": ratios,
        "rows": len(rows),
    }


def _start_response(seen: list[str], status: str, headers, exc_info=None) -> None:
    seen.append(status)


def load(url: str, body: dict | None, seconds: float, clients: int, warmup: float = 0.3) -> float:
    """Requests per second from ``clients`` threads for ``seconds`` (after ``warmup``)."""
    import requests

    start_counting = time.perf_counter() + warmup
    stop = start_counting + seconds
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


def throughput_figure(instance: Path, seconds: float, rounds: int, clients: int) -> dict:
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
        routes = {
            "plain": f"{base}/bench/plain",
            "graphql": f"{base}/graphql",
        }
        for url in routes.values():  # every worker warm on both routes before counting
            load(url, {"query": SMALL_QUERY}, 1.0, clients, warmup=0.5)
        figures: dict[str, list[float]] = {"graphql": [], "plain": []}
        for i in range(rounds):  # alternating, the order flipped each round: drift hits both
            order = ("plain", "graphql") if i % 2 == 0 else ("graphql", "plain")
            for name in order:
                figures[name].append(load(routes[name], {"query": SMALL_QUERY}, seconds, clients))
        ratios = [g / p for g, p in zip(figures["graphql"], figures["plain"], strict=True)]
        return {
            "graphql": statistics.median(figures["graphql"]),
            "plain": statistics.median(figures["plain"]),
            "ratio": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "rounds": rounds,
        }
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds per route")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-graphql-") as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        slug = prepare(instance)
        rec = records_figure(instance, slug, args.repeats)
        ms = {k: v * 1000 for k, v in rec.items() if isinstance(v, float)}
        r = rec["ratios"]
        print("1,000 records (records pages hold at most 100, so ten requests);")
        print("median times, ratios the median of back-to-back pairs:")
        print(f"  GraphQL, 10 pages through the portal   {ms['graphql']:7.1f} ms")
        print(
            f"  json.dumps of the same 1,000 rows      {ms['dumps']:7.1f} ms"
            f"  -> {r['walk_vs_dumps']:.1f}x (goal <= 3x)"
        )
        print(
            f"  one page of 100: GraphQL {ms['graphql_page']:.2f} ms, json.dumps of its rows"
            f" {ms['dumps_page']:.2f} ms -> {r['page_vs_dumps']:.1f}x"
        )
        print("  where the time goes (same ten pages):")
        print(
            f"    store read + json.dumps              {ms['store_dumps']:7.1f} ms"
            f"  -> {r['store_vs_dumps']:.1f}x json.dumps alone (the store's part)"
        )
        print(
            f"    GraphQL endpoint alone (no portal request hooks) {ms['endpoint']:.1f} ms"
            f" beside store read + json.dumps per page {ms['store_pages_dumps']:.1f} ms"
            f" -> {r['endpoint_vs_store']:.2f}x (what GraphQL adds)"
        )
        print(
            f"    plain Flask route, same pages, same portal {ms['plain_route']:.1f} ms"
            f" -> GraphQL {r['walk_vs_plain']:.2f}x its time"
        )
        print(
            f"small query, server answer: GraphQL {ms['small_graphql']:.2f} ms, "
            f"plain route {ms['small_plain']:.2f} ms -> "
            f"{r['small_rate']:.2f}x the plain route's rate"
        )
        tp = throughput_figure(instance, args.seconds, args.rounds, args.clients)
        print(
            f"HTTP, gunicorn 2 sync workers, {args.clients} clients, {tp['rounds']} alternating"
            f" rounds of {args.seconds:g} s per route:"
        )
        print(f"  small GraphQL query                   {tp['graphql']:5.0f} req/s (median round)")
        print(
            f"  plain Flask JSON route, same answer   {tp['plain']:5.0f} req/s"
            f"  -> {tp['ratio']:.2f}x (median of rounds, range {tp['ratio_min']:.2f}-"
            f"{tp['ratio_max']:.2f}; goal >= 0.5x)"
        )


if __name__ == "__main__":
    main()
