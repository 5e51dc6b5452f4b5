"""The app factory: settings that change how requests are read."""

from __future__ import annotations

from flask import request


def test_forwarded_headers_are_ignored_unless_proxies_are_trusted(make_app):
    for proxies, expect_addr, expect_scheme in (
        (0, "127.0.0.1", "http"),
        (1, "203.0.113.7", "https"),
    ):
        app = make_app(TRUSTED_PROXIES=proxies)

        @app.get("/_whoami")
        def whoami():
            return {"addr": request.remote_addr, "scheme": request.scheme}

        answer = app.test_client().get(
            "/_whoami",
            headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        assert answer.get_json() == {"addr": expect_addr, "scheme": expect_scheme}


def test_a_setting_that_is_not_a_number_stops_start_up_naming_the_variable(tmp_path):
    import pytest

    from portal.config import load_config
    from schema.errors import CGDError

    env = {"CGD_INSTANCE_PATH": str(tmp_path), "CGD_SESSION_IDLE_HOURS": "two days"}
    with pytest.raises(CGDError) as caught:
        load_config(env=env)
    assert caught.value.code == "invalid_config"
    assert "CGD_SESSION_IDLE_HOURS" in caught.value.message and "two days" in caught.value.message
    assert (
        load_config(env={"CGD_INSTANCE_PATH": str(tmp_path), "CGD_MAX_UPLOAD_BYTES": " 1024 "})[
            "MAX_UPLOAD_BYTES"
        ]
        == 1024
    )


def test_cgd_reports_a_bad_setting_in_one_line(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    cgd = Path(sys.executable).with_name("cgd")
    env = {**os.environ, "CGD_INSTANCE_PATH": str(tmp_path), "CGD_MAX_UPLOAD_BYTES": "-5"}
    done = subprocess.run([str(cgd), "init"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "CGD_MAX_UPLOAD_BYTES" in lines[0], done.stderr
