"""Suggest column roles from names and values, for the uploader to confirm.

A column whose values look like phone numbers, emails or ID numbers is
suggested as a direct identifier whatever it is called; KoboToolbox/ODK
collection metadata is suggested as a direct identifier so that it is dropped
by default. Schema does no I/O: the frame is only inspected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import phonenumbers

from .roles import ColumnRole, ColumnSpec
from .vocabularies import AGE, DIMENSIONS, Dimension, normalise_label

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

SAMPLE_ROWS = 500
MATCH_SHARE = 0.8

#: Collection metadata of KoboToolbox and ODK exports (after group flattening).
KOBO_METADATA = frozenset(
    {
        "_id",
        "_uuid",
        "_submission_time",
        "_submitted_by",
        "_index",
        "_parent_index",
        "_validation_status",
        "_notes",
        "_status",
        "_tags",
        "_attachments",
        "_geolocation",
        "_xform_id_string",
        "_version_",
        "__version__",
        "_bamboo_dataset_id",
        "instanceid",
        "instanceID",
        "deprecatedid",
        "deprecatedID",
        "formhub/uuid",
        "formhub_uuid",
        "meta/instanceid",
        "meta/instanceID",
        "meta/deprecatedID",
        "deviceid",
        "phonenumber",
        "simserial",
        "subscriberid",
        "imei",
        "username",
        "email",
        "start",
        "end",
        "today",
        "audit",
        "start-geopoint",
        "starttime",
        "endtime",
    }
)
_KOBO_PREFIXES = (
    "_gps",
    "gps",
    "_geo",
    "geopoint",
    "_location",
    "location",
    # Kobo's structured fields, flattened (_validation_status_uid, _attachments_...).
    "_validation_status",
    "_attachments",
    "_notes",
    "_tags",
    "_supplementaldetails",
)
#: ODK Central's export columns, claimed only when the header has its KEY and SubmissionDate.
ODK_CENTRAL_METADATA = frozenset(
    {
        "key",
        "submissiondate",
        "submitterid",
        "submittername",
        "attachmentspresent",
        "attachmentsexpected",
        "status",
        "reviewstate",
        "deviceid",
        "edits",
        "formversion",
        "meta-instanceid",
        "instancename",
    }
)
# Kobo splits a geopoint question q into _q_latitude, _q_longitude, _q_altitude, _q_precision;
# ODK Central into q-Latitude, q-Longitude, q-Altitude, q-Accuracy.
_GEOPOINT_PART = re.compile(
    r"^(_.+_(latitude|longitude|altitude|precision)|.+-(latitude|longitude|altitude|accuracy))$",
    re.IGNORECASE,
)
# A geopoint answer: "latitude longitude altitude accuracy".
_GEOPOINT_VALUE = re.compile(r"^-?\d{1,2}\.\d+ -?\d{1,3}\.\d+( -?\d+(\.\d+)?){0,2}$")
_IDENTIFIER_NAMES = re.compile(
    r"(^|_)(full_?name|first_?name|last_?name|sur_?name|given_?name|family_?name|name|naam|respondent_?name|"
    r"father_?s?_?name|mother_?s?_?name|husband_?s?_?name|guardian_?name|phone|mobile|cell|telephone|tel|contact_?no|"
    r"email|e_?mail|address|tole|house_?no|citizenship(_?no)?|nagarikta|national_?id|nid|nin|passport|"
    r"voter_?id|pan|id_?no|id_?number|latitude|longitude|lat|lon|lng|gps|coordinates|photo|signature|"
    r"thumb_?print|id|dob|date_?of_?birth|birth_?date|janma_?miti|जन्म_?मिति)($|_)",
    re.IGNORECASE,
)
#: Words of place names: a number under one is a place code (ward_no), while a number
#: under "work_hours" or "land_area" is a measure.
_PLACE_WORDS = (
    r"village|ward|tole|settlement|community|locality|neighbou?rhood|municipality|palika|"
    r"gaunpalika|nagarpalika|vdc|town|city|region|zone|camp"
)
_PLACE_NAMES = re.compile(rf"(^|_)({_PLACE_WORDS})($|_)", re.IGNORECASE)
#: Facts about a person that others can know (sdcMicro's usual key variables beyond the
#: standard dimensions): small places, work, schooling, religion, marital status.
_KNOWABLE_NAMES = re.compile(
    rf"(^|_)({_PLACE_WORDS}|area|place|school|college|"
    r"occupation|profession|job|employer|workplace|work|caste_?group|clan|thar|gotra|religion|"
    r"marital(_?status)?|education|qualification|nationality|birth_?place|place_?of_?birth|"
    r"country_?of_?birth|origin)($|_)",
    re.IGNORECASE,
)
_MEASURE_WORDS = re.compile(
    r"(^|_)(distance|time|hours?|hrs|minutes?|mins|km|kms|metres?|meters?|area|size|count|"
    r"total|amount|cost|price|income|days|years|population|households)($|_)",
    re.IGNORECASE,
)
#: A year of birth is an age by another name: whatever its values, it is k-anonymised.
_BIRTH_YEAR_NAMES = re.compile(
    r"(^|_)(birth_?year|year_?of_?birth|yob|janma_?(sal|saal|barsa|barsha|year))($|_)",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
#: More distinct categories than this in a column that matches no dimension: identifying.
_MANY_CATEGORIES = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# Nepal citizenship certificate (e.g. 27-01-71-12345) and national ID (123-456-789-0).
_ID_PATTERNS = (
    re.compile(r"^\d{1,3}[-/]\d{1,3}[-/]\d{1,4}[-/]\d{2,7}$"),
    re.compile(r"^\d{3}-\d{3}-\d{3}-\d$"),
    re.compile(r"^[A-Z]{1,3}\d{6,9}$"),  # passports and similar
)
_GENERIC_ID = re.compile(r"^[A-Za-z]{0,6}[-_/]?\d{3,}[A-Za-z]?$")
#: UUIDs and long hex keys (KoboToolbox's "uuid:..." instance ids, database keys)
_UUID = re.compile(
    r"^(?:uuid:)?(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,})$",
    re.I,
)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class RoleSuggestion(ColumnSpec):
    """A suggested :class:`ColumnSpec` with the reason for it."""

    reason: str = ""

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["reason"] = self.reason
        return out


def _share(values: list[str], pred) -> float:
    return sum(1 for v in values if pred(v)) / len(values) if values else 0.0


def _is_phone(value: str) -> bool:
    digits = len(_DIGITS.findall(value))
    if digits < 7 or digits > 15:
        return False
    try:
        number = phonenumbers.parse(value, "NP")
    except phonenumbers.NumberParseException:
        return False
    if phonenumbers.is_valid_number(number):
        return True
    # New mobile ranges reach the field before the metadata: 10 digits from 9 is a Nepali mobile.
    national = str(number.national_number)
    return number.country_code == 977 and len(national) == 10 and national.startswith("9")


def _is_nested_records(value: str) -> bool:
    if not value.startswith("[{"):
        return False
    try:
        parsed = json.loads(value)
    except ValueError:
        return False
    return isinstance(parsed, list) and all(isinstance(x, dict) for x in parsed)


def _is_id_number(value: str) -> bool:
    return any(p.match(value) for p in _ID_PATTERNS)


def _is_record_number(values: list[str], n_rows: int, n_unique: int) -> bool:
    """Serial numbers: one per row, whole, and dense (a run such as 1001..1400, however
    shuffled), unlike a measure whose distinct values spread over a wide range."""
    if n_unique < 20 or n_unique < 0.95 * n_rows or not all(v.isdigit() for v in values):
        return False
    numbers = [int(v) for v in values]
    return max(numbers) - min(numbers) + 1 <= 2 * n_unique


def _name_dimension(name: str) -> Dimension | None:
    key = normalise_label(name).replace(" ", "_")
    for dim in DIMENSIONS.values():
        if key == dim.code or key in {
            normalise_label(n).replace(" ", "_") for n in dim.column_names
        }:
            return dim
    return None


def _value_dimension(values: list[str]) -> Dimension | None:
    best: tuple[float, Dimension] | None = None
    for dim in DIMENSIONS.values():
        if dim is AGE:
            continue  # bare numbers match ages; ages are found by name
        share = _share(values, lambda v, d=dim: d.match(v) is not None)
        if share >= MATCH_SHARE and (best is None or share > best[0]):
            best = (share, dim)
    return best[1] if best else None


def _dimension_spec(name: str, dim: Dimension, reason: str) -> RoleSuggestion:
    role = ColumnRole.QUASI_IDENTIFIER if dim.identifying else ColumnRole.DIMENSION
    return RoleSuggestion(
        name=name, role=role, dimension=dim.code, sensitive=dim.sensitive, reason=reason
    )


_KOBO_METADATA_LOWER = frozenset(k.lower() for k in KOBO_METADATA)


def suggest_role(
    name: str, values: list[str], n_rows: int, n_unique: int, *, odk_central: bool = False
) -> RoleSuggestion:
    """Suggest the role of one column from its name and a sample of its values.

    ``odk_central`` says the header is an ODK Central export, whose own
    columns (``KEY``, ``SubmitterName``, ``Status``...) are then claimed as
    collection metadata.
    """
    lname = name.strip().lower()
    leaf = lname.rsplit("/", 1)[-1]
    if (
        lname in _KOBO_METADATA_LOWER
        or leaf in {"instanceid", "deprecatedid", "instancename"}
        or leaf.startswith(_KOBO_PREFIXES)
        or _GEOPOINT_PART.match(leaf)
        or (odk_central and leaf in ODK_CENTRAL_METADATA)
    ):
        return RoleSuggestion(
            name,
            ColumnRole.DIRECT_IDENTIFIER,
            reason="KoboToolbox/ODK collection metadata, dropped by default",
        )
    if values:
        if _share(values, _is_nested_records) >= MATCH_SHARE:
            return RoleSuggestion(
                name,
                ColumnRole.DIRECT_IDENTIFIER,
                reason="nested records (a KoboToolbox repeat group), dropped by default; "
                "upload the repeat as its own table",
            )
        if _share(values, lambda v: bool(_GEOPOINT_VALUE.match(v))) >= MATCH_SHARE:
            return RoleSuggestion(
                name, ColumnRole.DIRECT_IDENTIFIER, reason="values are GPS coordinates"
            )
        if _share(values, _is_phone) >= MATCH_SHARE:
            return RoleSuggestion(
                name, ColumnRole.DIRECT_IDENTIFIER, reason="values are phone numbers"
            )
        if _share(values, lambda v: bool(_EMAIL.match(v))) >= MATCH_SHARE:
            return RoleSuggestion(
                name, ColumnRole.DIRECT_IDENTIFIER, reason="values are email addresses"
            )
        if _share(values, lambda v: bool(_UUID.match(v))) >= MATCH_SHARE:
            return RoleSuggestion(
                name,
                ColumnRole.DIRECT_IDENTIFIER,
                reason="values are UUIDs or hex keys (they link a record to the raw data)",
            )
        if _share(values, _is_id_number) >= MATCH_SHARE:
            return RoleSuggestion(
                name, ColumnRole.DIRECT_IDENTIFIER, reason="values are ID numbers"
            )
    numeric = _share(values, lambda v: bool(_NUMBER.match(v.replace(",", "")))) if values else 0.0
    dim = _name_dimension(leaf)
    if dim is not None and dim is not AGE:
        matched = _share(values, lambda v: dim.match(v) is not None) if values else 1.0
        if matched >= 0.5:
            return _dimension_spec(
                name, dim, f"the name and values match the {dim.code} vocabulary"
            )
    if dim is AGE and values and _share(values, lambda v: AGE.match(v) is not None) >= MATCH_SHARE:
        return _dimension_spec(name, AGE, "the name says age and values are ages or age bands")
    # Bare numbers match district numbers and quintiles: only names can say so.
    vdim = _value_dimension(values) if numeric < 0.95 else None
    if vdim is not None:
        return _dimension_spec(name, vdim, f"values match the {vdim.code} vocabulary")
    if _IDENTIFIER_NAMES.search(leaf):
        return RoleSuggestion(
            name, ColumnRole.DIRECT_IDENTIFIER, reason=f"the name {name!r} suggests personal data"
        )
    # What a neighbour or an employer knows about a person links them to their record (a
    # ward number as much as a village name): such a column takes part in k-anonymity
    # unless the uploader says otherwise.
    if values and _BIRTH_YEAR_NAMES.search(leaf):
        return RoleSuggestion(
            name,
            ColumnRole.QUASI_IDENTIFIER,
            reason=f"the name {name!r} suggests a year of birth (an age): kept k-anonymous",
        )
    if (
        values
        and _KNOWABLE_NAMES.search(leaf)
        and (numeric < 0.95 or (_PLACE_NAMES.search(leaf) and not _MEASURE_WORDS.search(leaf)))
    ):
        return RoleSuggestion(
            name,
            ColumnRole.QUASI_IDENTIFIER,
            reason=f"the name {name!r} suggests a fact others can know (a place, a job...); "
            "kept k-anonymous",
        )
    if values and _share(values, lambda v: bool(_ISO_DATE.match(v))) >= MATCH_SHARE:
        return RoleSuggestion(
            name,
            ColumnRole.QUASI_IDENTIFIER,
            reason="values are dates: published by month or year, kept k-anonymous",
        )
    if values and numeric >= 0.95 and _is_record_number(values, n_rows, n_unique):
        return RoleSuggestion(
            name,
            ColumnRole.DIRECT_IDENTIFIER,
            reason="values are distinct whole numbers in a run, like record or household "
            "numbers (they link a record to the raw data and to other tables)",
        )
    if values and numeric >= 0.95:
        return RoleSuggestion(name, ColumnRole.MEASURE, reason="values are numbers")
    if (
        values
        and n_unique >= 20
        and n_unique >= 0.95 * n_rows
        and _share(values, lambda v: bool(_GENERIC_ID.match(v))) >= MATCH_SHARE
    ):
        return RoleSuggestion(
            name, ColumnRole.DIRECT_IDENTIFIER, reason="values are unique codes like record IDs"
        )
    if values:
        mean_len = sum(len(v) for v in values) / len(values)
        if mean_len >= 30 or (n_unique > 50 and n_unique >= 0.5 * n_rows and mean_len >= 12):
            return RoleSuggestion(name, ColumnRole.FREE_TEXT, reason="long, varied text")
        if n_unique > _MANY_CATEGORIES:
            return RoleSuggestion(
                name,
                ColumnRole.QUASI_IDENTIFIER,
                reason=f"{n_unique} categories that match no standard dimension: kept "
                "k-anonymous until you confirm the column cannot identify anyone",
            )
    return RoleSuggestion(
        name, ColumnRole.OTHER, reason="no standard dimension matched; confirm the role"
    )


def suggest_roles(df: pl.DataFrame) -> dict[str, RoleSuggestion]:
    """Suggest a :class:`ColumnSpec` (with ``reason``) for every column of ``df``.

    Values are sampled (distinct non-blank values of the first rows) so that
    the cost does not grow with the file.
    """
    out: dict[str, RoleSuggestion] = {}
    odk_central = {"KEY", "SubmissionDate"} <= set(df.columns)
    head = df.head(max(SAMPLE_ROWS * 4, 2000))
    for name in df.columns:
        series = head.get_column(name).cast(str, strict=False).drop_nulls().str.strip_chars()
        series = series.filter(series != "")
        distinct = series.unique(maintain_order=True)
        values = distinct.head(SAMPLE_ROWS).to_list()
        out[name] = suggest_role(
            name, values, n_rows=series.len(), n_unique=distinct.len(), odk_central=odk_central
        )
    return out


__all__ = [
    "KOBO_METADATA",
    "ODK_CENTRAL_METADATA",
    "RoleSuggestion",
    "suggest_role",
    "suggest_roles",
]
