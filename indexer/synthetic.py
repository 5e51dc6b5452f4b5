"""Synthetic CGD survey data for the demo, tests and benchmarks.

Everything here is generated: the names are random combinations of common
given names and surnames, the phone numbers are random numbers in Nepal's
mobile ranges.  No real person is described.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import polars as pl

from schema.vocabularies import get_dimension

GIVEN = [
    "Sita", "Gita", "Maya", "Kamala", "Sarita", "Laxmi", "Sunita", "Radha", "Parbati", "Anita",
    "Ram", "Hari", "Krishna", "Bikash", "Suresh", "Ramesh", "Dipak", "Santosh", "Bishnu", "Raju",
]
SURNAMES = [
    "Sharma", "Thapa", "Tamang", "Magar", "Rai", "Limbu", "Gurung", "Yadav", "Mahato", "Chaudhary",
    "Pariyar", "Bishwokarma", "Sarki", "Paswan", "Mandal", "Ansari", "Shrestha", "Maharjan", "Sah",
]
SEX = ["Female", "Male"]
CASTE = [
    ("Hill Dalit", 0.13), ("Madhesi Dalit", 0.12), ("Hill Brahmin", 0.10), ("Hill Chhetri", 0.14),
    ("Tarai Janajati", 0.14), ("Mountain/Hill Janajati", 0.12), ("Madhesi other castes", 0.13),
    ("Muslim", 0.07), ("Newar", 0.05),
]
DISTRICTS = [("Saptari", 0.22), ("Siraha", 0.18), ("Dhanusha", 0.15), ("Kailali", 0.18),
             ("Bardiya", 0.12), ("Surkhet", 0.15)]
URBAN_RURAL = ["Urban", "Rural"]
DISABILITY = [("No difficulty", 0.84), ("Some difficulty", 0.10), ("A lot of difficulty", 0.05),
              ("Cannot do at all", 0.01)]
COMMENTS = [
    "The tap in our tole has been dry since Magh.",
    "We walk to the river for water; the hand pump is broken.",
    "The health post is far and there is no ramp for my wheelchair.",
    "Dalit households are not allowed to use the common well.",
    "Our children stopped going to school during the monsoon.",
    "The ward office did not register my disability card.",
    "",
    "Water supply is fine but the toilet is shared by five families.",
]


def _choice(rng: np.random.Generator, pairs: list[tuple[str, float]], n: int) -> np.ndarray:
    values = [p[0] for p in pairs]
    weights = np.array([p[1] for p in pairs], dtype=float)
    return rng.choice(values, size=n, p=weights / weights.sum())


def phone_number(rng: random.Random) -> str:
    """A random number in Nepal's mobile ranges (98x/97x), as people write them."""
    prefix = rng.choice(["984", "985", "986", "980", "981", "982", "974", "976"])
    digits = "".join(str(rng.randint(0, 9)) for _ in range(7))
    style = rng.random()
    if style < 0.4:
        return f"{prefix}{digits}"
    if style < 0.7:
        return f"+977 {prefix}-{digits}"
    return f"{prefix} {digits[:3]} {digits[3:]}"


def generate_survey(n: int = 1200, *, seed: int = 7, identifiers: bool = True) -> pl.DataFrame:
    """A household survey on access to services among marginalised groups (all strings)."""
    rng = np.random.default_rng(seed)
    prng = random.Random(seed)
    sex = rng.choice(SEX, size=n, p=[0.55, 0.45])
    age = rng.integers(16, 86, size=n)
    caste = _choice(rng, CASTE, n)
    district = _choice(rng, DISTRICTS, n)
    urban = rng.choice(URBAN_RURAL, size=n, p=[0.3, 0.7])
    walking = _choice(rng, DISABILITY, n)
    disability = np.where(
        np.isin(walking, ["A lot of difficulty", "Cannot do at all"]), "With disability", "Without disability"
    )
    dalit = np.isin(caste, ["Hill Dalit", "Madhesi Dalit"])
    water_p = np.where(dalit, 0.55, 0.8) - np.where(urban == "Rural", 0.1, 0.0)
    water = (rng.random(n) < water_p).astype(int)
    toilet = (rng.random(n) < np.where(dalit, 0.5, 0.75)).astype(int)
    distance = np.round(rng.gamma(2.0, np.where(water == 1, 6.0, 18.0)), 1)
    household = rng.integers(1, 12, size=n)
    income = np.round(rng.lognormal(np.where(dalit, 9.6, 10.0), 0.5, size=n), -1)
    names = [f"{prng.choice(GIVEN)} {prng.choice(SURNAMES)}" for _ in range(n)]
    phones = [phone_number(prng) for _ in range(n)]
    comments = []
    for i in range(n):
        text = prng.choice(COMMENTS)
        if text and prng.random() < 0.08:
            text = f"{text} Call {names[i].split()[0]} on {phones[i]} for details."
        comments.append(text)
    data: dict[str, Any] = {}
    if identifiers:
        data["respondent_name"] = names
        data["phone"] = phones
    data.update(
        {
            "sex": sex,
            "age": age.astype(str),
            "caste_ethnicity": caste,
            "district": district,
            "urban_rural": urban,
            "difficulty_walking": walking,
            "disability": disability,
            "household_size": household.astype(str),
            "monthly_income_npr": income.astype(int).astype(str),
            "has_water_access": water.astype(str),
            "minutes_to_water": distance.astype(str),
            "has_toilet": toilet.astype(str),
            "comments": comments,
        }
    )
    return pl.DataFrame(data).with_columns(pl.all().cast(pl.Utf8))


