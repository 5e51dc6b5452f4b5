"""``cgd harvest``: add a source, run it, list it; refusals exit non-zero with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _cgd(tmp_path, *args, allow_private: bool):
    env = {
        "CGD_INSTANCE_PATH": str(tmp_path / "cli-instance"),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CGD_HARVEST_ALLOW_PRIVATE": "true" if allow_private else "false",
    }
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=REPO,
    )


def test_cli_adds_runs_and_lists_a_source_and_refuses_loopback_without_the_allow_setting(
    tmp_path, catalogue
):
    url = f"{catalogue.url}/catalog.jsonld"
    added = _cgd(tmp_path, "harvest", "add", "peer", url, "--kind", "dcat", allow_private=True)
    assert added.returncode == 0, added.stderr
    run = _cgd(tmp_path, "harvest", "run", "peer", allow_private=True)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["status"] == "succeeded" and report["counts"]["created"] == 3

    refused = _cgd(tmp_path, "harvest", "run", "peer", allow_private=False)
    assert refused.returncode != 0
    report = json.loads(refused.stdout.strip().splitlines()[-1])
    assert report["status"] == "failed" and report["error"]["code"] == "harvest_address_refused"
    assert refused.stderr.strip().splitlines() == ["error: a harvest failed (see its report)"]

    listed = _cgd(tmp_path, "harvest", "list", allow_private=True)
    assert listed.stdout.startswith("peer\tdcat\t") and "failed" in listed.stdout
