"""Controlled list of dataset topics, with English and Nepali labels."""

from __future__ import annotations

TOPICS: dict[str, dict[str, str]] = {
    "water": {"en": "Water", "ne": "खानेपानी"},
    "sanitation": {"en": "Sanitation and hygiene", "ne": "सरसफाइ"},
    "health": {"en": "Health", "ne": "स्वास्थ्य"},
    "nutrition": {"en": "Nutrition and food security", "ne": "पोषण र खाद्य सुरक्षा"},
    "education": {"en": "Education", "ne": "शिक्षा"},
    "disability": {"en": "Disability inclusion", "ne": "अपाङ्गता समावेशीकरण"},
    "gender": {"en": "Gender equality", "ne": "लैङ्गिक समानता"},
    "gbv": {"en": "Gender-based violence", "ne": "लैङ्गिक हिंसा"},
    "lgbtiq": {"en": "LGBTIQ rights", "ne": "यौनिक तथा लैङ्गिक अल्पसंख्यक अधिकार"},
    "caste-discrimination": {"en": "Caste-based discrimination", "ne": "जातीय भेदभाव"},
    "indigenous-peoples": {"en": "Indigenous peoples", "ne": "आदिवासी जनजाति"},
    "livelihoods": {"en": "Livelihoods and employment", "ne": "जीविकोपार्जन र रोजगारी"},
    "migration": {"en": "Migration", "ne": "बसाइँसराइ"},
    "social-protection": {"en": "Social protection", "ne": "सामाजिक सुरक्षा"},
    "governance": {"en": "Governance and accountability", "ne": "सुशासन र जवाफदेहिता"},
    "justice": {"en": "Access to justice", "ne": "न्यायमा पहुँच"},
    "land": {"en": "Land and housing", "ne": "भूमि र आवास"},
    "climate": {"en": "Climate and environment", "ne": "जलवायु र वातावरण"},
    "disaster": {"en": "Disaster risk and response", "ne": "विपद् जोखिम र प्रतिकार्य"},
    "children": {"en": "Children and youth", "ne": "बालबालिका र युवा"},
    "older-people": {"en": "Older people", "ne": "ज्येष्ठ नागरिक"},
    "hiv": {"en": "HIV", "ne": "एचआईभी"},
}
