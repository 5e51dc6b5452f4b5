"""The CGD standard as machine-readable documents for tools (no login needed).

- ``GET /schema/metadata.json``: JSON Schema (draft 2020-12) of dataset metadata;
- ``GET /schema/vocabularies.json``: every disaggregation dimension with its
  codes, English and Nepali labels, SDMX concept and HXL hashtag.

Both are derived from :mod:`schema` at request time, so they cannot drift
from what uploads are validated against.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from schema.jsonschema import metadata_json_schema
from schema.vocabularies import DIMENSIONS

bp = Blueprint("schema_docs", __name__, url_prefix="/schema")


def _public_json(payload: dict, content_type: str = "application/json") -> Response:
    resp = jsonify(payload)
    resp.content_type = content_type
    resp.headers["Cache-Control"] = "public, max-age=3600"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.get("/metadata.json")
def metadata_schema() -> Response:
    """The JSON Schema every dataset's metadata is validated against."""
    return _public_json(metadata_json_schema(), "application/schema+json")


@bp.get("/vocabularies.json")
def vocabularies() -> Response:
    """The disaggregation vocabularies with their code lists."""
    return _public_json({"dimensions": [d.to_dict() for d in DIMENSIONS.values()]})
