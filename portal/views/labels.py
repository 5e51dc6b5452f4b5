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


def selection_method_label(code: str | None) -> str:
    return {
        "census": _("Census of everyone in the group"),
        "random": _("Random sample"),
        "stratified_random": _("Stratified random sample"),
        "cluster": _("Cluster sample"),
        "systematic": _("Systematic sample"),
        "purposive": _("Purposive selection"),
        "snowball": _("Snowball sampling"),
        "respondent_driven": _("Respondent-driven sampling"),
        "quota": _("Quota sample"),
        "convenience": _("Convenience sample"),
        "other": _("Other method"),
    }.get(code or "", code or "")


def collection_method_label(code: str | None) -> str:
    return {
        "face_to_face": _("Face-to-face interviews"),
        "phone": _("Phone interviews"),
        "online": _("Online form"),
        "sms": _("SMS"),
        "focus_group": _("Focus groups"),
        "key_informant_interview": _("Key informant interviews"),
        "observation": _("Observation"),
        "self_administered_paper": _("Self-administered paper form"),
        "community_scorecard": _("Community scorecard"),
        "social_audit": _("Social audit"),
        "administrative_records": _("Administrative records"),
        "mixed": _("Mixed methods"),
    }.get(code or "", code or "")


def organisation_kind_label(kind: str | None) -> str:
    return {
        "cso": _("Civil-society organisation"),
        "government": _("Government body"),
        "academic": _("Academic institution"),
        "network": _("Network of organisations"),
    }.get(kind or "", kind or "")


def version_status_label(status: str) -> str:
    return {
        "published": _("Current version"),
        "superseded": _("Replaced by a newer version"),
        "withdrawn": _("Withdrawn"),
    }.get(status, status)


def party_role_label(role: str) -> str:
    return {
        "data_provider": _("Data provider"),
        "reviewer": _("Reviewer"),
        "member": _("Member"),
    }.get(role, role)
