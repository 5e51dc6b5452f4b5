"""Controlled vocabularies of the CGD standard's disaggregation dimensions.

Each :class:`Dimension` has a code list with English and Nepali labels, its
SDMX concept and HXL hashtag where one exists, and matches raw cell values
(case, spacing, spelling variants, Nepali labels) to codes. Geography codes
are hierarchical (see :mod:`schema.vocabularies.geography`) and ages can be
generalised to bands, which the disclosure step uses through
:func:`generalise`.
"""

from __future__ import annotations

from .base import HXL, Code, Dimension, normalise_label
from .geography import (
    DISTRICT,
    LEVELS,
    MUNICIPALITY,
    PROVINCE,
    level_of,
    match_place,
    parent_of,
    place_at_level,
)
from .people import (
    AGE,
    BROAD_BANDS,
    CASTE_ETHNICITY,
    DISABILITY,
    FIVE_YEAR_BANDS,
    LANGUAGE,
    MIGRATION_STATUS,
    SEX,
    SOGI,
    UN_BROAD_BANDS,
    URBAN_RURAL,
    WEALTH_QUINTILE,
    WG_ANSWERS,
    WG_DIMENSIONS,
    WG_DOMAINS,
    age_band,
    wg_disability_identifier,
)

DIMENSIONS: dict[str, Dimension] = {
    d.code: d
    for d in (
        SEX,
        AGE,
        DISABILITY,
        *WG_DIMENSIONS,
        CASTE_ETHNICITY,
        PROVINCE,
        DISTRICT,
        MUNICIPALITY,
        MIGRATION_STATUS,
        SOGI,
        LANGUAGE,
        WEALTH_QUINTILE,
        URBAN_RURAL,
    )
}

GEOGRAPHY_DIMENSIONS = ("province", "district", "municipality")

#: Levels each dimension can be generalised to, finest first.
GENERALISATION_LEVELS: dict[str, tuple[str, ...]] = {
    "age": ("year", "5y", "broad", "un"),
    "municipality": LEVELS[::-1],
    "district": ("district", "province"),
    "province": ("province",),
}


def get_dimension(code: str) -> Dimension:
    """The dimension with this code; KeyError naming the known ones otherwise."""
    try:
        return DIMENSIONS[code]
    except KeyError:
        raise KeyError(f"unknown dimension {code!r}; known: {', '.join(DIMENSIONS)}") from None


def _age_bounds(code: str) -> tuple[int, int | None] | None:
    if code.isdigit():
        return int(code), int(code)
    if code.endswith("+") and code[:-1].isdigit():
        return int(code[:-1]), None
    lo, _, hi = code.partition("-")
    if lo.isdigit() and hi.isdigit():
        return int(lo), int(hi)
    return None


def _generalise_age(code: str, level: str) -> str | None:
    bounds = _age_bounds(code)
    if bounds is None:
        return None
    lo, hi = bounds
    if level == "year":
        return code if lo == hi else None
    bands = {"5y": FIVE_YEAR_BANDS, "broad": BROAD_BANDS, "un": UN_BROAD_BANDS}.get(level)
    if bands is None:
        raise ValueError(f"unknown age level {level!r}; use one of {GENERALISATION_LEVELS['age']}")
    target = age_band(lo, level)
    # A band only generalises when it fits wholly inside the coarser band.
    t_lo, t_hi = _age_bounds(target)  # type: ignore[misc]
    if t_hi is None:
        return target
    if hi is None or hi > t_hi:
        return None
    return target


def generalise(dimension: str, code: str, level: str) -> str | None:
    """Generalise ``code`` of ``dimension`` to a coarser ``level``.

    - ``age``: ``year`` (identity for single years), ``5y``, ``broad``
      (0-14, 15-24, 25-64, 65+) or ``un`` (0-14, 15-64, 65+);
      ``generalise("age", "34", "5y") == "30-34"``.
    - geography (``municipality``, ``district``, ``province``): the
      enclosing unit at ``level``; ``generalise("district", "28", "province") == "3"``.

    Returns None when the code cannot be expressed at that level (unknown
    code, or a band that straddles two coarser bands). Raises ValueError for
    a level the dimension does not have.
    """
    if dimension == "age":
        return _generalise_age(code, level)
    if dimension in GEOGRAPHY_DIMENSIONS:
        if level not in GENERALISATION_LEVELS[dimension]:
            raise ValueError(f"{dimension} cannot be generalised to {level!r}")
        return place_at_level(code, level)
    raise ValueError(f"dimension {dimension!r} has no generalisation hierarchy")


__all__ = [
    "AGE",
    "CASTE_ETHNICITY",
    "DIMENSIONS",
    "DISABILITY",
    "DISTRICT",
    "GENERALISATION_LEVELS",
    "GEOGRAPHY_DIMENSIONS",
    "HXL",
    "LANGUAGE",
    "LEVELS",
    "MIGRATION_STATUS",
    "MUNICIPALITY",
    "PROVINCE",
    "SEX",
    "SOGI",
    "URBAN_RURAL",
    "WEALTH_QUINTILE",
    "WG_ANSWERS",
    "WG_DIMENSIONS",
    "WG_DOMAINS",
    "Code",
    "Dimension",
    "age_band",
    "generalise",
    "get_dimension",
    "level_of",
    "match_place",
    "normalise_label",
    "parent_of",
    "place_at_level",
    "wg_disability_identifier",
]
