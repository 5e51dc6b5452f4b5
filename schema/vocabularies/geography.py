"""Nepal's administrative geography: 7 provinces, 77 districts, municipalities.

Codes are strings and hierarchical by length, so a code's level and parent
are derivable without a lookup table:

- province: the official number ``"1"`` .. ``"7"`` (Koshi .. Sudurpashchim);
- district: two digits ``"01"`` .. ``"77"``, numbered east to west by province
  in the order of the National Population and Housing Census 2021;
- municipality: the district code plus a two-digit serial (``"2801"``).

The municipality list is a documented subset: the 6 metropolitan and 11
sub-metropolitan cities, plus Birendranagar (capital of Karnali), Bhaktapur
and Resunga, enough for the demo data and the tests. Extend
``_MUNICIPALITIES`` with the full 753 local levels when the official list is
loaded; codes of the subset are portal codes, not MoFAGA codes.
"""

from __future__ import annotations

from .base import HXL, Code, Dimension, normalise_label

_PROVINCES = [
    (
        "1",
        "Koshi",
        "कोशी",
        "Koshi Province",
        "Province 1",
        "Province No. 1",
        "Province no 1",
        "P1",
        "Pradesh 1",
    ),
    (
        "2",
        "Madhesh",
        "मधेश",
        "Madhesh Province",
        "Madhesh Pradesh",
        "Madhes",
        "Province 2",
        "Province No. 2",
        "P2",
    ),
    ("3", "Bagmati", "बागमती", "Bagmati Province", "Province 3", "Province No. 3", "P3"),
    (
        "4",
        "Gandaki",
        "गण्डकी",
        "Gandaki Province",
        "Province 4",
        "Province No. 4",
        "P4",
        "गण्डकी प्रदेश",
    ),
    ("5", "Lumbini", "लुम्बिनी", "Lumbini Province", "Province 5", "Province No. 5", "P5"),
    ("6", "Karnali", "कर्णाली", "Karnali Province", "Province 6", "Province No. 6", "P6"),
    (
        "7",
        "Sudurpashchim",
        "सुदूरपश्चिम",
        "Sudurpaschim",
        "Sudur Paschim",
        "Sudurpashchim Province",
        "Far-Western",
        "Far Western",
        "Province 7",
        "Province No. 7",
        "P7",
    ),
]

