"""Patterns of personal data, written once for polars (Rust regex) and Python.

Digits include Devanagari digits (० to ९): Nepali text writes phone and ID
numbers in either script.
"""

from __future__ import annotations

D = r"[0-9\x{0966}-\x{096F}]"
_PY_D = "[0-9\u0966-\u096f]"

# Order matters: the first pattern that matches a span wins, so specific
# shapes (emails, URLs, GPS, dates) come before the broad digit runs.
_RUST_PATTERNS: list[tuple[str, str]] = [
    ("EMAIL", r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"),
    ("URL", r"(?i)(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)]"),
    # Kobo geopoints "27.71 85.32 1400 5" and "lat, lon" pairs
    (
        "GPS",
        rf"[-+]?{D}{{1,3}}\.{D}{{3,}}\s*[,;]?\s*[-+]?{D}{{1,3}}\.{D}{{3,}}(?:\s+[-+]?{D}+(?:\.{D}+)?){{0,2}}",
    ),
    (
        "DATE",
        rf"\b{D}{{4}}[-/.]{D}{{1,2}}[-/.]{D}{{1,2}}\b|\b{D}{{1,2}}[-/.]{D}{{1,2}}[-/.]{D}{{4}}\b",
    ),
    (
        "PHONE",
        rf"(?:\+|00)?(?:977[-\s]?)?\b(?:[9\x{{096F}}][678\x{{096C}}-\x{{096E}}]{D}{{8}}|0?1[-\s]?4{D}{{6}}|0{D}{{1,2}}[-\s]{D}{{6,7}})\b",
    ),
    ("PHONE", rf"\+{D}[{D}\s\-().]{{6,16}}{D}"),
    # citizenship certificates "27-01-72-05432", NID "123-456-789-0", passports
    ("ID", rf"\b{D}{{1,6}}(?:[-/]{D}{{1,6}}){{2,}}\b"),
    ("ID", rf"\b[A-Z]{{1,2}}{D}{{6,9}}\b"),
    ("ID", rf"\b{D}{{8,}}\b"),
    ("PHONE", rf"\b{D}{{3,4}}[-\s]{D}{{3,4}}[-\s]?{D}{{3,4}}\b"),
    # a long number written with odd separators: "9  8  4 1", "98,41,23,45,67", "9841_234_567"
    ("ID", rf"\b{D}(?:[\s.,_\-/]{{0,3}}{D}){{8,}}\b"),
]

RUST_PATTERNS = _RUST_PATTERNS

# Month names (English, and the Bikram Sambat months in Latin and Devanagari
# spellings, and the Gregorian months as Nepali writes them) for dates written in words.
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    r"baisa?k?h|baishakh|jest?h(?:a)?|asa?r|ashadh|shrawan|saun|bhadra|bhadau|asoj|ashwin|"
    r"kartik|mangsir|poush|push|magh|fa?lgun|fagun|chaitra?|"
    r"बैशाख|वैशाख|जेठ|असार|साउन|श्रावण|भदौ|असोज|कात्तिक|कार्तिक|मंसिर|पुस|पौष|माघ|फागुन|चैत|"
    r"जनवरी|फेब्रुअरी|मार्च|अप्रिल|अप्रैल|जुलाई|अगस्ट|अगस्त|सेप्टेम्बर|सेप्टेम्बर|अक्टोबर|"
    r"नोभेम्बर|नोवेम्बर|डिसेम्बर)"
)
_LOCAL = r"[A-Za-z0-9._%+\-]+"
_LABEL = r"[A-Za-z0-9\-]+"