SURVEY_COLUMNS = {
    "respondent_name": {"role": "direct_identifier"},
    "phone": {"role": "direct_identifier"},
    "sex": {"role": "dimension", "dimension": "sex"},
    "age": {"role": "quasi_identifier", "dimension": "age"},
    "caste_ethnicity": {"role": "dimension", "dimension": "caste_ethnicity"},
    "district": {"role": "dimension", "dimension": "district"},
    "urban_rural": {"role": "dimension", "dimension": "urban_rural"},
    "difficulty_walking": {"role": "dimension", "dimension": "disability_mobility"},
    "disability": {"role": "dimension", "dimension": "disability"},
    "household_size": {"role": "measure"},
    "monthly_income_npr": {"role": "measure"},
    "has_water_access": {"role": "measure"},
    "minutes_to_water": {"role": "measure"},
    "has_toilet": {"role": "measure"},
    "comments": {"role": "free_text"},
}


def demo_metadata() -> dict[str, Any]:
    """Metadata for the demo survey, documented to the CGD standard."""
    district = get_dimension("district")
    return {
        "title": {
            "en": "Access to water, sanitation and services among marginalised households, Madhesh and Karnali/Sudurpashchim 2025",
            "ne": "सीमान्तकृत घरपरिवारमा खानेपानी, सरसफाइ र सेवामा पहुँच, २०८२",
        },
        "description": {
            "en": "A household survey run by community facilitators with Dalit, Janajati, Madhesi and Muslim households and people with disabilities in six districts, on water access, sanitation, income and barriers to services. Synthetic demonstration data.",
            "ne": "छ जिल्लाका दलित, जनजाति, मधेसी, मुस्लिम घरपरिवार र अपाङ्गता भएका व्यक्तिहरूसँग सामुदायिक सहजकर्ताहरूले गरेको खानेपानी, सरसफाइ, आय र सेवामा पहुँचसम्बन्धी घरपरिवार सर्वेक्षण। नमुना (कृत्रिम) तथ्याङ्क।",
        },
        "topics": ["water", "sanitation", "disability", "social-protection"],
        "coverage": {"places": [district.match(name) for name, _ in DISTRICTS], "level": "district"},
        "period": {"start": "2025-01-15", "end": "2025-03-30"},
        "licence": "CC-BY-4.0",
        "contact": {"name": "Data team", "email": "data@example.org"},
        "languages": ["ne", "mai", "en"],
        "country": "NP",
        "methodology": {
            "purpose": "Document gaps in access to water, sanitation and public services for groups missing from official statistics, to inform municipal planning.",
            "participant_selection": {
                "method": "random",
                "sample_size": 1200,
                "inclusion_criteria": "Households in selected wards, with a quota for Dalit and Muslim households and households with a member with a disability.",
            },
            "collection": {"method": "face_to_face", "tool": "KoboToolbox"},
            "consent": {
                "how_obtained": "Oral informed consent read in the respondent's language and recorded in the form.",
                "uses": "Publication of anonymised data and aggregate figures for advocacy and planning.",
                "withdrawal_contact": "data@example.org",
            },
            "facilitation": {
                "collected_by": "Trained community facilitators from the surveyed communities.",
                "community_involvement": "Questions co-designed with Dalit and disability rights groups; results validated in ward meetings.",
                "training": "Three-day training on the questionnaire, consent and the Washington Group questions.",
            },
            "data_management": {
                "storage": "Encrypted server; raw files held only by the data team.",
                "retention": "Raw data deleted five years after collection.",
            },
            "limitations": "Ward selection was purposive; results describe the surveyed wards, not whole districts.",
        },
        "sensitive_topics": [],
        "columns": SURVEY_COLUMNS,
    }
