"""The leak test, end to end: a Kobo-style survey with seeded names, phones, emails,
ID numbers, GPS and testimonies quoting them is uploaded, approved and published
with the defaults; then every public surface the app has is read as an anonymous
visitor and none of the seeded strings may appear.

Surfaces are found, not listed: every GET route in the app's ``url_map`` is
requested with every value its arguments can take (dataset slug or id, version
and job ids, topic codes, each ``any(...)`` choice), so a surface wired later is
covered without touching this test. GraphQL is walked the same way, from its
introspection: every root field, every field below it. The search index files
are read byte by byte and table by table.
"""

from __future__ import annotations

import contextlib
import html
import io
import itertools
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
from werkzeug.routing import AnyConverter

from tests.conftest import app_config
from tests.disclosure.published import approve_and_publish, upload_survey

#: route argument names that take a dataset (slug or id) or an organisation slug
_DATASET_ARGS = {"slug", "ref", "dataset", "dataset_slug", "dataset_id", "id", "org", "org_slug"}
_QUERY = "id={slug}&q=water&hxl=1&lang=ne&rows=1000&limit=1000"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from portal.app import create_app

    tmp = tmp_path_factory.mktemp("leak")
    app = create_app(app_config(tmp), start_jobs=False)
    runtime = app.extensions["cgd"]
    baseline = _site_text(app.test_client(), _walk_static(app))
    up = upload_survey(runtime, rows=300, seed=23)
    assert up["job_status"] == "succeeded", up["job_error"]
    assert approve_and_publish(runtime, up["version_id"]) == "published"
    with runtime.db.session() as s:
        from catalog.models import Job

        job_ids = [j.id for j in s.query(Job).all()]
        from catalog.services import datasets

        version = datasets.get_version(s, up["version_id"])
        topics = list(version.metadata_.get("topics") or [])
        dims = [n for n, c in version.columns.items() if c.get("role") == "dimension"]
        number = version.number
    values = {
        "dataset": [up["slug"], up["dataset_id"], "samata"],
        "version_id": [up["version_id"]],
        "number": [number],
        "job_id": job_ids,
        "code": topics,
    }
    bodies, visited, unvisited = _walk_routes(app, values, up["slug"])
    bodies.update(_walk_graphql(app.test_client(), up["slug"], dims))
    bodies.update(_index_files(Path(app.config["INSTANCE_PATH"]), app.config.get("SEARCH_PATH")))
    yield {
        "bodies": bodies,
        "visited": visited,
        "unvisited": unvisited,
        "seeded": up["seeded"],
        "baseline": baseline,
        "slug": up["slug"],
    }
    runtime.close()


# -- walking the HTTP surfaces ---------------------------------------------------------


def _ckan_actions() -> list[str]:
    try:
        from api.federation.ckan import ACTIONS
    except ImportError:
        return ["package_search", "package_show", "package_list", "organization_list"]
    return sorted(ACTIONS)


def _arg_values(rule, name: str, values: dict) -> list[str] | None:
    converter = rule._converters.get(name)
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)
    if name in _DATASET_ARGS:
        return values["dataset"]
    if name in ("version_id", "version"):
        return values["version_id"]
    if name in ("number", "version_number"):
        return values["number"]
    if name == "job_id":
        return values["job_id"]
    if name in ("code", "topic"):
        return values["code"]
    if name == "name" and "action" in rule.rule:
        return _ckan_actions()
    return None


def _get_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and rule.endpoint != "static":
            yield rule


def _walk_static(app) -> list[str]:
    return [r.rule for r in _get_rules(app) if not r.arguments]


def _walk_routes(app, values: dict, slug: str):
    """GET every route with every value of its arguments. For the dataset argument the
    candidates (slug, id, organisation slug) are tried until one answers 200; routes
    without a path argument (search, CKAN actions, catalogues) also get a query string."""
    client = app.test_client()
    bodies: dict[str, str] = {}
    visited: dict[str, list[tuple[str, int]]] = {}
    unvisited: list[str] = []
    for rule in _get_rules(app):
        names = sorted(rule.arguments)
        choices = {n: _arg_values(rule, n, values) for n in names}
        if any(c is None for c in choices.values()):
            unvisited.append(rule.rule)
            continue
        dataset_args = [n for n in names if n in _DATASET_ARGS and n not in _any_args(rule)]
        others = [n for n in names if n not in dataset_args]
        for combo in itertools.product(*(choices[n] for n in others)):
            for candidate in values["dataset"] if dataset_args else [None]:
                args = dict(zip(others, combo, strict=True))
                args.update(dict.fromkeys(dataset_args, candidate))
                path = rule.build(args, append_unknown=False)[1]
                urls = [path]
                if set(names) <= {"name"}:
                    urls.append(f"{path}?{_QUERY.format(slug=slug)}")
                statuses = []
                for url in urls:
                    response = client.get(url)
                    statuses.append(response.status_code)
                    visited.setdefault(rule.rule, []).append((url, response.status_code))
                    bodies[f"GET {url}"] = _text_of(response.data, response.mimetype)
                if 200 in statuses:
                    break
    return bodies, visited, unvisited


