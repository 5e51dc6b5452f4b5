"""One dataset end to end: CSV -> identifiers dropped -> index -> GraphQL -> pages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.synthetic import demo_metadata, generate_survey
from portal.ingest import ingest_file

from .conftest import app_config


def _publish_demo(runtime, tmp_path, rows=400):
    from catalog.principal import system
    from catalog.services import organisations

    with runtime.db.session() as s:
        organisations.create_organisation(s, system(), slug="samata", name="Samata Collective")
    df = generate_survey(rows, seed=11)
    path = tmp_path / "survey.csv"
    df.write_csv(path)
    result = ingest_file(runtime, path, "samata", demo_metadata(), publish=True)
    return df, result


def test_identifier_columns_never_reach_graphql_pages_or_index(app, runtime, tmp_path):
    df, result = _publish_demo(runtime, tmp_path)
    assert result["status"] == "published"
    names = set(df["respondent_name"].to_list())
    phones = set(df["phone"].to_list())
    client = app.test_client()

    answer = client.post(
        "/graphql",
        json={"query": '{ datasets(query: "water") { totalCount edges { node { title slug recordCount organization { name } } } } }'},
    )
    assert answer.status_code == 200
    data = answer.get_json()["data"]["datasets"]
    assert data["totalCount"] == 1
    node = data["edges"][0]["node"]
    assert node["organization"]["name"] == "Samata Collective"
    assert node["recordCount"] > 0

    pages = [client.get("/").data, client.get("/search?q=water").data, client.get(f"/datasets/{node['slug']}").data]
    assert b"Samata Collective" in pages[2]
    blobs = [answer.data, *pages]
    index_files = list(Path(app.config["INSTANCE_PATH"]).glob("search.sqlite3*"))
    assert index_files
    blobs += [p.read_bytes() for p in index_files]
    for blob in blobs:
        text = blob.decode("utf-8", errors="ignore")
        leaked = [v for v in names | phones if v in text]
        assert not leaked, f"identifiers leaked: {leaked[:3]}"


def test_search_page_lists_and_links_the_dataset(app, runtime, tmp_path):
    _publish_demo(runtime, tmp_path, rows=200)
    client = app.test_client()
    page = client.get("/search?q=sanitation")
    assert page.status_code == 200
    assert b"1 dataset" in page.data
    assert b'href="/datasets/' in page.data
    home = client.get("/")
    assert b"Recently published" in home.data and b"/datasets/" in home.data


def test_security_headers_on_every_page(app):
    resp = app.test_client().get("/")
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"


def _cgd(tmp_path, *args, input_text=None):
    env = {"CGD_INSTANCE_PATH": str(tmp_path / "inst"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args], capture_output=True, text=True, env=env,
        input=input_text, timeout=120, cwd=Path(__file__).parent.parent,
    )


def _catalogue_counts(tmp_path):
    import sqlite3

    con = sqlite3.connect(tmp_path / "inst" / "catalog.sqlite3")
    try:
        return tuple(con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("datasets", "dataset_versions", "jobs"))
    finally:
        con.close()


@pytest.fixture
def cli_instance(tmp_path):
    assert _cgd(tmp_path, "init").returncode == 0
    assert _cgd(tmp_path, "orgs", "create", "samata", "--name", "Samata").returncode == 0
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps(demo_metadata()))
    data = tmp_path / "survey.csv"
    generate_survey(60, seed=3).write_csv(data)
    return meta, data


@pytest.mark.parametrize(
    "case, expect",
    [
        ("missing_file", "no such file"),
        ("binary_csv", "survey.csv"),
        ("unknown_org", "nobody"),
        ("no_title", "title"),
    ],
)
def test_bad_ingest_exits_nonzero_with_one_line_and_changes_nothing(tmp_path, cli_instance, case, expect):
    meta, data = cli_instance
    before = _catalogue_counts(tmp_path)
    org = "samata"
    if case == "missing_file":
        data = tmp_path / "nope.csv"
    elif case == "binary_csv":
        data.write_bytes(bytes(range(256)) * 64)
    elif case == "unknown_org":
        org = "nobody"
    elif case == "no_title":
        m = json.loads(meta.read_text())
        del m["title"]
        meta.write_text(json.dumps(m))
    proc = _cgd(tmp_path, "ingest", str(data), "--org", org, "--metadata", str(meta), "--publish")
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert expect in lines[0]
    assert _catalogue_counts(tmp_path) == before


def test_cli_ingest_publishes(tmp_path, cli_instance):
    meta, data = cli_instance
    proc = _cgd(tmp_path, "ingest", str(data), "--org", "samata", "--metadata", str(meta), "--publish")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["status"] == "published"
    assert _catalogue_counts(tmp_path)[0] == 1


def test_app_config_reads_environment(tmp_path, monkeypatch):
    from portal.config import load_config

    monkeypatch.setenv("CGD_INSTANCE_PATH", str(tmp_path / "x"))
    monkeypatch.setenv("CGD_SEARCH_BACKEND", "embedded")
    cfg = load_config()
    assert cfg["DATABASE_URL"].endswith("x/catalog.sqlite3")
    key = (tmp_path / "x" / "secret_key").read_text()
    assert cfg["SECRET_KEY"] == key and len(key) == 64
    assert load_config()["SECRET_KEY"] == key
    assert app_config(tmp_path)["SEARCH_BACKEND"] == "embedded"
