"""Person-level disaggregation dimensions: sex, age, disability, caste/ethnicity..."""

from __future__ import annotations

import re
from dataclasses import replace

from .base import HXL, Code, Dimension, codes, normalise_label

SEX = Dimension(
    code="sex",
    labels={"en": "Sex", "ne": "लिङ्ग"},
    codes=[
        Code(
            "female",
            {"en": "Female", "ne": "महिला"},
            ("f", "woman", "women", "girl", "fem", "mahila", "स्त्री", "नारी", "महिला"),
            sdmx="F",
            hxl_attribute="+f",
        ),
        Code(
            "male",
            {"en": "Male", "ne": "पुरुष"},
            ("m", "man", "men", "boy", "purush", "पुरूष", "पुरुष"),
            sdmx="M",
            hxl_attribute="+m",
        ),
        Code(
            "other",
            {"en": "Other / third gender", "ne": "अन्य / तेस्रो लिङ्गी"},
            (
                "o",
                "third gender",
                "third",
                "tesro lingi",
                "तेस्रो लिङ्गी",
                "अन्य",
                "others",
                "x",
                "intersex",
            ),
            sdmx="_O",
        ),
    ],
    sdmx="SEX",
    hxl=HXL("#respondee", ("+sex",)),
    column_names=("sex", "gender", "linga", "respondent_sex", "sex_of_respondent", "लिङ्ग"),
)

# 5-year bands up to 85+, and UN broad age groups.
FIVE_YEAR_BANDS = [(lo, lo + 4) for lo in range(0, 85, 5)] + [(85, None)]
BROAD_BANDS = [(0, 14), (15, 24), (25, 64), (65, None)]
UN_BROAD_BANDS = [(0, 14), (15, 64), (65, None)]
MAX_AGE = 120


def _band_code(lo: int, hi: int | None) -> str:
    return f"{lo}-{hi}" if hi is not None else f"{lo}+"


def age_band(n: int | float, scheme: str = "5y") -> str:
    """The band code for an age in years: ``scheme`` is ``5y``, ``broad`` or ``un``.

    ``broad`` is 0-14, 15-24, 25-64, 65+ (youth apart); ``un`` is the UN's
    0-14, 15-64, 65+.
    """
    bands = {"5y": FIVE_YEAR_BANDS, "broad": BROAD_BANDS, "un": UN_BROAD_BANDS}[scheme]
    age = int(n)
    if age < 0 or age > MAX_AGE:
        raise ValueError(f"age {n!r} is outside 0..{MAX_AGE}")
    for lo, hi in bands:
        if age >= lo and (hi is None or age <= hi):
            return _band_code(lo, hi)
    raise AssertionError("unreachable")


_BAND_RE = re.compile(r"^(\d{1,3})\s*(?:-|–|to|और|देखि)\s*(\d{1,3})(?:\s*(?:years?|yrs?|y|वर्ष))?$")
_PLUS_RE = re.compile(r"^(\d{1,3})\s*(?:\+|plus|and above|and over|or more|years and above|माथि)$")
_YEARS_RE = re.compile(r"^(\d{1,3})(?:\.0+)?\s*(?:years?|yrs?|y|वर्ष)?$")


def _band_labels(lo: int, hi: int | None) -> dict[str, str]:
    if hi is None:
        return {"en": f"{lo} years and over", "ne": f"{lo} वर्ष र माथि"}
    return {"en": f"{lo}–{hi} years", "ne": f"{lo}–{hi} वर्ष"}


class AgeDimension(Dimension):
    """Age: single years (``"34"``) or a band code (``"30-34"``, ``"65+"``)."""

    def match(self, raw: object) -> str | None:
        if raw is None:
            return None
        key = normalise_label(raw)
        m = _YEARS_RE.match(key.replace(" ", "")) or _YEARS_RE.match(key)
        if m:
            n = int(m.group(1))
            return str(n) if n <= MAX_AGE else None
        m = _BAND_RE.match(key)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            return f"{lo}-{hi}" if lo <= hi <= MAX_AGE else None
        m = _PLUS_RE.match(key) or _PLUS_RE.match(key.replace(" ", ""))
        if m:
            return f"{int(m.group(1))}+"
        return self._index.get(key)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.match(code) == code


