"""Generalisation ladders for quasi-identifiers: age bands, admin levels, dates, rare categories.

A ladder lists, for every distinct value of a column, its label at each level
of generalisation (level 0 is what is published at the least). Ladders are
built over distinct values only, so their cost does not grow with rows.

The standard's hierarchies come from ``schema.vocabularies`` when it is
installed (``parent_of`` for places, ``age_band`` for ages); the fallbacks here
keep the same shapes so the module works either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

try:  # the standard, when present
    from schema import vocabularies as _vocabularies
except ImportError:  # pragma: no cover - depends on the schema package's progress
    _vocabularies = None

PLACE_LEVELS = ("municipality", "district", "province")
_AGE_WIDTHS = (5, 10, 20)
_AGE = re.compile(r"^\s*(\d{1,3})(?:\.\d+)?\s*$")
_AGE_BAND = re.compile(r"^\s*(\d{1,3})\s*(?:-|–|to)\s*(\d{1,3})\s*$")
_AGE_OPEN = re.compile(r"^\s*(\d{1,3})\s*\+\s*$")
_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?")


#: broad caste/ethnic groups of the standard's caste_ethnicity codes (the
#: grouping of Nepal's census and NLSS reports); the level above the codes
CASTE_GROUPS = {
    "hill_brahmin": "brahmin_chhetri",
    "hill_chhetri": "brahmin_chhetri",
    "madhesi_brahmin_chhetri": "madhesi_caste",
    "madhesi_other_caste": "madhesi_caste",
    "hill_dalit": "dalit",
    "madhesi_dalit": "dalit",
    "mountain_hill_janajati": "janajati",
    "tarai_janajati": "janajati",
    "newar": "janajati",
}
#: Washington Group answers at the WG-SS cut-off (the level above the answers)
WG_CUTOFF = {
    "no_difficulty": "no_or_some_difficulty",
    "some_difficulty": "no_or_some_difficulty",
    "a_lot_of_difficulty": "a_lot_of_difficulty_or_cannot",
    "cannot_do_at_all": "a_lot_of_difficulty_or_cannot",
}
_GROUPINGS = {"caste_ethnicity": ("broad caste/ethnic groups", CASTE_GROUPS)}
_GROUPINGS |= {
    f"disability_{domain}": ("Washington Group cut-off", WG_CUTOFF)
    for domain in ("seeing", "hearing", "mobility", "cognition", "self_care", "communication")
}


def parent_of(code: str) -> str | None:
    """The standard's parent of a place code, or None when unknown."""
    if _vocabularies is not None and hasattr(_vocabularies, "parent_of"):
        try:
            return _vocabularies.parent_of(code)
        except Exception:  # unknown code: treated as a plain category
            return None
    return None


def place_level_of(code: str) -> str | None:
    if _vocabularies is not None and hasattr(_vocabularies, "level_of"):
        try:
            return _vocabularies.level_of(code)
        except Exception:
            return None
    return None


def age_lower_bound(value: str) -> tuple[int, int | None] | None:
    """(lower bound, width or None for an exact age / open band) of an age or band."""
    if m := _AGE.match(value):
        return int(m.group(1)), 1
    if m := _AGE_BAND.match(value):
        lo, hi = int(m.group(1)), int(m.group(2))
        return lo, hi - lo + 1
    if m := _AGE_OPEN.match(value):
        return int(m.group(1)), None
    return None


def age_label(lower: int, width: int, top: int) -> str:
    if lower >= top:
        return f"{top}+"
    lo = lower // width * width
    return f"{lo}-{lo + width - 1}"


def _age_levels(uniques: list[str], width: int, top: int) -> list[tuple[str, list[str]]]:
    """Age ladders: the standard's 5-year, broad and UN bands when it is installed."""
    if _vocabularies is not None and hasattr(_vocabularies, "generalise"):
        out = []
        current = list(uniques)
        for level, name in (
            ("5y", "5-year age bands"),
            ("broad", "broad age groups"),
            ("un", "UN broad age groups"),
        ):
            labels = []
            for value in current:
                try:
                    labels.append(_vocabularies.generalise("age", value.strip(), level) or value)
                except ValueError:
                    labels.append(value)
            out.append((name, labels))
            current = labels
        return out
    out = []
    parsed = [age_lower_bound(v) for v in uniques]
    for w in [w for w in _AGE_WIDTHS if w >= width] or [width]:
        labels = []
        for value, p in zip(uniques, parsed, strict=True):
            if p is None:
                labels.append(value)
            elif p[1] is None or p[0] >= top:
                labels.append(f"{min(p[0], top)}+")
            else:
                labels.append(age_label(p[0], max(w, p[1]), top))
        out.append((f"age bands of {w} years", labels))
    return out


