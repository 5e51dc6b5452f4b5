"""Frictionless Table Schema of a published dataset version.

Direct identifiers never reach a published version, so they are left out.
Dimension columns carry their code list as an ``enum`` constraint (except
age, whose codes are single years or bands and get a pattern), plus the
standard's own properties under ``cgd:``-prefixed keys and the HXL tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .roles import ColumnRole, ColumnSpec
from .vocabularies import DIMENSIONS, Dimension

#: An age code: a single year, a band ``30-39`` or an open band ``70+``. Table Schema patterns are
#: XML Schema regular expressions: matched against the whole value (no ``^``/``$``, which would be
#: literal characters there). In Python, match it with ``re.fullmatch``.
AGE_PATTERN = r"(\d{1,3}|\d{1,3}-\d{1,3}|\d{1,3}\+)"


def _dimension_field(name: str, spec: ColumnSpec, dim: Dimension) -> dict[str, Any]:
    field: dict[str, Any] = {
        "name": name,
        "type": "string",
        "title": spec.label or dim.labels["en"],
        "description": f"{dim.labels['en']} ({dim.labels['ne']}): codes of the CGD '{dim.code}' vocabulary.",
        "cgd:role": str(spec.role),
        "cgd:dimension": dim.code,
    }
    if dim.code == "age":
        field["constraints"] = {"pattern": AGE_PATTERN}
    else:
        field["constraints"] = {"enum": [c.code for c in dim.codes]}
    if dim.sdmx:
        field["cgd:sdmx"] = dim.sdmx
    if dim.hxl:
        field["cgd:hxl"] = dim.hxl.tag()
    return field


def table_schema(
    columns: Mapping[str, ColumnSpec], vocabularies: Mapping[str, Dimension] = DIMENSIONS
) -> dict[str, Any]:
    """The Table Schema descriptor for a version with these column specs.

    ``vocabularies`` maps dimension codes to dimensions (the standard's by
    default). Field order follows ``columns``.
    """
    fields: list[dict[str, Any]] = []
    for name, spec in columns.items():
        if spec.role == ColumnRole.DIRECT_IDENTIFIER:
            continue
        dim = vocabularies.get(spec.dimension) if spec.dimension else None
        if dim is not None and spec.role in (ColumnRole.DIMENSION, ColumnRole.QUASI_IDENTIFIER):
            field = _dimension_field(name, spec, dim)
        elif spec.role == ColumnRole.MEASURE:
            field = {"name": name, "type": "number", "cgd:role": str(spec.role)}
        else:
            field = {"name": name, "type": "string", "cgd:role": str(spec.role)}
        if spec.label and "title" not in field:
            field["title"] = spec.label
        if spec.sensitive:
            field["cgd:sensitive"] = True
        fields.append(field)
    return {"fields": fields, "missingValues": [""]}


__all__ = ["table_schema"]