AGE = AgeDimension(
    code="age",
    labels={"en": "Age", "ne": "उमेर"},
    codes=[Code(_band_code(lo, hi), _band_labels(lo, hi)) for lo, hi in FIVE_YEAR_BANDS]
    + [
        Code(_band_code(lo, hi), _band_labels(lo, hi))
        for lo, hi in BROAD_BANDS + UN_BROAD_BANDS
        if _band_code(lo, hi) not in {_band_code(a, b) for a, b in FIVE_YEAR_BANDS}
    ],
    sdmx="AGE",
    hxl=HXL("#respondee", ("+age",)),
    column_names=(
        "age",
        "umer",
        "age_years",
        "respondent_age",
        "age_of_respondent",
        "उमेर",
        "age_group",
        "age_band",
    ),
    description="Age in completed years (0-120) or a band: 5-year bands and broad groups.",
)

# Washington Group Short Set: answer categories shared by the six domains.
WG_ANSWERS = codes(
    [
        (
            "no_difficulty",
            "No difficulty",
            "कुनै कठिनाइ छैन",
            "no",
            "none",
            "1",
            "no difficulty at all",
        ),
        (
            "some_difficulty",
            "Some difficulty",
            "केही कठिनाइ",
            "some",
            "2",
            "yes some difficulty",
            "a little",
        ),
        (
            "a_lot_of_difficulty",
            "A lot of difficulty",
            "धेरै कठिनाइ",
            "a lot",
            "3",
            "yes a lot of difficulty",
            "lot of difficulty",
        ),
        (
            "cannot_do_at_all",
            "Cannot do at all",
            "पटक्कै गर्न सक्दिन",
            "cannot",
            "4",
            "unable",
            "cannot do",
            "can not do at all",
        ),
    ]
)

WG_DOMAINS = {
    "seeing": ("Difficulty seeing, even if wearing glasses", "चस्मा लगाउँदा पनि हेर्न कठिनाइ", "हेर्ने"),
    "hearing": (
        "Difficulty hearing, even if using a hearing aid",
        "श्रवण यन्त्र प्रयोग गर्दा पनि सुन्न कठिनाइ",
        "सुन्ने",
    ),
    "mobility": ("Difficulty walking or climbing steps", "हिँड्न वा भर्याङ चढ्न कठिनाइ", "हिँड्ने"),
    "cognition": (
        "Difficulty remembering or concentrating",
        "सम्झन वा ध्यान केन्द्रित गर्न कठिनाइ",
        "सम्झने",
    ),
    "self_care": (
        "Difficulty with self-care such as washing all over or dressing",
        "आफ्नो हेरचाह (नुहाउने, लुगा लगाउने) गर्न कठिनाइ",
        "स्याहार",
    ),
    "communication": (
        "Difficulty communicating in the usual language",
        "आफ्नो सामान्य भाषामा सञ्चार गर्न कठिनाइ",
        "सञ्चार",
    ),
}


def _wg_domain(domain: str, en: str, ne: str, short_ne: str) -> Dimension:
    return Dimension(
        code=f"disability_{domain}",
        labels={"en": en, "ne": ne},
        codes=list(WG_ANSWERS),
        # No SDMX concept or HXL attribute holds a single functioning domain; the
        # identifier derived from the six (DISABILITY) maps to DISABILITY_STATUS.
        sdmx=None,
        hxl=None,
        identifying=False,
        column_names=(
            f"wg_{domain}",
            f"disability_{domain}",
            domain,
            f"wgss_{domain}",
            f"difficulty_{domain}",
        ),
        description="Washington Group Short Set question; answer in four categories.",
    )


