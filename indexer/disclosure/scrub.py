"""Scrub personal data out of free text, with typed placeholders.

The default scrubber needs no model: patterns (run by polars' Rust regex
engine over whole columns), the ``phonenumbers`` matcher for phone numbers in
any format, and every value of the dataset's own identifier columns (names
appear in testimonies). A named-entity recogniser plugs in behind
:class:`TextRecogniser`; :class:`PresidioRecogniser` uses Presidio where it
and a spaCy model are installed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import phonenumbers
import polars as pl

from indexer.disclosure.patterns import CONTEXT_PATTERNS, RUST_PATTERNS, rust_escape

_TOKEN_CHUNK = 1500
_PLACEHOLDER = re.compile(r"\[(PHONE|EMAIL|URL|ID|DATE|GPS|NAME)\]")
_MIN_PART = 2  # single letters ("K.") are not scrubbed on their own


@runtime_checkable
class TextRecogniser(Protocol):
    """Finds personal data in one text: returns (start, end, placeholder type)."""

    def find(self, text: str) -> Iterable[tuple[int, int, str]]: ...


class PresidioRecogniser:
    """Presidio's analyser (needs ``presidio-analyzer`` and a spaCy model)."""

    _TYPES = {
        "PERSON": "NAME",
        "PHONE_NUMBER": "PHONE",
        "EMAIL_ADDRESS": "EMAIL",
        "URL": "URL",
        "DATE_TIME": "DATE",
        "LOCATION": "NAME",
    }

    def __init__(self, language: str = "en", score_threshold: float = 0.5) -> None:
        from presidio_analyzer import AnalyzerEngine  # optional dependency

        self._engine = AnalyzerEngine()
        self._language = language
        self._threshold = score_threshold

    def find(self, text: str) -> Iterable[tuple[int, int, str]]:
        for hit in self._engine.analyze(text=text, language=self._language):
            kind = self._TYPES.get(hit.entity_type)
            if kind and hit.score >= self._threshold:
                yield hit.start, hit.end, kind


#: A digit of another script than ASCII and Devanagari (Bengali "৯", Gujarati...) or a circled
#: one ("➒", "⑨", which NFKC does not all map): read as its ASCII digit by :func:`fold`.
_FOREIGN_DIGIT = re.compile(r"(?![0-9\u0966-\u096f])[\d\u2460-\u24ff\u2776-\u2793]")
#: Seven digits, with up to three other characters between them: worth the phonenumbers pass.
_DIGIT_RUN = re.compile(r"[0-9\u0966-\u096f](?:\D{0,3}[0-9\u0966-\u096f]){6}")


def _ascii_digit(m: re.Match) -> str:
    value = unicodedata.digit(m.group(), None)
    return m.group() if value is None else str(value)


def fold(text: str) -> str:
    """``text`` as the patterns read it: NFKC (fullwidth "９８４１" and "ｓｉｔａ＠", superscript
    and mathematical digits become plain ones) and every digit of another script (Bengali
    "৯৮৪১", circled "➒") as its ASCII digit; Devanagari digits stay, the patterns know them."""
    if text.isascii():
        return text
    return _FOREIGN_DIGIT.sub(_ascii_digit, unicodedata.normalize("NFKC", text))


def identifier_tokens(values: Iterable[str], *, parts: bool = True) -> list[str]:
    """Every value and, for names, every part of it ("Sita Kumari Tamang" -> "Sita", ...)."""
    tokens: set[str] = set()
    for value in values:
        value = value.strip()
        if len(value) < _MIN_PART:
            continue
        tokens.add(value)
        if not parts:
            continue
        for part in re.split(r"[\s,.;:/()\-_]+", value):
            if len(part) >= _MIN_PART and not part.isdigit():
                tokens.add(part)
    # longest first so that a full name wins over its parts
    return sorted(tokens, key=lambda t: (-len(t), t))


def _token_patterns(tokens: list[str]) -> list[str]:
    # Word-bounded and case-insensitive; \b in Rust regex is Unicode-aware, and
    # Devanagari vowel signs count as word characters, so "सीता" does not match
    # inside a longer word. Chunked to stay under the regex size limit.
    out = []
    for start in range(0, len(tokens), _TOKEN_CHUNK):
        chunk = tokens[start : start + _TOKEN_CHUNK]
        out.append(r"(?i)\b(?:" + "|".join(rust_escape(t) for t in chunk) + r")\b")
    return out