# (code, province, English, Nepali, *variants)
_DISTRICTS = [
    ("01", "1", "Taplejung", "ताप्लेजुङ"),
    ("02", "1", "Sankhuwasabha", "संखुवासभा", "Sankhuwa Sabha"),
    ("03", "1", "Solukhumbu", "सोलुखुम्बु", "Solu Khumbu"),
    ("04", "1", "Okhaldhunga", "ओखलढुङ्गा"),
    ("05", "1", "Khotang", "खोटाङ"),
    ("06", "1", "Bhojpur", "भोजपुर"),
    ("07", "1", "Dhankuta", "धनकुटा"),
    ("08", "1", "Terhathum", "तेह्रथुम", "Tehrathum"),
    ("09", "1", "Panchthar", "पाँचथर"),
    ("10", "1", "Ilam", "इलाम", "Illam"),
    ("11", "1", "Jhapa", "झापा"),
    ("12", "1", "Morang", "मोरङ"),
    ("13", "1", "Sunsari", "सुनसरी"),
    ("14", "1", "Udayapur", "उदयपुर", "Udaypur"),
    ("15", "2", "Saptari", "सप्तरी"),
    ("16", "2", "Siraha", "सिराहा"),
    ("17", "2", "Dhanusha", "धनुषा", "Dhanusa"),
    ("18", "2", "Mahottari", "महोत्तरी"),
    ("19", "2", "Sarlahi", "सर्लाही"),
    ("20", "2", "Rautahat", "रौतहट"),
    ("21", "2", "Bara", "बारा"),
    ("22", "2", "Parsa", "पर्सा"),
    ("23", "3", "Dolakha", "दोलखा"),
    ("24", "3", "Sindhupalchok", "सिन्धुपाल्चोक", "Sindhupalchowk"),
    ("25", "3", "Rasuwa", "रसुवा"),
    ("26", "3", "Dhading", "धादिङ"),
    ("27", "3", "Nuwakot", "नुवाकोट"),
    ("28", "3", "Kathmandu", "काठमाडौं", "काठमाडौँ", "Kathmandu Valley"),
    ("29", "3", "Bhaktapur", "भक्तपुर"),
    ("30", "3", "Lalitpur", "ललितपुर", "Patan"),
    (
        "31",
        "3",
        "Kavrepalanchok",
        "काभ्रेपलाञ्चोक",
        "Kabhrepalanchok",
        "Kavre",
        "Kabhre",
        "Kavrepalanchowk",
    ),
    ("32", "3", "Ramechhap", "रामेछाप", "Ramechap"),
    ("33", "3", "Sindhuli", "सिन्धुली"),
    ("34", "3", "Makwanpur", "मकवानपुर", "Makawanpur"),
    ("35", "3", "Chitwan", "चितवन", "Chitawan"),
    ("36", "4", "Gorkha", "गोरखा"),
    ("37", "4", "Manang", "मनाङ"),
    ("38", "4", "Mustang", "मुस्ताङ"),
    ("39", "4", "Myagdi", "म्याग्दी"),
    ("40", "4", "Kaski", "कास्की"),
    ("41", "4", "Lamjung", "लमजुङ"),
    ("42", "4", "Tanahun", "तनहुँ", "Tanahu"),
    (
        "43",
        "4",
        "Nawalparasi East",
        "नवलपरासी (बर्दघाट सुस्ता पूर्व)",
        "Nawalpur",
        "Nawalparasi (East)",
        "Nawalparasi Bardaghat Susta East",
        "नवलपुर",
    ),
    ("44", "4", "Syangja", "स्याङ्जा"),
    ("45", "4", "Parbat", "पर्वत"),
    ("46", "4", "Baglung", "बागलुङ"),
    ("47", "5", "Rukum East", "रुकुम (पूर्वी भाग)", "Eastern Rukum", "Rukum (East)", "पूर्वी रुकुम"),
    ("48", "5", "Rolpa", "रोल्पा"),
    ("49", "5", "Pyuthan", "प्युठान"),
    ("50", "5", "Gulmi", "गुल्मी"),
    ("51", "5", "Arghakhanchi", "अर्घाखाँची"),
    ("52", "5", "Palpa", "पाल्पा"),
    (
        "53",
        "5",
        "Nawalparasi West",
        "नवलपरासी (बर्दघाट सुस्ता पश्चिम)",
        "Parasi",
        "Nawalparasi (West)",
        "Nawalparasi Bardaghat Susta West",
        "परासी",
    ),
    ("54", "5", "Rupandehi", "रुपन्देही"),
    ("55", "5", "Kapilvastu", "कपिलवस्तु", "Kapilbastu"),
    ("56", "5", "Dang", "दाङ", "Dang Deukhuri"),
    ("57", "5", "Banke", "बाँके"),
    ("58", "5", "Bardiya", "बर्दिया", "Bardia"),
    ("59", "6", "Rukum West", "रुकुम (पश्चिम भाग)", "Western Rukum", "Rukum (West)", "पश्चिमी रुकुम"),
    ("60", "6", "Salyan", "सल्यान"),
    ("61", "6", "Dolpa", "डोल्पा"),
    ("62", "6", "Humla", "हुम्ला"),
    ("63", "6", "Jumla", "जुम्ला"),
    ("64", "6", "Kalikot", "कालिकोट"),
    ("65", "6", "Mugu", "मुगु"),
    ("66", "6", "Surkhet", "सुर्खेत"),
    ("67", "6", "Dailekh", "दैलेख"),
    ("68", "6", "Jajarkot", "जाजरकोट"),
    ("69", "7", "Bajura", "बाजुरा"),
    ("70", "7", "Bajhang", "बझाङ"),
    ("71", "7", "Achham", "अछाम"),
    ("72", "7", "Doti", "डोटी"),
    ("73", "7", "Kailali", "कैलाली"),
    ("74", "7", "Kanchanpur", "कञ्चनपुर"),
    ("75", "7", "Dadeldhura", "डडेलधुरा"),
    ("76", "7", "Baitadi", "बैतडी"),
    ("77", "7", "Darchula", "दार्चुला"),
]

