"""The app's JSON provider: responses (``jsonify``, views returning a dict) encoded by orjson.

Flask's default provider encodes a response with ``json.dumps``; orjson writes the
same JSON several times faster.  What stays as it was:

* request bodies are read by the bounded stdlib ``loads`` (too-deep nesting is a 400;
  orjson would also refuse ``NaN`` and turn integers beyond 64 bits into floats);
* ``app.json.dumps`` (the ``tojson`` template filter, ``flask.json.dumps``) is the
  stdlib one, with its spacing;
* the values Flask's default turned into JSON are turned the same way, by its own
  ``default``: dates and datetimes as HTTP dates (``Tue, 01 Dec 2026 19:57:19 GMT``;
  the REST API formats its timestamps as RFC 3339 text itself), ``Decimal`` and
  ``UUID`` as text, dataclasses as objects, ``__html__`` objects as their markup;
* keys sorted (``sort_keys``), compact separators, a trailing newline, and the
  indented form in debug mode or with ``compact = False`` (left to Flask);
* a value orjson cannot write (an integer beyond 64 bits, a float subclass) makes
  the whole response go through Flask's own encoder.

What differs, both still valid JSON meaning the same: text is UTF-8 rather than
``\\uXXXX`` escapes, NaN and infinities are ``null`` (``json.dumps`` wrote ``NaN``,
which is not JSON), and non-str keys are sorted as their text.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response

from api.json_bodies import BoundedJSONProvider

#: Datetimes and dataclasses go to ``default`` (Flask's forms), not orjson's own.
_OPTIONS = (
    orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_APPEND_NEWLINE
)


class OrjsonProvider(BoundedJSONProvider):
    """``jsonify`` through orjson; everything else as Flask's default provider (bounded loads)."""

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        option = _OPTIONS | orjson.OPT_SORT_KEYS if self.sort_keys else _OPTIONS
        try:
            body = orjson.dumps(obj, default=self.default, option=option)
        except orjson.JSONEncodeError:
            return super().response(*args, **kwargs)
        return self._app.response_class(body, mimetype=self.mimetype)