DISABILITY = Dimension(
    code="disability",
    labels={"en": "Disability (Washington Group identifier)", "ne": "अपाङ्गता"},
    codes=[
        Code(
            "with_disability",
            {"en": "With disability", "ne": "अपाङ्गता भएका"},
            (
                "disabled",
                "yes",
                "pwd",
                "person with disability",
                "with disabilities",
                "अपाङ्गता भएको",
                "हो",
            ),
            sdmx="PD",
            hxl_attribute="+disabled",
        ),
        Code(
            "without_disability",
            {"en": "Without disability", "ne": "अपाङ्गता नभएका"},
            (
                "not disabled",
                "no",
                "no disability",
                "without disabilities",
                "अपाङ्गता नभएको",
                "होइन",
            ),
            sdmx="PWD",
        ),
    ],
    sdmx="DISABILITY_STATUS",
    hxl=HXL("#respondee", ("+disabled",)),
    column_names=("disability", "disability_status", "pwd", "apangata", "अपाङ्गता", "wg_disability"),
    description=(
        "The Washington Group disability identifier: 'with disability' when at least one of the six "
        "domains is answered 'a lot of difficulty' or 'cannot do at all'."
    ),
)
WG_DIMENSIONS = [_wg_domain(d, *labels) for d, labels in WG_DOMAINS.items()]
_SEVERE = {"a_lot_of_difficulty", "cannot_do_at_all"}


def wg_disability_identifier(answers: dict[str, str | None]) -> str | None:
    """The WG-SS disability identifier from the six domain answers (codes).

    ``with_disability`` if any domain is "a lot of difficulty" or "cannot do
    at all"; ``without_disability`` if all six are answered otherwise; None if
    an answer is missing and none is severe.
    """
    values = [answers.get(d) for d in WG_DOMAINS]
    if any(v in _SEVERE for v in values):
        return "with_disability"
    if all(v in {"no_difficulty", "some_difficulty"} for v in values):
        return "without_disability"
    return None


CASTE_ETHNICITY = Dimension(
    code="caste_ethnicity",
    labels={"en": "Caste/ethnicity", "ne": "जात/जातीयता"},
    codes=codes(
        [
            (
                "hill_brahmin",
                "Hill Brahmin",
                "पहाडी ब्राह्मण",
                "brahmin hill",
                "bahun",
                "brahman",
                "brahmin",
                "बाहुन",
                "ब्राह्मण",
            ),
            (
                "hill_chhetri",
                "Hill Chhetri",
                "पहाडी क्षेत्री",
                "chhetri",
                "kshetri",
                "chhettri",
                "thakuri",
                "sanyasi",
                "dashnami",
                "क्षेत्री",
                "ठकुरी",
                "सन्यासी",
            ),
            (
                "madhesi_brahmin_chhetri",
                "Madhesi Brahmin/Chhetri",
                "मधेसी ब्राह्मण/क्षेत्री",
                "madhesi brahmin",
                "tarai brahmin",
                "rajput",
                "kayastha",
                "bhumihar",
                "madhesi chhetri",
            ),
            (
                "madhesi_other_caste",
                "Madhesi other castes",
                "मधेसी अन्य जात",
                "madhesi other",
                "yadav",
                "teli",
                "koiri",
                "kurmi",
                "sudhi",
                "kalwar",
                "madhesi",
                "यादव",
            ),
            (
                "hill_dalit",
                "Hill Dalit",
                "पहाडी दलित",
                "dalit hill",
                "kami",
                "damai",
                "sarki",
                "gaine",
                "badi",
                "dalit",
                "कामी",
                "दमाई",
                "सार्की",
                "दलित",
            ),
            (
                "madhesi_dalit",
                "Madhesi Dalit",
                "मधेसी दलित",
                "dalit madhesi",
                "tarai dalit",
                "chamar",
                "musahar",
                "dusadh",
                "paswan",
                "dhobi",
                "khatwe",
                "मुसहर",
                "चमार",
            ),
            (
                "mountain_hill_janajati",
                "Mountain/Hill Janajati",
                "हिमाली/पहाडी जनजाति",
                "hill janajati",
                "janajati hill",
                "mountain janajati",
                "janajati",
                "adivasi janajati",
                "magar",
                "tamang",
                "rai",
                "limbu",
                "gurung",
                "sherpa",
                "sunuwar",
                "chepang",
                "thakali",
                "मगर",
                "तामाङ",
                "राई",
                "लिम्बु",
                "गुरुङ",
                "शेर्पा",
                "जनजाति",
            ),
            (
                "tarai_janajati",
                "Tarai Janajati",
                "तराई जनजाति",
                "terai janajati",
                "tharu",
                "dhimal",
                "rajbanshi",
                "satar",
                "santhal",
                "jhangad",
                "gangai",
                "थारु",
                "थारू",
            ),
            ("newar", "Newar", "नेवार", "newa", "नेवा"),
            ("muslim", "Muslim", "मुस्लिम", "musalman", "मुसलमान"),
            ("other", "Other", "अन्य", "others", "other caste", "foreigner"),
        ]
    ),
    sdmx=None,
    hxl=HXL("#respondee", ("+ethnicity",)),
    sensitive=False,
    column_names=(
        "caste",
        "ethnicity",
        "caste_ethnicity",
        "jat",
        "jati",
        "caste_group",
        "ethnic_group",
        "जात",
        "जातजाति",
    ),
    description="Caste/ethnic groupings used in Nepal census and NLSS analysis.",
)