@dataclass
class Ladder:
    """Labels of every distinct value of one column, level by level."""

    column: str
    kind: str  # age, place, date, category
    uniques: list[str]
    levels: list[tuple[str, list[str]]] = field(default_factory=list)
    #: level published at the least (rare categories always become "other")
    base: int = 0

    def names(self) -> list[str]:
        return [name for name, _ in self.levels]


#: Names of columns holding ages (a column of small whole numbers is an age only if so named:
#: ward numbers and household sizes are not).
_AGE_NAME = re.compile(r"(^|[_\s/.-])(age|ages|umer|umar|उमेर|years?_old)($|[_\s/.-])", re.I)


def _kind(dimension: str | None, uniques: list[str], column: str = "") -> str:
    if dimension == "age":
        return "age"
    if dimension in PLACE_LEVELS or dimension in ("place", "ward"):
        return "place"
    sample = uniques[:200]
    if sample and dimension in (None, "date") and all(_DATE.match(v) for v in sample):
        return "date"
    if (
        sample
        and dimension is None
        and _AGE_NAME.search(column)
        and all(age_lower_bound(v) for v in sample)
        and len(uniques) > 12
    ):
        return "age" if all(_AGE.match(v) for v in sample) else "category"
    return "category"


def build_ladder(
    column: str,
    dimension: str | None,
    uniques: list[str],
    counts: np.ndarray,
    *,
    age_band_width: int,
    age_top_code: int,
    place_level: str,
    date_level: str,
    rare_category_min: int,
    other_code: str,
) -> Ladder:
    """The ladder of ``column`` (``uniques`` are its distinct non-null values, ``counts`` their frequencies)."""
    kind = _kind(dimension, uniques, column)
    ladder = Ladder(column, kind, uniques)
    if kind == "age":
        for level, labels in _age_levels(uniques, age_band_width, age_top_code):
            ladder.levels.append((level, labels))
    elif kind == "place":
        start = PLACE_LEVELS.index(dimension) if dimension in PLACE_LEVELS else 0
        target = PLACE_LEVELS.index(place_level) if place_level in PLACE_LEVELS else 1
        labels = list(uniques)
        level = start
        while level < target:
            labels = [parent_of(v) or v for v in labels]
            level += 1
        ladder.levels.append((PLACE_LEVELS[max(level, start)], labels))
        while level < len(PLACE_LEVELS) - 1:
            parents = [parent_of(v) for v in labels]
            if not any(parents):
                break
            labels = [p or v for p, v in zip(parents, labels, strict=True)]
            level += 1
            ladder.levels.append((PLACE_LEVELS[level], labels))
        if not ladder.levels[0][1] or len(ladder.levels) == 1:
            _rare(ladder, ladder.levels[0][1], counts, rare_category_min, other_code)
    elif kind == "date":
        month = [v[:7] for v in uniques]
        year = [v[:4] for v in uniques]
        if date_level == "month":
            ladder.levels.append(("month", month))
        ladder.levels.append(("year", year))
    else:
        ladder.levels.append(("as published", list(uniques)))
        _rare(ladder, list(uniques), counts, rare_category_min, other_code)
        ladder.base = len(ladder.levels) - 1
        if dimension in _GROUPINGS:
            name, groups = _GROUPINGS[dimension]
            current = ladder.levels[-1][1]
            # a label of the level below goes to the group all its values share
            # ("other" holding only 'cannot_do_at_all' joins 'a lot or cannot'),
            # else stays as it is, so the levels nest
            shared: dict[str, set[str]] = {}
            for value, label in zip(uniques, current, strict=True):
                shared.setdefault(label, set()).add(groups.get(value, groups.get(label, label)))
            grouped = [next(iter(shared[v])) if len(shared[v]) == 1 else v for v in current]
            if len(set(grouped)) < len(set(current)):
                ladder.levels.append((name, grouped))
    return ladder


def _rare(ladder: Ladder, labels: list[str], counts: np.ndarray, minimum: int, other: str) -> None:
    """Append a level where categories rarer than ``minimum`` become ``other``."""
    totals: dict[str, int] = {}
    for label, n in zip(labels, counts.tolist(), strict=True):
        totals[label] = totals.get(label, 0) + n
    rare = {label for label, n in totals.items() if n < minimum}
    if rare:
        ladder.levels.append(
            (
                f"categories with fewer than {minimum} records as '{other}'",
                [other if v in rare else v for v in labels],
            )
        )
