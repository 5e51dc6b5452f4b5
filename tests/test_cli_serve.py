"""`cgd serve` (what `make run` runs) serves the portal, and its links name the port served."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.deploy.servers import free_port, wait_until_up

CGD = str(Path(sys.executable).parent / "cgd")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as res:
        return res.read().decode()


@pytest.mark.parametrize(
    ("base_url", "from_file"),
    [(None, False), ("https://data.example.org", False), ("https://files.example.org", True)],
)
def test_serve_links_name_the_served_address_unless_a_base_url_is_set(
    tmp_path, base_url, from_file
):
    port = free_port()
    env = {**os.environ, "CGD_INSTANCE_PATH": str(tmp_path / "instance")}
    for key in ("CGD_DATABASE_URL", "CGD_REDIS_URL", "CGD_BASE_URL", "CGD_BASE_URL_FILE"):
        env.pop(key, None)
    if base_url and from_file:  # a Docker/Kubernetes secret file, like every CGD_* setting
        (tmp_path / "base_url").write_text(base_url + "\n")
        env["CGD_BASE_URL_FILE"] = str(tmp_path / "base_url")
    elif base_url:
        env["CGD_BASE_URL"] = base_url
    subprocess.run([CGD, "init"], env=env, check=True, capture_output=True, timeout=120)
    proc = subprocess.Popen(
        [CGD, "serve", "--port", str(port), "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        served = f"http://127.0.0.1:{port}"
        wait_until_up(proc, served, "cgd serve")
        for secret_path in ("/account/reset-password/s3cr3t-reset", "/invitations/s3cr3t-invite"):
            # 400 / a redirect to sign-in: not valid links; the point is what the logs keep
            with contextlib.suppress(urllib.error.HTTPError):
                _get(served + secret_path)
        catalogue = _get(f"{served}/catalog.jsonld")
        expected = base_url or served
        assert f"{expected}/catalog" in catalogue
        if base_url:
            assert served not in catalogue
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"public address {expected}" in out
    # Link secrets never reach the access log or the app's request log.
    assert "s3cr3t" not in out
    assert "/account/reset-password/<token>" in out and "/invitations/<token>" in out
