"""JSON Schema (draft 2020-12) of the dataset metadata, derived from the marshmallow schema.

Derived rather than hand-written so that the two cannot drift: every field
type used by :mod:`schema.metadata` has a rule here, and a test validates
documents with both.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from .metadata import DatasetMetadataSchema, MultilingualText, Text

SCHEMA_ID = "https://cgd-portal.org/schema/dataset-metadata.json"


def _validators(field: fields.Field) -> dict[str, Any]:
    out: dict[str, Any] = {}
    validators = field.validators if hasattr(field, "validators") else []
    for v in validators:
        if isinstance(v, validate.OneOf):
            out["enum"] = list(v.choices)
        elif isinstance(v, validate.Length):
            if v.min is not None:
                out["minLength"] = v.min
            if v.max is not None:
                out["maxLength"] = v.max
        elif isinstance(v, validate.Range):
            if v.min is not None:
                out["minimum"] = v.min
            if v.max is not None:
                out["maximum"] = v.max
        elif isinstance(v, validate.Regexp):
            out["pattern"] = v.regex.pattern
    return out


def _field_schema(field: fields.Field) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(field, MultilingualText):
        out = {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z]{2,3}$"},
            "additionalProperties": {
                "type": "string",
                "minLength": 1,
                "maxLength": field.max_length,
            },
            "anyOf": [{"required": ["en"]}, {"required": ["ne"]}],
            "description": "Text per language (ISO 639 code); at least 'en' or 'ne'.",
        }
    elif isinstance(field, fields.Nested):
        nested = field.schema
        out = schema_object(nested)
    elif isinstance(field, fields.List):
        out = {"type": "array", "items": _field_schema(field.inner)}
    elif isinstance(field, fields.Dict):
        out = {"type": "object"}
        if field.value_field is not None:
            out["additionalProperties"] = _field_schema(field.value_field)
    elif isinstance(field, fields.Email):
        out = {"type": "string", "format": "email"}
    elif isinstance(field, fields.Date):
        out = {"type": "string", "format": "date"}
    elif isinstance(field, fields.Integer):
        out = {"type": "integer"}
    elif isinstance(field, fields.Boolean):
        out = {"type": "boolean"}
    elif isinstance(field, Text):
        out = {"type": "string", "pattern": r"\S"}
    elif isinstance(field, fields.String):
        out = {"type": "string"}
    else:  # pragma: no cover - a new field type needs a rule above
        raise TypeError(f"no JSON Schema rule for {type(field).__name__}")
    out.update(_validators(field))
    if field.metadata.get("description"):
        out.setdefault("description", field.metadata["description"])
    if field.allow_none and "type" in out:
        out["type"] = [out["type"], "null"]
    default = field.load_default
    if default is not None and not callable(default) and default is not fields.missing_:
        out["default"] = default
    return out


def schema_object(schema: Schema) -> dict[str, Any]:
    """JSON Schema of one marshmallow schema: properties, required, no extras."""
    props = {name: _field_schema(f) for name, f in schema.fields.items()}
    required = [name for name, f in schema.fields.items() if f.required]
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def metadata_json_schema() -> dict[str, Any]:
    """The JSON Schema of a dataset metadata document (served for tools)."""
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "CGD dataset metadata",
        "description": "Metadata of a citizen-generated dataset under the CGD standard.",
    }
    out.update(schema_object(DatasetMetadataSchema()))
    return out


__all__ = ["SCHEMA_ID", "metadata_json_schema", "schema_object"]
