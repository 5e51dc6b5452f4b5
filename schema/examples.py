"""A complete, valid metadata document: for docs, the demo and tests."""

from __future__ import annotations

import copy

_EXAMPLE = {
    "title": {
        "en": "Access to safe water among Dalit households, Saptari",
        "ne": "सप्तरीका दलित घरधुरीमा सुरक्षित खानेपानीको पहुँच",
    },
    "description": {
        "en": "Household survey of water sources and collection time, disaggregated by caste, sex and disability.",
        "ne": "खानेपानीका स्रोत र पानी ल्याउन लाग्ने समयबारे घरधुरी सर्वेक्षण।",
    },
    "slug": "saptari-dalit-water-access",
    "topics": ["water", "sanitation", "caste-discrimination"],
    "coverage": {"places": ["15"], "level": "district"},
    "period": {"start": "2024-01-15", "end": "2024-03-30"},
    "licence": "CC-BY-4.0",
    "contact": {"name": "Data officer", "email": "data@example.org"},
    "languages": ["ne", "mai"],
    "methodology": {
        "purpose": "Evidence for the municipal WASH plan on gaps in Dalit settlements.",
        "participant_selection": {
            "method": "census",
            "sample_size": 412,
            "inclusion_criteria": "All households in the 14 Dalit settlements of wards 3-7.",
        },
        "collection": {"method": "face_to_face", "tool": "KoboToolbox"},
        "consent": {
            "how_obtained": "Verbal consent read in Maithili or Nepali and recorded by the enumerator.",
            "uses": "Publication of anonymised figures and use by the municipality for planning.",
            "withdrawal_contact": "Community facilitator, ward office, phone listed on the consent card.",
        },
        "facilitation": {
            "collected_by": "Twelve enumerators from the settlements, trained for three days.",
            "community_involvement": "Questions co-designed with the Dalit women's group; results validated in ward meetings.",
            "training": "Three-day training on the questionnaire, consent and safeguarding.",
        },
        "data_management": {
            "storage": "Encrypted KoboToolbox server; exports on an encrypted laptop at the office.",
            "retention": "Raw data deleted two years after publication.",
        },
        "limitations": "Self-reported collection times; dry-season only.",
    },
    "sensitive_topics": [],
    "country": "NP",
    "cube_threshold": 10,
}


def example_metadata() -> dict:
    """A fresh copy of a valid metadata document."""
    return copy.deepcopy(_EXAMPLE)
