"""Places: geography codes of the vocabulary, their labels, and filters that include sub-places."""

from __future__ import annotations

import graphene

from api.graphql.core.context import pick_language
from schema.vocabularies.geography import GEOGRAPHY, LEVELS, level_of, match_place


class Place(graphene.ObjectType):
    """An administrative area (province, district or municipality of Nepal)."""

    code = graphene.String(required=True)
    label = graphene.String(required=True, lang=graphene.String())
    level = graphene.String(description="province, district or municipality")
    parent = graphene.String(description="The code of the enclosing area.")

    @staticmethod
    def resolve_code(root: str, info):
        return root

    @staticmethod
    def resolve_label(root: str, info, lang=None):
        return place_label(root, lang or info.context.lang)

    @staticmethod
    def resolve_level(root: str, info):
        return level_of(root)

    @staticmethod
    def resolve_parent(root: str, info):
        level = level_of(root)
        found = GEOGRAPHY[level].get(root) if level else None
        return found.parent if found else None


def place_label(code: str, lang: str) -> str:
    level = level_of(code)
    found = GEOGRAPHY[level].get(code) if level else None
    return (pick_language(dict(found.labels), lang) or code) if found else code


def place_code(raw: str) -> str | None:
    """A geography code from a code or a name in any spelling the vocabulary knows."""
    if level_of(raw):
        return raw
    return match_place(raw)


def with_sub_places(raw_places: list[str]) -> list[str]:
    """The codes of the named places and of every place inside them (a province's districts)."""
    out: list[str] = []
    for raw in raw_places:
        code = place_code(raw)
        if code is None:
            out.append(raw)
            continue
        out.append(code)
        level = level_of(code)
        frontier = [code]
        for finer in LEVELS[LEVELS.index(level) + 1 :]:
            frontier = [c.code for c in GEOGRAPHY[finer].codes if c.parent in set(frontier)]
            out.extend(frontier)
    return list(dict.fromkeys(out))
