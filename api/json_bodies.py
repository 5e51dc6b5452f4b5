"""JSON request bodies that cannot crash a view: nesting deeper than Python's stack is a decode error.

``json.loads`` raises RecursionError (not ValueError) on a body like ``[[[[...]]]]``
a few thousand levels deep, which Flask's ``get_json`` and the views' own
``except json.JSONDecodeError`` do not catch: the request ended as a 500.
"""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """``json.loads``, with too-deep nesting reported as a ``json.JSONDecodeError``."""
    try:
        return json.loads(text, **kwargs)
    except RecursionError:
        doc = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        raise json.JSONDecodeError("JSON nested too deeply", doc[:100], 0) from None


class BoundedJSONProvider(DefaultJSONProvider):
    """The app's JSON provider: ``request.get_json`` treats too-deep nesting as malformed JSON."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)
