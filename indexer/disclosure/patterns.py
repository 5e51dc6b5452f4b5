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
]

RUST_PATTERNS = _RUST_PATTERNS

# Whole-value shapes used to recognise identifier *columns* (Python ``re``).
PY_EMAIL = r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+$"
PY_GPS = rf"^[-+]?{_PY_D}{{1,3}}\.{_PY_D}{{3,}}(?:\s*[,;]?\s*[-+]?{_PY_D}{{1,3}}\.{_PY_D}{{3,}})?(?:\s+[-+]?{_PY_D}+(?:\.{_PY_D}+)?){{0,2}}$"
PY_ID = (
    rf"^(?:{_PY_D}{{1,6}}(?:[-/]{_PY_D}{{1,6}}){{2,}}|[A-Z]{{1,2}}{_PY_D}{{6,9}}|{_PY_D}{{8,}})$"
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
