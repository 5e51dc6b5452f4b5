"""Labels of codes shown on pages: topics, dimensions, places, languages, facet values."""

from __future__ import annotations

from flask_babel import gettext as _

from schema.licences import LICENCES
from schema.topics import TOPICS
from schema.vocabularies import DIMENSIONS, LANGUAGE
from schema.vocabularies.geography import GEOGRAPHY, level_of

#: Dimensions about people, the rows of the coverage grid (geography is the columns).
GROUP_DIMENSIONS = (
    "caste_ethnicity",
    "sex",
    "age",
    "disability",
    "migration_status",
    "sogi",
    "language",
    "wealth_quintile",
    "urban_rural",
)


def topic_label(code: str, lang: str) -> str:
    labels = TOPICS.get(code) or {}
    return labels.get(lang) or labels.get("en") or code


def dimension_label(code: str, lang: str) -> str:
    dim = DIMENSIONS.get(code)
    if dim is None:
        return code
    return dim.labels.get(lang) or dim.labels.get("en") or code


def place_label(code: str, lang: str) -> str:
    level = level_of(code)
    return GEOGRAPHY[level].label(code, lang) if level else code


def language_label(code: str, lang: str) -> str:
    return LANGUAGE.label(code, lang) if code in LANGUAGE else code


def licence_label(code: str) -> str:
    return (LICENCES.get(code) or {}).get("title") or code


def facet_title(field: str) -> str:
    return {
        "organisation": _("Organisation"),
        "topic": _("Topic"),
        "dimension": _("Disaggregated by"),
        "place": _("Place"),
        "licence": _("Licence"),
        "language": _("Language of collection"),
        "endorsed": _("Endorsed"),
        "source": _("Source"),
    }.get(field, field)


def facet_value_label(field: str, value: str, lang: str, org_names: dict[str, str]) -> str:
    if field == "organisation":
        return org_names.get(value, value)
    if field == "topic":
        return topic_label(value, lang)
    if field == "dimension":
        return dimension_label(value, lang)
    if field == "place":
        return place_label(value, lang)
    if field == "language":
        return language_label(value, lang)
    if field == "endorsed":
        return _("Endorsed by a partner") if value == "true" else _("Not yet endorsed")
    if field == "source":
        return _("This portal") if value == "local" else value
    return value
