"""JSON reader: an array of objects (or Kobo's ``{"results": [...]}``)."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from .delimited import to_utf8
from .limits import Limits, ProblemList, fail


def _flatten(record: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        # Repeat groups and attachments stay as JSON text in one cell.
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def records_to_frame(
    records: list, filename: str, limits: Limits
) -> tuple[pl.DataFrame, list[str]]:
    """All-string frame from a list of JSON objects (nested objects become ``a/b`` columns)."""
    problems = ProblemList(filename, limits.max_problems)
    header: dict[str, None] = {}
    flat: list[dict[str, Any]] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            problems.add(
                "not_an_object",
                f"Item {i + 1} is a {type(rec).__name__}, not an object.",
                row=i + 2,
            )
            continue
        f = _flatten(rec)
        header.update(dict.fromkeys(f))
        flat.append(f)
        if len(header) > limits.max_columns:
            raise fail(
                filename,
                "too_many_columns",
                f"The records have more than {limits.max_columns} distinct fields.",
            )
    problems.raise_if_any("The JSON is not an array of objects")
    names = list(header)
    data = {
        f"column_{j}": pl.Series(values=[_text(r.get(n)) for r in flat], dtype=pl.String)
        for j, n in enumerate(names)
    }
    return pl.DataFrame(data, height=len(flat)) if data else pl.DataFrame(), names


def read_json(data: bytes, filename: str, limits: Limits) -> tuple[pl.DataFrame, list[str]]:
    text, _ = to_utf8(data, filename)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(
            filename,
            "malformed_json",
            f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
            row=exc.lineno,
        ) from None
    except RecursionError:
        raise fail(filename, "malformed_json", "The JSON is nested too deeply.") from None
    if isinstance(doc, dict) and isinstance(doc.get("results"), list):
        doc = doc["results"]
    if not isinstance(doc, list):
        raise fail(
            filename, "malformed_json", "The JSON must be an array of objects, one per record."
        )
    if len(doc) > limits.max_rows:
        raise fail(
            filename,
            "too_many_rows",
            f"The file has {len(doc):,} records; the limit is {limits.max_rows:,}.",
        )
    return records_to_frame(doc, filename, limits)
