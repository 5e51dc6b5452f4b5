"""Recognise identifier and collection-metadata columns whatever they are called."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
import polars as pl

from indexer.disclosure.patterns import PY_DATE, PY_DIGITS, PY_EMAIL, PY_GPS, PY_ID

_SAMPLE = 300

# Collection metadata written by KoboToolbox / ODK and similar tools.
_METADATA_NAME = re.compile(
    r"^_?(uuid|id|index|submission_time|submitted_by|validation_status|notes|status|tags|"
    r"version|xform_id_string|attachments|geolocation|parent_index|parent_table_name|"
    r"submission__id|submission__uuid|deviceid|device_id|imei|simserial|subscriberid|"
    r"phonenumber|username|start|end|today|audit|instanceid|instance_id|formhub/uuid|"
    r"meta/instanceid|meta/deprecatedid|meta/rootuuid|__version__)$",
    re.IGNORECASE,
)
_GPS_NAME = re.compile(
    r"(^|[_/ ])(gps|geo|geopoint|latitude|longitude|lat|lon|lng|altitude|precision|location)($|[_/ ])",
    re.I,
)
_NAME_NAME = re.compile(
    r"((^|[_/ ])(full_?name|first_?name|last_?name|surname|name|नाम|थर)($|[_/ ])|"
    r"^(respondent|enumerator|interviewer|submitter|informant)$)",
    re.I,
)
_PLACE_WORD = re.compile(
    r"(district|municipal|village|ward|province|tole|place|school|org|organi[sz]ation|project|program)",
    re.I,
)
_CONTACT_NAME = re.compile(
    r"(^|[_/ ])(phone|mobile|tel|telephone|email|e-mail|contact|citizenship|nid|passport|national_id)($|[_/ ])",
    re.I,
)
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")


@dataclass(frozen=True)
class Detection:
    """Why a column looks like an identifier: ``kind`` and the evidence."""

    kind: str  # phone, email, national_id, gps, name, collection_metadata
    evidence: str  # "values" or "column_name"
    share: float | None = None


def _is_phone(value: str, regions: tuple[str, ...]) -> bool:
    digits = sum(ch.isdigit() for ch in value)
    if digits < 7 or digits > 15:
        return False
    for region in regions:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) or phonenumbers.is_possible_number(number):
            return True
    return False


def _is_valid_phone(value: str, regions: tuple[str, ...]) -> bool:
    for region in regions:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(value, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


_CHECKS = (
    ("email", re.compile(PY_EMAIL)),
    ("gps", re.compile(PY_GPS)),
    ("national_id", re.compile(PY_ID)),
)
_DIGIT = re.compile(PY_DIGITS)


_CALENDAR_DATE = re.compile(PY_DATE)


def _is_calendar_date(value: str) -> bool:
    """A plain date (Gregorian or Bikram Sambat, whose months have up to 32 days).

    It has the shape of an ID number, but a column of dates is a quasi-identifier to
    generalise (to month or year), not an identifier to drop.
    """
    m = _CALENDAR_DATE.match(value)
    if m is None:
        return False
    month = int(m.group("m1") or m.group("m2"))
    day = int(m.group("d1") or m.group("d2"))
    year = int(m.group("y1") or m.group("y2"))
    return 1 <= month <= 12 and 1 <= day <= 32 and 1900 <= year <= 2200


def classify_value(value: str, regions: tuple[str, ...]) -> str | None:
    """The kind of identifier a whole value is, or None."""
    value = value.strip()
    if not value or _is_calendar_date(value):
        return None
    for kind, pattern in _CHECKS:
        if pattern.match(value):
            # a bare 10-digit Nepali mobile also matches the ID shape: prefer phone
            if kind == "national_id" and value.isdigit() and _is_valid_phone(value, regions):
                return "phone"
            return kind
    if _DIGIT.search(value) and _is_phone(value, regions):
        return "phone"
    return None


def sample_values(series: pl.Series, size: int = _SAMPLE) -> list[str]:
    """Distinct non-empty values, a deterministic spread over the column."""
    values = series.cast(pl.String).drop_nulls().str.strip_chars()
    values = values.filter(values != "").unique(maintain_order=True)
    if len(values) > size:
        step = len(values) // size
        values = values.gather_every(step)[:size]
    return values.to_list()


def _numeric_phones(series: pl.Series, regions: tuple[str, ...], share: float) -> Detection | None:
    """Phone numbers typed into a column of numbers (9841234567.0 from a spreadsheet): whole
    numbers of 9 to 15 digits that are valid numbers of ``regions``."""
    if not series.dtype.is_numeric() or series.dtype == pl.Boolean:
        return None
    numbers = series.drop_nulls()
    if series.dtype.is_float():
        numbers = numbers.filter(numbers.is_finite())
    numbers = numbers.filter((numbers.abs() >= 10**8) & (numbers.abs() < 10**15))
    if numbers.len() == 0 or numbers.len() < share * max(series.len() - series.null_count(), 1):
        return None
    whole = numbers.filter(numbers == numbers.round(0)) if series.dtype.is_float() else numbers
    values = sample_values(whole.cast(pl.Int64).cast(pl.String))
    if not values:
        return None
    found = sum(_is_valid_phone(v, regions) for v in values)
    if found / len(values) >= share:
        return Detection("phone", "values", round(found / len(values), 3))
    return None


def detect_column(
    name: str, series: pl.Series, regions: tuple[str, ...], share: float
) -> Detection | None:
    """Whether a column holds identifiers, by its name or by its values."""
    if _METADATA_NAME.match(name.strip()) or _METADATA_NAME.match(name.split("/")[-1].strip()):
        return Detection("collection_metadata", "column_name")
    if series.dtype != pl.String and series.dtype != pl.Categorical:
        if _GPS_NAME.search(name) and series.dtype.is_float():
            return Detection("gps", "column_name")
        return _numeric_phones(series, regions, share)
    values = sample_values(series)
    if values:
        kinds: dict[str, int] = {}
        stamps = 0
        for value in values:
            kind = classify_value(value, regions)
            if kind:
                kinds[kind] = kinds.get(kind, 0) + 1
            if _TIMESTAMP.match(value):
                stamps += 1
        if kinds:
            kind, count = max(kinds.items(), key=lambda kv: kv[1])
            total = sum(kinds.values())
            if total / len(values) >= share:
                return Detection(kind, "values", round(count / len(values), 3))
        if stamps / len(values) >= share:
            return Detection("collection_metadata", "values", round(stamps / len(values), 3))
    if (
        _GPS_NAME.search(name)
        and values
        and all(re.match(r"^[-+]?\d+(\.\d+)?$", v) for v in values[:50])
    ):
        return Detection("gps", "column_name")
    if _NAME_NAME.search(name) and not _PLACE_WORD.search(name):
        return Detection("name", "column_name")
    if _CONTACT_NAME.search(name):
        return Detection("contact", "column_name")
    return None
