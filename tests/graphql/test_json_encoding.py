"""orjson on the answer path: the same JSON as the stdlib encoders it replaced.

The app's provider is compared with Flask's default provider, the GraphQL view's
encoder with the ``json.dumps`` call it replaced, and the store's record-page
decode with ``json.loads``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import math
import uuid

import pytest
from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup

from api.graphql.view import _encode
from indexer.search.embedded import _decode_rows
from portal.json_provider import OrjsonProvider


@dataclasses.dataclass
class _Point:
    x: int
    at: dt.datetime


_VALUES = {
    "zeta": 1,
    "alpha": [1.5, -0.0, None, True, "Saptari, मधेश", {"b": 2, "a": [{"y": 1, "x": 2}]}],
    "when": dt.datetime(2026, 12, 1, 19, 57, 19, tzinfo=dt.UTC),
    "naive": dt.datetime(2026, 12, 1, 19, 57, 19),
    "day": dt.date(2026, 12, 1),
    "id": uuid.UUID(int=7),
    "amount": decimal.Decimal("1.10"),
    "point": _Point(3, dt.datetime(2020, 1, 1)),
    "markup": Markup("<b>x</b>"),
    "big": 2**70,
}


def _pair(**attrs):
    app = Flask(__name__)
    ours, flask_default = OrjsonProvider(app), DefaultJSONProvider(app)
    for provider in (ours, flask_default):
        for name, value in attrs.items():
            setattr(provider, name, value)
    return app, ours, flask_default


@pytest.mark.parametrize(
    "value",
    [{k: v for k, v in _VALUES.items() if k != "big"}, [1, "two", None], None, "text", 0],
    ids=["mapping", "list", "null", "str", "int"],
)
def test_provider_writes_what_flask_default_wrote(value):
    app, ours, flask_default = _pair()
    with app.app_context():
        got, want = ours.response(value), flask_default.response(value)
    assert got.mimetype == want.mimetype == "application/json"
    text = got.get_data(as_text=True)
    assert text.endswith("\n")
    assert json.loads(text) == json.loads(want.get_data(as_text=True))
    # Same text once both are UTF-8 (Flask's default escapes non-ASCII as \uXXXX).
    utf8 = json.dumps(json.loads(want.get_data()), ensure_ascii=False, separators=(",", ":"))
    assert text == utf8 + "\n"


def test_provider_falls_back_to_flask_for_what_orjson_refuses():
    app, ours, flask_default = _pair()
    with app.app_context():
        for value in (_VALUES, {"n": 10**30}, [1.5, type("F", (float,), {})(2.5)]):
            assert ours.response(value).get_data() == flask_default.response(value).get_data()


def test_provider_keeps_flask_forms_sorting_and_calling_conventions():
    app, ours, _ = _pair()
    with app.app_context():
        body = json.loads(ours.response(_VALUES).get_data())
        assert list(body) == sorted(body)
        assert body["when"] == body["naive"] == "Tue, 01 Dec 2026 19:57:19 GMT"
        assert body["day"] == "Tue, 01 Dec 2026 00:00:00 GMT"
        assert body["point"] == {"x": 3, "at": "Wed, 01 Jan 2020 00:00:00 GMT"}
        assert (body["amount"], body["id"], body["markup"]) == (
            "1.10",
            str(uuid.UUID(int=7)),
            "<b>x</b>",
        )
        assert ours.response(1, 2).get_data() == b"[1,2]\n"
        assert ours.response(b=1, a=2).get_data() == b'{"a":2,"b":1}\n'
        assert (
            ours.response({"n": math.nan, 2: "two", None: 0}).get_data()
            == b'{"2":"two","n":null,"null":0}\n'
        )
        with pytest.raises(TypeError, match="time is not JSON serializable"):
            ours.response({"t": dt.time(1)})
        assert ours.dumps({"a": 1}) == '{"a": 1}'  # the tojson filter's text is the stdlib one


def test_provider_leaves_indented_and_unsorted_output_to_flask():
    app, ours, flask_default = _pair(compact=False)
    with app.app_context():
        assert ours.response(_VALUES).get_data() == flask_default.response(_VALUES).get_data()
    app, ours, _ = _pair(sort_keys=False)
    with app.app_context():
        assert list(json.loads(ours.response({"b": 1, "a": 2}).get_data())) == ["b", "a"]


def test_app_uses_the_provider_and_still_bounds_request_bodies(make_app):
    app = make_app()
    assert isinstance(app.json, OrjsonProvider)
    with app.test_request_context(
        "/x", method="POST", data="[" * 50_000, content_type="application/json"
    ):
        from flask import request
        from werkzeug.exceptions import BadRequest

        with pytest.raises(BadRequest):
            request.get_json()
    with app.test_request_context("/x"):
        assert jsonify({"b": "ä", "a": dt.date(2026, 1, 2)}).get_data() == (
            '{"a":"Fri, 02 Jan 2026 00:00:00 GMT","b":"ä"}\n'.encode()
        )


def test_graphql_encoder_writes_what_json_dumps_wrote():
    for value in (
        _VALUES,
        {k: v for k, v in _VALUES.items() if k != "big"},
        {"d": {"z": 1, "a": 2}},
    ):
        want = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
        assert _encode(value) == want.encode()
    assert list(json.loads(_encode({"z": 1, "a": 2}))) == [
        "z",
        "a",
    ]  # a GraphQL answer's field order


def test_record_page_decode_matches_json_loads():
    texts = ['{"a":1,"b":null,"c":"मधेश"}', '{"a":9223372036854775807,"b":-0.0,"c":1e-300}']
    assert _decode_rows([(t, i) for i, t in enumerate(texts)]) == [json.loads(t) for t in texts]
    # A text orjson refuses (not one polars writes) is still read as json.loads reads it.
    assert math.isnan(_decode_rows([('{"a":NaN}', 0)])[0]["a"])
