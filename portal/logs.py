"""Structured logs: one JSON object per line (``CGD_LOG_FORMAT=json``), else plain text.

Every record carries time, level, logger and message, plus whatever the
caller passed in ``extra`` (request id, path, status, job id, ...), so a log
pipeline (Loki, Elasticsearch, CloudWatch) can filter on fields.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else came from ``extra``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JSONFormatter(logging.Formatter):
    """Formats a record as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class _CGDHandler(logging.StreamHandler):
    """Marks the handler this module installed, so configuring twice replaces it."""


def configure_logging(
    cfg: dict[str, Any], stream=None, *, force: bool = False
) -> logging.Handler | None:
    """Send the root logger's records to stderr as JSON lines or text, at ``LOG_LEVEL``.

    Like ``logging.basicConfig`` it leaves a root logger that someone else set
    up (a test runner, an embedding application) alone unless ``force``.
    """
    root = logging.getLogger()
    if not force and any(not isinstance(h, _CGDHandler) for h in root.handlers):
        return None
    for handler in list(root.handlers):
        if isinstance(handler, _CGDHandler):
            root.removeHandler(handler)
    handler = _CGDHandler(stream or sys.stderr)
    if str(cfg.get("LOG_FORMAT", "text")).lower() == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(cfg.get("LOG_LEVEL", "INFO"))
    return handler


# Secrets that travel in URL paths (password-reset and invitation links): logs get a placeholder.
#: Also URL-encoded, as in the sign-in redirect's ``?next=%2Finvitations%2F...``.
_SECRET_PATHS = re.compile(
    r"((?:/|%2F)(?:account(?:/|%2F)reset-password|invitations)(?:/|%2F))[^/?#&\s%]+", re.I
)


def redact_path(path: str) -> str:
    """``path`` with the secret of a reset or invitation link replaced by ``<token>``."""
    return _SECRET_PATHS.sub(r"\1<token>", path or "")


def gunicorn_logger_class():
    """Gunicorn's logger whose access log redacts link secrets (for ``cgd serve``'s access log)."""
    from gunicorn.glogging import Logger

    class RedactingLogger(Logger):
        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "U", "q"):
                if key in atoms and isinstance(atoms[key], str):
                    atoms[key] = redact_path(atoms[key])
            return atoms

    return RedactingLogger
