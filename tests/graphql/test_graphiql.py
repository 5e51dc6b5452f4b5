"""GET /graphql serves the vendored GraphiQL: no CDN, no inline script, strict CSP, and it boots."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import requests

from ..conftest import require_service

STATIC = Path(__file__).resolve().parents[2] / "static" / "graphiql"


def test_graphiql_page_has_strict_csp_and_only_local_scripts(corpus_server):
    r = requests.get(f"{corpus_server.url}/graphql", headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", r.text, re.DOTALL)
    assert scripts and all(body.strip() == "" for _attrs, body in scripts)
    sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert sources and all(s.startswith("/static/graphiql/") for s in sources)
    for src in sources:
        asset = requests.get(corpus_server.url + src, timeout=10)
        assert asset.status_code == 200 and len(asset.content) > 50


def test_vendored_files_are_the_npm_packages_files():
    for line in (STATIC / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name
    assert "https://" not in (STATIC / "graphiql.min.css").read_text()


def test_graphiql_boots_in_chromium_and_shows_the_editor(corpus_server, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require_service("Chromium", None if chromium else "no chromium on PATH")
    proc = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=8000",
            "--dump-dom",
            f"{corpus_server.url}/graphql",
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    dom = proc.stdout
    assert 'data-graphiql="booted"' in dom, proc.stderr[-2000:]
    assert "graphiql-container" in dom and "graphiql-editor" in dom