# (code, English, Nepali, *variants); code = district code + serial.
_MUNICIPALITIES = [
    (
        "2801",
        "Kathmandu Metropolitan City",
        "काठमाडौं महानगरपालिका",
        "Kathmandu Metropolitan",
        "KMC",
    ),
    ("3001", "Lalitpur Metropolitan City", "ललितपुर महानगरपालिका", "Lalitpur Metropolitan", "LMC"),
    ("4001", "Pokhara Metropolitan City", "पोखरा महानगरपालिका", "Pokhara", "Pokhara Metropolitan"),
    (
        "3501",
        "Bharatpur Metropolitan City",
        "भरतपुर महानगरपालिका",
        "Bharatpur",
        "Bharatpur Metropolitan",
    ),
    (
        "1201",
        "Biratnagar Metropolitan City",
        "विराटनगर महानगरपालिका",
        "Biratnagar",
        "Biratnagar Metropolitan",
    ),
    (
        "2201",
        "Birgunj Metropolitan City",
        "वीरगंज महानगरपालिका",
        "Birgunj",
        "Birganj",
        "Birgunj Metropolitan",
    ),
    ("1301", "Dharan Sub-Metropolitan City", "धरान उपमहानगरपालिका", "Dharan"),
    ("1302", "Itahari Sub-Metropolitan City", "इटहरी उपमहानगरपालिका", "Itahari"),
    (
        "1701",
        "Janakpurdham Sub-Metropolitan City",
        "जनकपुरधाम उपमहानगरपालिका",
        "Janakpur",
        "Janakpurdham",
    ),
    ("2101", "Kalaiya Sub-Metropolitan City", "कलैया उपमहानगरपालिका", "Kalaiya"),
    (
        "2102",
        "Jitpur Simara Sub-Metropolitan City",
        "जीतपुर सिमरा उपमहानगरपालिका",
        "Jitpur Simara",
        "Simara",
    ),
    ("3401", "Hetauda Sub-Metropolitan City", "हेटौडा उपमहानगरपालिका", "Hetauda"),
    ("5401", "Butwal Sub-Metropolitan City", "बुटवल उपमहानगरपालिका", "Butwal"),
    ("5601", "Ghorahi Sub-Metropolitan City", "घोराही उपमहानगरपालिका", "Ghorahi"),
    ("5602", "Tulsipur Sub-Metropolitan City", "तुलसीपुर उपमहानगरपालिका", "Tulsipur"),
    ("5701", "Nepalgunj Sub-Metropolitan City", "नेपालगञ्ज उपमहानगरपालिका", "Nepalgunj", "Nepalganj"),
    ("7301", "Dhangadhi Sub-Metropolitan City", "धनगढी उपमहानगरपालिका", "Dhangadhi"),
    ("6601", "Birendranagar Municipality", "वीरेन्द्रनगर नगरपालिका", "Birendranagar"),
    ("5001", "Resunga Municipality", "रेसुङ्गा नगरपालिका", "Resunga"),
    ("2901", "Bhaktapur Municipality", "भक्तपुर नगरपालिका", "Bhaktapur Municipality"),
]

LEVELS = ("province", "district", "municipality")
_LEVEL_BY_LENGTH = {1: "province", 2: "district", 4: "municipality"}


def _province_codes() -> list[Code]:
    return [
        Code(
            code=c,
            labels={"en": en, "ne": ne + " प्रदेश" if not ne.endswith("प्रदेश") else ne},
            variants=(en, ne, f"{en} Pradesh", f"{ne} प्रदेश", *v),
            hxl_attribute=None,
        )
        for c, en, ne, *v in _PROVINCES
    ]