def _phonenumbers_pass(text: str, regions: tuple[str, ...]) -> str:
    for region in regions:
        spans = [
            (m.start, m.end)
            for m in phonenumbers.PhoneNumberMatcher(
                text, region, leniency=phonenumbers.Leniency.POSSIBLE
            )
        ]
        for start, end in reversed(spans):
            text = text[:start] + "[PHONE]" + text[end:]
    return text


def _recogniser_pass(text: str, recogniser: TextRecogniser) -> str:
    spans = sorted(recogniser.find(text), key=lambda s: s[0])
    out, last = [], 0
    for start, end, kind in spans:
        if start < last:
            continue
        out.append(text[last:start])
        out.append(f"[{kind}]")
        last = end
    out.append(text[last:])
    return "".join(out)


_WHOLE_FIRST = frozenset({"EMAIL", "URL"})


def scrub_expr(column: str, identifier_values: dict[str, list[str]]) -> pl.Expr:
    """A polars expression that replaces identifiers in ``column`` by placeholders.

    ``identifier_values`` maps a placeholder type ("NAME", "PHONE", ...) to the
    values of the dataset's own identifier columns of that type.
    """
    expr = pl.col(column).cast(pl.String)
    # Addresses first, whole: "sita.tamang@mail.com" is one [EMAIL], not "[NAME]@[URL]".
    for kind, pattern in RUST_PATTERNS:
        if kind in _WHOLE_FIRST:
            expr = expr.str.replace_all(pattern, f"[{kind}]")
    # then the dataset's own values: a phone from the phone column is a [PHONE]
    # whatever its format, a name is a [NAME].
    for kind in ("EMAIL", "PHONE", "ID", "GPS", "NAME"):
        tokens = identifier_tokens(identifier_values.get(kind, ()), parts=kind == "NAME")
        for pattern in _token_patterns(tokens):
            expr = expr.str.replace_all(pattern, f"[{kind}]")
    for kind, pattern in RUST_PATTERNS:
        if kind not in _WHOLE_FIRST:
            expr = expr.str.replace_all(pattern, f"[{kind}]")
    # then shapes that need their context (labelled coordinates, dates in words,
    # years of birth, addresses without a scheme): after the plain shapes, so
    # that an email's domain or a full numeric date is already typed
    for _kind, pattern, replacement in CONTEXT_PATTERNS:
        expr = expr.str.replace_all(pattern, replacement)
    return expr.alias(column)


def scrub_columns(
    df: pl.DataFrame,
    columns: list[str],
    identifier_values: dict[str, list[str]],
    *,
    regions: tuple[str, ...] = ("NP",),
    recogniser: TextRecogniser | None = None,
) -> tuple[pl.DataFrame, Counter]:
    """Scrub ``columns`` of ``df``; return the new frame and placeholders added per type.

    Each distinct text is scrubbed once and the result mapped back, so a column
    of repeated answers costs what its distinct values cost; placeholders are
    counted per record (a distinct text's count times its frequency).
    """
    counts: Counter = Counter()
    replaced = []
    for column in columns:
        distinct = df.get_column(column).cast(pl.String).drop_nulls().value_counts()
        old_texts = distinct.get_column(column).to_list()
        frequency = distinct.get_column("count")
        # Scrubbed as folded; a text is published folded only where that found something.
        folded = [fold(t) for t in old_texts]
        scrubbed = pl.DataFrame({column: folded}, schema={column: pl.String}).select(
            scrub_expr(column, identifier_values)
        )
        new_texts = scrubbed.get_column(column).to_list()
        # phonenumbers (and an optional recogniser) on what still has digits
        # (or on every text, for a recogniser)
        for i, text in enumerate(new_texts):
            if recogniser is None and not _DIGIT_RUN.search(text):
                continue
            text = _phonenumbers_pass(text, regions)
            if recogniser is not None:
                text = _recogniser_pass(text, recogniser)
            new_texts[i] = text
        changed_old, changed_new = [], []
        for i, (old, new) in enumerate(zip(old_texts, new_texts, strict=True)):
            if new == folded[i] and new != old:
                new_texts[i] = old  # folding alone found nothing: the text stays as written
        for old, new, n in zip(old_texts, new_texts, frequency.to_list(), strict=True):
            if old == new:
                continue
            changed_old.append(old)
            changed_new.append(new)
            added = Counter(_PLACEHOLDER.findall(new))
            added.subtract(_PLACEHOLDER.findall(old))
            for kind, k in added.items():
                counts[kind] += k * n
        column_out = df.get_column(column).cast(pl.String)
        if changed_old:
            column_out = column_out.replace(changed_old, changed_new)
        replaced.append(column_out.alias(column))
    out = df.with_columns(replaced) if replaced else df
    return out, +counts
