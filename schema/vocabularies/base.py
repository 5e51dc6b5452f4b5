"""Building blocks of a disaggregation vocabulary: codes, dimensions, matching."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_PUNCT = re.compile(r"[\s\.\,\-_/\\()\[\]'\"`:;]+")
# Zero-width (non-)joiners and the nukta vary between Nepali keyboards.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u093c"), None)


def normalise_label(raw: object) -> str:
    """Fold a raw cell to a comparison key: case, width, punctuation, spaces, digits."""
    text = unicodedata.normalize("NFKC", str(raw)).translate(_INVISIBLE)
    text = text.translate(_DEVANAGARI_DIGITS).casefold()
    return _PUNCT.sub(" ", text).strip()


@dataclass(frozen=True)
class Code:
    """One category of a dimension, with its labels and spelling variants."""

    code: str
    labels: Mapping[str, str]
    variants: tuple[str, ...] = ()
    parent: str | None = None
    sdmx: str | None = None
    hxl_attribute: str | None = None

    def label(self, lang: str = "en") -> str:
        return self.labels.get(lang) or self.labels.get("en") or self.code

    def to_dict(self) -> dict:
        out: dict = {"code": self.code, "labels": dict(self.labels)}
        if self.parent:
            out["parent"] = self.parent
        if self.sdmx:
            out["sdmx"] = self.sdmx
        if self.hxl_attribute:
            out["hxl_attribute"] = self.hxl_attribute
        return out


@dataclass(frozen=True)
class HXL:
    """HXL hashtag and attributes for a column of this dimension."""

    hashtag: str
    attributes: tuple[str, ...] = ()

    def tag(self) -> str:
        return self.hashtag + "".join(self.attributes)


@dataclass
class Dimension:
    """A standard disaggregation dimension with its code list.

    ``identifying`` says whether the dimension helps single a person out (it
    is then suggested as a quasi-identifier); ``sensitive`` whether its values
    are special-category data (l-diversity, higher cube threshold).
    ``column_names`` are header spellings that suggest the dimension.
    """

    code: str
    labels: Mapping[str, str]
    codes: list[Code]
    sdmx: str | None = None
    hxl: HXL | None = None
    identifying: bool = True
    sensitive: bool = False
    column_names: tuple[str, ...] = ()
    description: str = ""
    _index: dict[str, str] = field(default_factory=dict, repr=False)
    _by_code: dict[str, Code] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for c in self.codes:
            self._by_code[c.code] = c
        for c in self.codes:
            for key in (c.code, *c.labels.values(), *c.variants):
                norm = normalise_label(key)
                # First writer wins: a code's own spelling beats another's variant.
                self._index.setdefault(norm, c.code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Code | None:
        return self._by_code.get(code)

    def label(self, code: str, lang: str = "en") -> str:
        c = self._by_code.get(code)
        return c.label(lang) if c else code

    def match(self, raw: object) -> str | None:
        """The code for a raw value (case, spacing, variants, Nepali labels), or None."""
        if raw is None:
            return None
        return self._index.get(normalise_label(raw))

    def match_column(self, values: Iterable[object]) -> tuple[dict[str, str], list[str]]:
        """Match distinct values: ``({raw: code}, [unmatched raw values])``.

        Nulls and blank strings are skipped; unmatched values are reported,
        never guessed.
        """
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
            code = self.match(text)
            if code is None:
                unmatched.append(text)
            else:
                mapping[text] = code
        return mapping, unmatched

    def to_dict(self, *, with_codes: bool = True) -> dict:
        out: dict = {
            "code": self.code,
            "labels": dict(self.labels),
            "sdmx": self.sdmx,
            "hxl": {"hashtag": self.hxl.hashtag, "attributes": list(self.hxl.attributes)}
            if self.hxl
            else None,
            "identifying": self.identifying,
            "sensitive": self.sensitive,
        }
        if self.description:
            out["description"] = self.description
        if with_codes:
            out["codes"] = [c.to_dict() for c in self.codes]
        return out


def codes(rows: Iterable[tuple], **common) -> list[Code]:
    """Build codes from ``(code, en, ne, *variants)`` tuples."""
    out = []
    for code, en, ne, *variants in rows:
        out.append(Code(code=code, labels={"en": en, "ne": ne}, variants=tuple(variants), **common))
    return out
