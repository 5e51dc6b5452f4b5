"""What an error response must never show: stack traces, code paths, connection strings, secrets."""

from __future__ import annotations

import re

MARKERS = re.compile(
    r"Traceback \(most recent call last\)|File \"/|\.py\", line \d+|sqlalchemy\.|sqlite3\.|"
    r"OperationalError|ProgrammingError|IntegrityError|psycopg|postgresql(\+psycopg)?://|sqlite:///|"
    r"redis://|/work/main|site-packages|werkzeug\.exceptions|KeyError|TypeError|AttributeError|"
    r"ValueError: |fts5: syntax error|no such column|Internal Server Error",
)


def assert_clean(resp, what: str, site=None) -> None:
    """A client error or a result: never 5xx, never internals in the body."""
    assert resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:300]}"
    text = (
        resp.text
        if "text" in resp.headers.get("Content-Type", "")
        or "json" in resp.headers.get("Content-Type", "")
        else resp.content.decode("utf-8", "ignore")
    )
    found = MARKERS.search(text)
    assert not found, (
        f"{what}: leaks {found.group(0)!r}: {text[max(0, found.start() - 120) : found.end() + 120]}"
    )
    if site is not None:
        for secret in (site.app.config["SECRET_KEY"], site.app.config["INSTANCE_PATH"]):
            assert secret not in text, f"{what}: leaks configuration"
