"""Nepal's administrative geography: 7 provinces, 77 districts, 753 local levels.

Codes are strings and hierarchical by length, so a code's level and parent
are derivable without a lookup table:

- province: the official number ``"1"`` .. ``"7"`` (Koshi .. Sudurpashchim);
- district: two digits ``"01"`` .. ``"77"``, the national district number of
  the Federal Affairs (MoFAGA) / CBS-NSO list (census 2021 ``dist``), east to
  west by province;
- municipality (local level): the district code plus the local level's
  official two-digit serial in its district (census 2021 ``gapa``), so
  Kathmandu Metropolitan City is ``"2808"``.

The five-digit federal codes (district ``"306"``, local level ``"30608"``:
province, district serial within the province, local level serial) are
accepted as spellings of the same places.

The 753 local levels (6 metropolitan cities, 11 sub-metropolitan cities, 276
municipalities, 460 rural municipalities) live in ``data/local_levels.csv``
(source and corrections in ``data/README.md``) and are read once, at first
use, so importing this module stays cheap.

Local level names repeat across districts (four Madi, several Tribeni,
Kalika, Bagmati...). A spelling shared by several local levels matches none
of them: :meth:`LocalLevelDimension.match` returns None and
:meth:`LocalLevelDimension.candidates` lists the places it could be, unless
the district is known from context (``match(raw, district="Chitwan")``).
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

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
    ("59", "6", "Dolpa", "डोल्पा"),
    ("60", "6", "Mugu", "मुगु"),
    ("61", "6", "Humla", "हुम्ला"),
    ("62", "6", "Jumla", "जुम्ला"),
    ("63", "6", "Kalikot", "कालिकोट"),
    ("64", "6", "Dailekh", "दैलेख"),
    ("65", "6", "Jajarkot", "जाजरकोट"),
    ("66", "6", "Rukum West", "रुकुम (पश्चिम भाग)", "Western Rukum", "Rukum (West)", "पश्चिमी रुकुम"),
    ("67", "6", "Salyan", "सल्यान"),
    ("68", "6", "Surkhet", "सुर्खेत"),
    ("69", "7", "Bajura", "बाजुरा"),
    ("70", "7", "Bajhang", "बझाङ"),
    ("71", "7", "Darchula", "दार्चुला"),
    ("72", "7", "Baitadi", "बैतडी"),
    ("73", "7", "Dadeldhura", "डडेलधुरा"),
    ("74", "7", "Doti", "डोटी"),
    ("75", "7", "Achham", "अछाम"),
    ("76", "7", "Kailali", "कैलाली"),
    ("77", "7", "Kanchanpur", "कञ्चनपुर"),
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
    serial_in_province: dict[str, int] = {}
    for c, prov, en, ne, *v in _DISTRICTS:
        serial_in_province[prov] = serial_in_province.get(prov, 0) + 1
        federal = f"{prov}{serial_in_province[prov]:02d}"  # "306" = Kathmandu
        # The bare number ("1", "01") and the federal code are accepted as the district code.
        out.append(
            Code(
                code=c,
                labels={"en": en, "ne": ne},
                parent=prov,
                variants=(str(int(c)), federal, f"{en} district", f"{ne} जिल्ला", *v),
            )
        )
    return out


#: The four kinds of local level, with their English and Nepali names.
LOCAL_LEVEL_TYPES: dict[str, dict[str, str]] = {
    "metropolitan_city": {"en": "Metropolitan City", "ne": "महानगरपालिका"},
    "sub_metropolitan_city": {"en": "Sub-Metropolitan City", "ne": "उपमहानगरपालिका"},
    "municipality": {"en": "Municipality", "ne": "नगरपालिका"},
    "rural_municipality": {"en": "Rural Municipality", "ne": "गाउँपालिका"},
}

# How uploads spell the kind of local level after the place name, besides the official names.
_TYPE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "metropolitan_city": (
        "Metropolitan",
        "Metropolitian City",
        "Mahanagarpalika",
        "Maha Nagarpalika",
    ),
    "sub_metropolitan_city": (
        "Sub-Metropolitan",
        "Sub-Metropolitian City",
        "Upamahanagarpalika",
        "Upa Mahanagarpalika",
    ),
    "municipality": ("Nagarpalika", "Nagar Palika", "Municipal"),
    "rural_municipality": ("Gaunpalika", "Gaupalika", "Gaun Palika", "Village Municipality"),
}

# Spellings of the formerly curated cities that differ from the official list.
_EXTRA_VARIANTS: dict[str, tuple[str, ...]] = {
    "2808": ("काठमाडौं महानगरपालिका", "काठमाडौँ महानगरपालिका", "काठमाडौं", "KMC"),
    "3002": ("LMC", "Patan"),
    "4004": ("Pokhara Lekhnath", "Pokhara Lekhnath Metropolitan City"),
    "1214": ("विराटनगर महानगरपालिका", "विराटनगर"),
    "2207": ("Birganj", "Birgunj Metropolitan", "वीरगञ्ज महानगरपालिका"),
    "1306": ("इटहरी उपमहानगरपालिका", "इटहरी"),
    "1715": ("Janakpur", "Janakpur Sub-Metropolitan City"),
    "2103": ("Simara",),
    "5603": ("तुलसीपुर उपमहानगरपालिका", "तुलसीपुर"),
    "5706": ("Nepalgunj", "Nepalgunj Sub-Metropolitan City"),
    "6806": ("वीरेन्द्रनगर नगरपालिका", "वीरेन्द्रनगर"),
}

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
_DATA_FILE = "local_levels.csv"


def _bare_name(name: str) -> str:
    for suffix in _LOCAL_LEVEL_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _nasal_spellings(text: str) -> tuple[str, ...]:
    """Candrabindu and anusvara are used interchangeably (गाउँ / गाउं, काठमाडौं / काठमाडौँ)."""
    return tuple({text.replace("ँ", "ं"), text.replace("ं", "ँ")} - {text})


@dataclass(frozen=True)
class LocalLevel:
    """What the official list says about one local level besides its names."""

    code: str
    federal_code: str
    type: str
    wards: int


@dataclass
class _LocalLevelTable:
    codes: list[Code]
    by_code: dict[str, Code]
    info: dict[str, LocalLevel]
    index: dict[str, str]  # unambiguous spellings only
    own_index: dict[str, str]  # codes and official names that belong to one local level
    owners: dict[str, tuple[str, ...]]  # every spelling -> every local level spelt so


def _read_local_levels() -> _LocalLevelTable:
    text = resources.files(__package__).joinpath("data", _DATA_FILE).read_text(encoding="utf-8")
    codes: list[Code] = []
    info: dict[str, LocalLevel] = {}
    own: dict[str, set[str]] = {}  # a local level's code, federal code and official names
    other: dict[str, set[str]] = {}  # bare names and other spellings
    for row in csv.DictReader(io.StringIO(text)):
        code, en, ne, kind = row["code"], row["name_en"], row["name_ne"], row["type"]
        bare_en, bare_ne = _bare_name(en), _bare_name(ne)
        variants = (
            bare_en,
            bare_ne,
            *(f"{bare_en} {spelling}" for spelling in _TYPE_SPELLINGS[kind]),
            *_nasal_spellings(ne),
            *_nasal_spellings(bare_ne),
            *_EXTRA_VARIANTS.get(code, ()),
        )
        c = Code(code=code, labels={"en": en, "ne": ne}, parent=row["district"], variants=variants)
        codes.append(c)
        info[code] = LocalLevel(code, row["federal_code"], kind, int(row["wards"]))
        for key in (code, row["federal_code"], en, ne):
            own.setdefault(normalise_label(key), set()).add(code)
        for key in variants:
            other.setdefault(normalise_label(key), set()).add(code)
    index: dict[str, str] = {}
    owners: dict[str, tuple[str, ...]] = {}
    for key in own.keys() | other.keys():
        first = own.get(key, set())
        every = first | other.get(key, set())
        owners[key] = tuple(sorted(every))
        # A local level's own name beats another's bare name; a tie is ambiguous.
        winners = first or every
        if len(winners) == 1:
            index[key] = next(iter(winners))
    own_index = {key: next(iter(found)) for key, found in own.items() if len(found) == 1}
    return _LocalLevelTable(codes, {c.code: c for c in codes}, info, index, own_index, owners)


_LOAD_LOCK = threading.Lock()


class LocalLevelDimension(Dimension):
    """The municipality dimension: 753 local levels read from the data file at first use.

    Behaves like any :class:`Dimension`; in addition, spellings shared by several
    local levels are reported by :meth:`candidates` and match none of them unless
    a district narrows them down.
    """

    def __init__(self, **fields) -> None:  # no dataclass __init__: codes are loaded lazily
        for name, value in fields.items():
            setattr(self, name, value)
        self._table: _LocalLevelTable | None = None

    def _load(self) -> _LocalLevelTable:
        if self._table is None:
            with _LOAD_LOCK:
                if self._table is None:
                    self._table = _read_local_levels()
        return self._table

    @property
    def codes(self) -> list[Code]:  # type: ignore[override]
        return self._load().codes

    @property
    def _by_code(self) -> dict[str, Code]:  # type: ignore[override]
        return self._load().by_code

    @property
    def _index(self) -> dict[str, str]:  # type: ignore[override]
        return self._load().index

    def info(self, code: str) -> LocalLevel | None:
        """Federal code, type and number of wards of a local level."""
        return self._load().info.get(code)

    def candidates(self, raw: object) -> tuple[str, ...]:
        """Every local level this spelling could mean (more than one: ambiguous)."""
        if raw is None:
            return ()
        return self._load().owners.get(normalise_label(raw), ())

    def match(self, raw: object, district: object = None) -> str | None:
        """The local level for a raw value, or None when unknown or ambiguous.

        ``district`` (a district code or name, e.g. from another column of the
        same row) chooses among local levels of the same name; a name that is
        not in that district matches nothing.
        """
        if raw is None:
            return None
        if district is None:
            return self._index.get(normalise_label(raw))
        district_code = district if district in DISTRICT else DISTRICT.match(district)
        if district_code is None:
            return None
        found = [c for c in self.candidates(raw) if self._by_code[c].parent == district_code]
        return found[0] if len(found) == 1 else None

    def match_column(
        self, values: Iterable[object], district: object = None
    ) -> tuple[dict[str, str], list[str]]:
        """Like :meth:`Dimension.match_column`; ambiguous names are left unmatched."""
        mapping: dict[str, str] = {}
        unmatched: list[str] = []
        seen: set[str] = set()
        for raw in values:
            if raw is None:
                continue
            text = str(raw)
            if text in seen or not text.strip():
                continue
            seen.add(text)
            code = self.match(text, district)
            if code is None:
                unmatched.append(text)
            else:
                mapping[text] = code
        return mapping, unmatched

    def ambiguous(self, values: Iterable[object]) -> dict[str, tuple[str, ...]]:
        """The distinct values that name several local levels, with the places they could be."""
        out: dict[str, tuple[str, ...]] = {}
        for raw in values:
            if raw is None or str(raw) in out:
                continue
            found = self.candidates(raw)
            if len(found) > 1 and self.match(raw) is None:
                out[str(raw)] = found
        return out


def local_level_type(code: str) -> str | None:
    """``metropolitan_city``, ``sub_metropolitan_city``, ``municipality`` or ``rural_municipality``."""
    found = MUNICIPALITY.info(code) if isinstance(code, str) and len(code) == 4 else None
    return found.type if found else None


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
MUNICIPALITY = LocalLevelDimension(
    code="municipality",
    labels={"en": "Municipality", "ne": "स्थानीय तह"},
    sdmx="REF_AREA",
    hxl=HXL("#adm3", ("+code",)),
    column_names=("municipality", "palika", "local_level", "adm3", "municipality_code", "पालिका"),
    description=(
        "The 753 local levels of Nepal (metropolitan and sub-metropolitan cities, "
        "municipalities and rural municipalities), each with its district."
    ),
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
    """Match a place at any level from a code or a name.

    Codes and full names are unambiguous. A bare name that is both a district
    (or province) and a local level's place name means the district ("Jhapa",
    "Kathmandu"); otherwise a bare local level name is matched when only one
    local level has it ("Pokhara"), and a shared one ("Madi") matches nothing.
    """
    if raw is None:
        return None
    key = normalise_label(raw)
    code = MUNICIPALITY._load().own_index.get(key)
    if code is not None:
        return code
    for dim in (DISTRICT, PROVINCE):
        code = dim._index.get(key)
        if code is not None:
            return code
    return MUNICIPALITY._index.get(key)
