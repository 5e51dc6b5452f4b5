"""The app factory: settings that change how requests are read."""

from __future__ import annotations

from flask import request


def test_forwarded_headers_are_ignored_unless_proxies_are_trusted(make_app):
    for proxies, expect_addr, expect_scheme in ((0, "127.0.0.1", "http"), (1, "203.0.113.7", "https")):
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