def _any_args(rule) -> set[str]:
    return {n for n, c in rule._converters.items() if isinstance(c, AnyConverter)}


def _site_text(client, paths: list[str]) -> str:
    return "\n".join(_text_of(client.get(p).data, client.get(p).mimetype) for p in paths)


def _text_of(data: bytes, mimetype: str | None = None) -> str:
    """Everything a reader of the body could see: decoded, unescaped, unzipped, PDF text."""
    # compressed bodies are read through their format only: their raw bytes are
    # noise in which any short word can appear by chance
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(_text_of(archive.read(m), None) for m in archive.namelist())
    if data[:5] == b"%PDF-":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        parts = [page.extract_text() or "" for page in reader.pages]
        parts.append(json.dumps(reader.metadata or {}, default=str))
        return "\n".join(parts)
    parts = [data.decode("utf-8", errors="ignore")]
    with contextlib.suppress(ValueError):
        parts.append(json.dumps(json.loads(parts[0]), ensure_ascii=False))
    parts.append(html.unescape(parts[0]))
    return "\n".join(parts)


# -- walking GraphQL from its introspection ----------------------------------------------

_INTROSPECTION = """
query {
  __schema {
    queryType { name }
    types { name kind fields { name args { name type { ...T } } type { ...T } } }
  }
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
"""


def _unwrap(t: dict) -> tuple[dict, bool]:
    required = t["kind"] == "NON_NULL"
    while t.get("ofType"):
        t = t["ofType"]
    return t, required


def _selection(types: dict, name: str, path: tuple[str, ...], depth: int) -> str:
    kind = types[name]["kind"]
    if kind in ("SCALAR", "ENUM"):
        return ""
    if kind != "OBJECT" or depth > 7:
        return "{ __typename }"
    fields = []
    for field in types[name]["fields"] or []:
        if any(_unwrap(a["type"])[1] for a in field["args"]):
            continue
        inner, _ = _unwrap(field["type"])
        if inner["name"] in path:  # no cycles (dataset -> organisation -> datasets ...)
            continue
        sub = _selection(types, inner["name"], (*path, inner["name"]), depth + 1)
        # nested pages kept small so the query stays within the cost limit
        page = "(first: 5)" if any(a["name"] == "first" for a in field["args"]) else ""
        fields.append(f"{field['name']}{page} {sub}".strip())
    return "{ " + (" ".join(fields) or "__typename") + " }"


def _root_arguments(field: dict, slug: str, dims: list[str], global_id: str) -> str | None:
    out = []
    names = {a["name"] for a in field["args"]}
    # one way of naming the dataset: the slug where the field takes one, else the id
    ref = next((n for n in ("slug", "dataset", "ref", "id") if n in names), None)
    for arg in field["args"]:
        inner, required = _unwrap(arg["type"])
        name = arg["name"]
        if name == ref and inner["name"] in ("String", "ID"):
            out.append(f'{name}: "{global_id if inner["name"] == "ID" else slug}"')
        elif name == "by":
            out.append(f"by: {json.dumps(dims[:2])}")
        elif name == "first" and inner["name"] == "Int":
            out.append("first: 100")
        elif name == "query" and inner["name"] == "String":
            out.append('query: ""')
        elif required:
            return None
    return "(" + ", ".join(out) + ")" if out else ""


def _walk_graphql(client, slug: str, dims: list[str]) -> dict[str, str]:
    answer = client.post("/graphql", json={"query": _INTROSPECTION})
    assert answer.status_code == 200, answer.data[:500]
    schema = answer.get_json()["data"]["__schema"]
    types = {t["name"]: t for t in schema["types"]}
    root = types[schema["queryType"]["name"]]
    listing = client.post(
        "/graphql", json={"query": "{ datasets(first: 1) { edges { node { id } } } }"}
    ).get_json()
    global_id = listing["data"]["datasets"]["edges"][0]["node"]["id"]
    bodies = {}
    for field in root["fields"]:
        args = _root_arguments(field, slug, dims, global_id)
        if args is None or field["name"].startswith("__"):
            continue
        inner, _ = _unwrap(field["type"])
        query = (
            f"{{ {field['name']}{args} {_selection(types, inner['name'], (inner['name'],), 1)} }}"
        )
        response = client.post("/graphql", json={"query": query})
        bodies[f"graphql {field['name']}"] = _text_of(response.data, response.mimetype)
    return bodies