def _district_codes() -> list[Code]:
    out = []
    for c, prov, en, ne, *v in _DISTRICTS:
        # The bare number ("1", "01") is accepted as the district code.
        out.append(
            Code(
                code=c,
                labels={"en": en, "ne": ne},
                parent=prov,
                variants=(str(int(c)), f"{en} district", f"{ne} जिल्ला", *v),
            )
        )
    return out


# Longest first: "Sub-Metropolitan City" before "Metropolitan City".
_LOCAL_LEVEL_SUFFIXES = (
    " Sub-Metropolitan City",
    " Metropolitan City",
    " Rural Municipality",
    " Municipality",
    " उपमहानगरपालिका",
    " महानगरपालिका",
    " गाउँपालिका",
    " नगरपालिका",
)


def _bare_name(name: str) -> str:
    for suffix in _LOCAL_LEVEL_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _municipality_codes() -> list[Code]:
    # The bare place name ("Pokhara", "पोखरा") is how most uploads spell a local level.
    return [
        Code(
            code=c,
            labels={"en": en, "ne": ne},
            parent=c[:2],
            variants=(_bare_name(en), _bare_name(ne), *v),
        )
        for c, en, ne, *v in _MUNICIPALITIES
    ]


PROVINCE = Dimension(
    code="province",
    labels={"en": "Province", "ne": "प्रदेश"},
    codes=_province_codes(),
    sdmx="REF_AREA",
    hxl=HXL("#adm1", ("+code",)),
    identifying=False,
    column_names=("province", "pradesh", "state", "adm1", "province_code", "प्रदेश"),
    description="The 7 provinces of Nepal with their official numbers.",
)
DISTRICT = Dimension(
    code="district",
    labels={"en": "District", "ne": "जिल्ला"},
    codes=_district_codes(),
    sdmx="REF_AREA",
    hxl=HXL("#adm2", ("+code",)),
    column_names=("district", "jilla", "zilla", "adm2", "district_code", "जिल्ला"),
    description="The 77 districts of Nepal, each with its province.",
)
MUNICIPALITY = Dimension(
    code="municipality",
    labels={"en": "Municipality", "ne": "स्थानीय तह"},
    codes=_municipality_codes(),
    sdmx="REF_AREA",
    hxl=HXL("#adm3", ("+code",)),
    column_names=("municipality", "palika", "local_level", "adm3", "municipality_code", "पालिका"),
    description="Local levels (subset: metropolitan and sub-metropolitan cities and some capitals).",
)

GEOGRAPHY = {d.code: d for d in (PROVINCE, DISTRICT, MUNICIPALITY)}


def level_of(code: str) -> str | None:
    """The administrative level of a geography code, or None if it is not one."""
    level = _LEVEL_BY_LENGTH.get(len(code)) if isinstance(code, str) else None
    if level and code in GEOGRAPHY[level]:
        return level
    return None


def parent_of(code: str) -> str | None:
    """The code one level up (municipality -> district -> province), or None."""
    level = level_of(code)
    if level is None or level == "province":
        return None
    c = GEOGRAPHY[level].get(code)
    return c.parent if c else None


def place_at_level(code: str, level: str) -> str | None:
    """Walk a geography code up to ``level``; None if it is finer than the code."""
    if level not in LEVELS:
        raise ValueError(f"unknown geography level {level!r}")
    current: str | None = code
    while current is not None:
        lv = level_of(current)
        if lv == level:
            return current
        if lv is None or LEVELS.index(lv) < LEVELS.index(level):
            return None
        current = parent_of(current)
    return None


def match_place(raw: object) -> str | None:
    """Match a place at any level (finest level wins for bare names)."""
    key = normalise_label(raw) if raw is not None else ""
    for dim in (MUNICIPALITY, DISTRICT, PROVINCE):
        code = dim._index.get(key)
        if code is not None:
            return code
    return None