def _with_hxl(rows: list[Code], attributes: dict[str, str]) -> list[Code]:
    """Codes with the HXL attribute (``+displaced``...) of those that have one."""
    return [replace(c, hxl_attribute=attributes.get(c.code, c.hxl_attribute)) for c in rows]


MIGRATION_STATUS = Dimension(
    code="migration_status",
    labels={"en": "Migration status", "ne": "बसाइँसराइ स्थिति"},
    codes=_with_hxl(
        codes(
            [
                (
                    "non_migrant",
                    "Non-migrant",
                    "बसाइँ नसरेका",
                    "non migrant",
                    "native",
                    "not migrated",
                    "local",
                ),
                (
                    "internal_migrant",
                    "Internal migrant",
                    "आन्तरिक बसाइँसराइ गरेका",
                    "internal",
                    "internal migration",
                ),
                (
                    "international_migrant",
                    "International migrant (abroad)",
                    "वैदेशिक रोजगारी/विदेशमा",
                    "international",
                    "migrant worker abroad",
                    "foreign employment",
                    "abroad",
                    "वैदेशिक रोजगार",
                ),
                (
                    "returnee",
                    "Returnee migrant",
                    "फर्किएका आप्रवासी",
                    "returned",
                    "return migrant",
                    "returnee migrant",
                ),
                (
                    "refugee",
                    "Refugee or displaced",
                    "शरणार्थी वा विस्थापित",
                    "displaced",
                    "idp",
                    "internally displaced",
                    "शरणार्थी",
                ),
            ]
        ),
        {"refugee": "+displaced", "returnee": "+returnees"},
    ),
    sdmx="MIGRATORY_STATUS",
    hxl=None,
    column_names=("migration_status", "migration", "migrant", "migrant_status", "बसाइँसराइ"),
)

SOGI = Dimension(
    code="sogi",
    labels={"en": "Sexual orientation and gender identity", "ne": "यौनिक अभिमुखीकरण र लैङ्गिक पहिचान"},
    codes=codes(
        [
            ("lesbian", "Lesbian", "लेस्बियन", "लेस्बियन महिला"),
            ("gay", "Gay", "गे", "गे पुरुष"),
            ("bisexual", "Bisexual", "बाइसेक्सुअल", "bi"),
            (
                "transgender_woman",
                "Transgender woman",
                "पारलैङ्गिक महिला",
                "trans woman",
                "transwoman",
                "mtf",
            ),
            ("transgender_man", "Transgender man", "पारलैङ्गिक पुरुष", "trans man", "transman", "ftm"),
            ("third_gender", "Third gender", "तेस्रो लिङ्गी", "tesro lingi", "meti", "मेटी"),
            ("intersex", "Intersex", "अन्तरलिङ्गी", "inter sex"),
            (
                "queer",
                "Queer / other",
                "क्वियर / अन्य",
                "queer",
                "questioning",
                "non binary",
                "nonbinary",
            ),
            (
                "heterosexual_cisgender",
                "Heterosexual and cisgender",
                "विषमलिङ्गी",
                "straight",
                "heterosexual",
                "cisgender",
            ),
            (
                "prefer_not_to_say",
                "Prefer not to say",
                "भन्न चाहन्न",
                "prefer not to answer",
                "declined",
                "refused",
            ),
        ]
    ),
    sdmx=None,
    hxl=None,
    sensitive=True,
    column_names=("sogi", "sexual_orientation", "gender_identity", "lgbti", "lgbtiq", "sogiesc"),
)