# -- the search index files --------------------------------------------------------------


def _index_files(instance: Path, search_path: str | None) -> dict[str, str]:
    out = {}
    files = set(instance.glob("search.sqlite3*"))
    if search_path:
        files |= set(Path(search_path).parent.glob(Path(search_path).name + "*"))
    assert files, "no search index files found"
    for path in sorted(files):
        out[f"file {path.name}"] = path.read_bytes().decode("utf-8", errors="ignore")
        if path.suffix in ("", ".sqlite3") and path.name.endswith("sqlite3"):
            out[f"tables {path.name}"] = _sqlite_text(path)
    return out


def _sqlite_text(path: Path) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        parts = []
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            try:
                rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
            except sqlite3.DatabaseError:
                continue
            for row in rows:
                parts.extend(v for v in row if isinstance(v, str))
        return "\n".join(parts)
    finally:
        con.close()


# -- the attacks ------------------------------------------------------------------------


def test_every_get_route_taking_a_dataset_is_visited_and_answers(site):
    unvisited = [
        r for r in site["unvisited"] if set(re.findall(r"<(?:\w+:)?(\w+)>", r)) & _DATASET_ARGS
    ]
    assert not unvisited, unvisited
    dataset_routes = {
        rule: hits for rule, hits in site["visited"].items() if rule.startswith("/datasets/<")
    }
    assert "/datasets/<slug>" in dataset_routes
    for rule, hits in dataset_routes.items():
        assert any(status == 200 for _, status in hits), (rule, hits)
    errors = [
        (url, status) for hits in site["visited"].values() for url, status in hits if status >= 500
    ]
    assert not errors, errors


def test_graphql_queries_over_the_dataset_answer_with_data(site):
    for field in ("datasets", "dataset", "records", "aggregate"):
        body = site["bodies"].get(f"graphql {field}")
        assert body is not None, (
            field,
            sorted(k for k in site["bodies"] if k.startswith("graphql")),
        )
        answer = json.loads(body.split("\n", 1)[0])
        assert not answer.get("errors") and answer["data"][field], (field, body[:300])


def test_published_free_text_was_read_on_the_public_surfaces(site):
    # the walk is not vacuous: the scrubbed testimonies are public and were read
    seen = [
        where for where, text in site["bodies"].items() if "[NAME]" in text or "[PHONE]" in text
    ]
    assert any(w.startswith("graphql") or w.startswith("GET") for w in seen), sorted(
        site["bodies"]
    )[:20]
    assert any(w.startswith("tables") for w in seen)


def _any_word(values) -> re.Pattern:
    alternation = "|".join(re.escape(v) for v in sorted(set(values), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)


def test_no_seeded_name_phone_email_id_or_gps_appears_anywhere_public(site):
    seeded = [v.lower() for v in site["seeded"].strings()]
    for where, text in site["bodies"].items():
        lowered = text.lower()
        leaked = [v for v in seeded if v in lowered]
        assert not leaked, (where, leaked[:3])


def test_no_phone_number_appears_in_any_format(site):
    for where, text in site["bodies"].items():
        digits = re.sub(r"[\s\-+().]", "", text)
        leaked = [p for p in site["seeded"].phones if p in digits]
        assert not leaked, (where, leaked[:3])


def test_no_part_of_a_seeded_name_appears_beyond_the_sites_own_words(site):
    # A surname that is also a word of the site itself (an ethnic group in the
    # vocabulary pages, say) cannot be told apart; every other part must be absent.
    baseline = site["baseline"].lower()
    parts = [
        p
        for p in site["seeded"].name_parts()
        if not re.search(rf"(?<!\w){re.escape(p.lower())}(?!\w)", baseline)
    ]
    assert len(parts) > len(site["seeded"].name_parts()) // 2
    pattern = _any_word(parts)
    for where, text in site["bodies"].items():
        if where.startswith("file "):
            continue  # raw bytes: checked for whole values above, tables checked here
        leaked = pattern.findall(text)
        assert not leaked, (where, leaked[:5])