#: Patterns that need their context, as (placeholder, pattern, replacement):
#: the replacement keeps the context (``${1}``) and types the personal part.
CONTEXT_PATTERNS: list[tuple[str, str, str]] = [
    # addresses spelt out against harvesting: "sita . tamang @ gmail . com",
    # "sita(at)gmail(dot)com", "sita AT gmail DOT com"
    (
        "EMAIL",
        rf"(?i){_LOCAL}(?:\s*\.\s*{_LOCAL})*(?:\s*@\s*|\s*[(\[{{]\s*at\s*[)\]}}]\s*){_LABEL}"
        rf"(?:(?:\s*\.\s*|\s*[(\[{{]\s*dot\s*[)\]}}]\s*){_LABEL})+",
        "[EMAIL]",
    ),
    ("EMAIL", rf"(?i)\b{_LOCAL}\s+at\s+{_LABEL}(?:\s+dot\s+{_LABEL})+\b", "[EMAIL]"),
    # hemispheres by letter: "27.7172N, 85.3240E", "N27.7172 E85.3240"
    (
        "GPS",
        rf"{D}{{1,3}}\.{D}{{2,}}\s*°?\s*[NSns]\b[\s,;]*{D}{{1,3}}\.{D}{{2,}}\s*°?\s*[EWew]\b",
        "[GPS]",
    ),
    ("GPS", rf"\b[NSns]\s*{D}{{1,3}}\.{D}{{2,}}[\s,;]+[EWew]\s*{D}{{1,3}}\.{D}{{2,}}", "[GPS]"),
    # "12-Mar-1931", "12 मार्च 1931"
    ("DATE", rf"(?i)\b{D}{{1,2}}[-/. ]{_MONTHS}[-/. ]{D}{{4}}\b", "[DATE]"),
    # accounts: "facebook: sita.tamang.123" is a name by another spelling
    (
        "NAME",
        r"(?i)\b(facebook|fb|instagram|insta|twitter|tiktok|viber|whatsapp|telegram|skype|"
        r"signal|imo|wechat|linkedin)(\s*(?:id|account|handle)?\s*[:\-=]\s*)[A-Za-z0-9_.]{3,}",
        "${1}${2}[NAME]",
    ),
    # coordinates labelled "lat 27.7172 lon 85.3240", and degrees-minutes-seconds
    (
        "GPS",
        rf"(?i)\b(?:lat|latitude|lon|lng|long|longitude)\b\s*[:=]?\s*[-+]?{D}{{1,3}}\.{D}{{2,}}",
        "[GPS]",
    ),
    (
        "GPS",
        rf"{D}{{1,3}}\s*°\s*(?:{D}{{1,2}}\s*['′]\s*(?:{D}{{1,2}}(?:\.{D}+)?\s*[\"″]\s*)?)?[NSns]"
        rf"[\s,;]*{D}{{1,3}}\s*°\s*(?:{D}{{1,2}}\s*['′]\s*(?:{D}{{1,2}}(?:\.{D}+)?\s*[\"″]\s*)?)?[EWew]",
        "[GPS]",
    ),
    # dates in words: "12 March 1990", "12th of Magh 2047", "March 12, 1990"
    (
        "DATE",
        rf"(?i)\b{D}{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTHS}\.?,?\s+{D}{{4}}\b",
        "[DATE]",
    ),
    ("DATE", rf"(?i)\b{_MONTHS}\.?\s+{D}{{1,2}}(?:st|nd|rd|th)?,?\s+{D}{{4}}\b", "[DATE]"),
    # a year of birth: "born in 1990", "DOB: 1990", "जन्म २०४७ साल"
    (
        "DATE",
        rf"(?i)(\b(?:born|date\s+of\s+birth|birth\s*date|birth\s*year|year\s+of\s+birth|dob|"
        rf"d\.o\.b|b\.)(?:\b|\s)\.?\s*[:\-]?\s*(?:in|on)?\s*(?:the\s+year\s+)?(?:{_MONTHS}\.?\s+)?)"
        rf"{D}{{4}}\b",
        "${1}[DATE]",
    ),
    ("DATE", rf"(जन्म\S*\s*(?:मिति|साल|वर्ष)?\s*[:\-]?\s*){D}{{4}}", "${1}[DATE]"),
    # web addresses without a scheme: "example.org/p/12", "sita.com.np"
    (
        "URL",
        r"(?i)\b(?:[a-z0-9\-]+\.)+(?:com|org|net|np|gov|edu|info|io|me|co|uk)\b(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)])?",
        "[URL]",
    ),
    # social media handles ("@sita_tamang"): a name by another spelling
    ("NAME", r"(^|[\s(\[,;:])@[A-Za-z0-9_.]{3,30}[A-Za-z0-9_]", "${1}[NAME]"),
]

# Whole-value shapes used to recognise identifier *columns* (Python ``re``).
PY_EMAIL = r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+$"
PY_GPS = rf"^[-+]?{_PY_D}{{1,3}}\.{_PY_D}{{3,}}(?:\s*[,;]?\s*[-+]?{_PY_D}{{1,3}}\.{_PY_D}{{3,}})?(?:\s+[-+]?{_PY_D}+(?:\.{_PY_D}+)?){{0,2}}$"
PY_ID = (
    rf"^(?:{_PY_D}{{1,6}}(?:[-/]{_PY_D}{{1,6}}){{2,}}|[A-Z]{{1,2}}{_PY_D}{{6,9}}|{_PY_D}{{8,}})$"
)
#: a whole plain date, as the DATE shape above (year first or last; which part is
#: which is named, for a check of the ranges)
PY_DATE = (
    rf"^(?:(?P<y1>{_PY_D}{{4}})[-/.](?P<m1>{_PY_D}{{1,2}})[-/.](?P<d1>{_PY_D}{{1,2}})"
    rf"|(?P<d2>{_PY_D}{{1,2}})[-/.](?P<m2>{_PY_D}{{1,2}})[-/.](?P<y2>{_PY_D}{{4}}))$"
)
PY_DIGITS = _PY_D

PLACEHOLDERS = ("PHONE", "EMAIL", "URL", "ID", "DATE", "GPS", "NAME")

_META = set(r"\.+*?()|[]{}^$#&-~")


def rust_escape(text: str) -> str:
    """Escape ``text`` for the Rust regex engine polars uses; spaces match any run."""
    out = []
    for ch in text:
        if ch.isspace():
            if not out or out[-1] != r"\s+":
                out.append(r"\s+")
        elif ch in _META:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)