LANGUAGE = Dimension(
    code="language",
    labels={"en": "Mother tongue / language", "ne": "मातृभाषा / भाषा"},
    codes=codes(
        [
            ("ne", "Nepali", "नेपाली", "nep", "khas", "khas nepali"),
            ("mai", "Maithili", "मैथिली"),
            ("bho", "Bhojpuri", "भोजपुरी"),
            ("thl", "Tharu", "थारु", "थारू"),
            ("taj", "Tamang", "तामाङ"),
            ("bjj", "Bajjika", "बज्जिका"),
            ("mgp", "Magar", "मगर", "magar dhut", "मगर ढुट"),
            ("dty", "Doteli", "डोटेली"),
            ("new", "Newar (Nepal Bhasa)", "नेपाल भाषा (नेवारी)", "newari", "nepal bhasa", "नेवारी"),
            ("awa", "Awadhi", "अवधी"),
            ("lif", "Limbu", "लिम्बु"),
            ("gvr", "Gurung", "गुरुङ"),
            ("rai", "Rai languages", "राई भाषा", "bantawa", "chamling", "kulung"),
            ("ur", "Urdu", "उर्दु"),
            ("hi", "Hindi", "हिन्दी"),
            ("en", "English", "अङ्ग्रेजी", "eng"),
            ("sgn", "Nepali Sign Language", "नेपाली साङ्केतिक भाषा", "sign language", "nsl"),
            ("other", "Other", "अन्य"),
        ]
    ),
    sdmx=None,
    hxl=HXL("#respondee", ("+language",)),
    identifying=True,
    column_names=("language", "mother_tongue", "matribhasa", "first_language", "मातृभाषा", "भाषा"),
    description="ISO 639-1 codes where one exists, else ISO 639-3 (rai groups the Kiranti Rai languages).",
)

WEALTH_QUINTILE = Dimension(
    code="wealth_quintile",
    labels={"en": "Income/wealth quintile", "ne": "आय/सम्पत्ति पञ्चमांश"},
    codes=codes(
        [
            (
                "q1",
                "Poorest quintile",
                "सबैभन्दा गरिब पञ्चमांश",
                "1",
                "poorest",
                "lowest",
                "first quintile",
                "quintile 1",
            ),
            ("q2", "Second quintile", "दोस्रो पञ्चमांश", "2", "second", "poorer", "quintile 2"),
            ("q3", "Middle quintile", "मध्यम पञ्चमांश", "3", "middle", "third", "quintile 3"),
            ("q4", "Fourth quintile", "चौथो पञ्चमांश", "4", "fourth", "richer", "quintile 4"),
            (
                "q5",
                "Richest quintile",
                "सबैभन्दा धनी पञ्चमांश",
                "5",
                "richest",
                "highest",
                "fifth",
                "quintile 5",
            ),
        ]
    ),
    sdmx="INCOME_WEALTH_QUANTILE",
    hxl=None,
    identifying=False,
    column_names=("wealth_quintile", "income_quintile", "quintile", "wealth_index_quintile"),
)

URBAN_RURAL = Dimension(
    code="urban_rural",
    labels={"en": "Urban/rural", "ne": "शहरी/ग्रामीण"},
    codes=[
        Code(
            "urban",
            {"en": "Urban (municipality)", "ne": "शहरी (नगरपालिका)"},
            ("u", "city", "town", "municipality", "nagarpalika", "शहरी", "नगरपालिका", "नगरपालिका"),
            sdmx="U",
            hxl_attribute="+urban",
        ),
        Code(
            "rural",
            {"en": "Rural (rural municipality)", "ne": "ग्रामीण (गाउँपालिका)"},
            ("r", "village", "rural municipality", "gaunpalika", "ग्रामीण", "गाउँपालिका"),
            sdmx="R",
            hxl_attribute="+rural",
        ),
    ],
    sdmx="URBANISATION",
    hxl=None,
    identifying=False,
    column_names=("urban_rural", "urban", "rural", "area_type", "locality_type", "settlement_type"),
)
