"""The disaggregation vocabulary: dimensions and their code lists (schema.vocabularies)."""

from __future__ import annotations

import graphene

from api.graphql.core.context import pick_language
from schema.vocabularies import DIMENSIONS
from schema.vocabularies.base import Code
from schema.vocabularies.base import Dimension as VocabularyDimension

UNKNOWN_CODE = "_unknown"
UNKNOWN_LABELS = {"en": "Unknown or withheld", "ne": "अज्ञात वा गोप्य"}


class LocalizedText(graphene.ObjectType):
    """A text in one language (BCP 47 code such as ``en`` or ``ne``)."""

    lang = graphene.String(required=True)
    text = graphene.String(required=True)


def localized(values: dict[str, str] | None) -> list[LocalizedText]:
    return [LocalizedText(lang=k, text=v) for k, v in (values or {}).items()]


def _lang(info, lang: str | None) -> str:
    return lang or info.context.lang


class DimensionCode(graphene.ObjectType):
    """One category of a dimension (a caste group, a district, an age band, ...)."""

    code = graphene.String(required=True)
    label = graphene.String(required=True, lang=graphene.String())
    labels = graphene.List(graphene.NonNull(LocalizedText), required=True)
    parent = graphene.String(description="The code of the enclosing category (places).")
    sdmx = graphene.String()

    @staticmethod
    def resolve_code(root: Code, info):
        return root.code

    @staticmethod
    def resolve_label(root: Code, info, lang=None):
        return pick_language(dict(root.labels), _lang(info, lang)) or root.code

    @staticmethod
    def resolve_labels(root: Code, info):
        return localized(dict(root.labels))

    @staticmethod
    def resolve_parent(root: Code, info):
        return root.parent

    @staticmethod
    def resolve_sdmx(root: Code, info):
        return root.sdmx


class Dimension(graphene.ObjectType):
    """A standard disaggregation dimension of the CGD standard, with its code list."""

    class Meta:
        interfaces = (graphene.relay.Node,)

    code = graphene.String(required=True)
    label = graphene.String(required=True, lang=graphene.String())
    labels = graphene.List(graphene.NonNull(LocalizedText), required=True)
    description = graphene.String()
    sdmx = graphene.String(description="The SDMX concept this dimension maps to.")
    hxl = graphene.String(description="The HXL hashtag (with attributes) for a column.")
    sensitive = graphene.Boolean(
        required=True, description="Special-category data: aggregates use a higher threshold."
    )
    codes = graphene.List(graphene.NonNull(DimensionCode), required=True)

    @staticmethod
    def resolve_id(root: VocabularyDimension, info):
        return root.code

    @staticmethod
    def resolve_code(root: VocabularyDimension, info):
        return root.code

    @staticmethod
    def resolve_label(root: VocabularyDimension, info, lang=None):
        return pick_language(dict(root.labels), _lang(info, lang)) or root.code

    @staticmethod
    def resolve_labels(root: VocabularyDimension, info):
        return localized(dict(root.labels))

    @staticmethod
    def resolve_description(root: VocabularyDimension, info):
        return root.description or None

    @staticmethod
    def resolve_sdmx(root: VocabularyDimension, info):
        return root.sdmx

    @staticmethod
    def resolve_hxl(root: VocabularyDimension, info):
        return root.hxl.tag() if root.hxl else None

    @staticmethod
    def resolve_sensitive(root: VocabularyDimension, info):
        return bool(root.sensitive)

    @staticmethod
    def resolve_codes(root: VocabularyDimension, info):
        return list(root.codes)

    @classmethod
    def get_node(cls, info, id):
        return DIMENSIONS.get(id)

    @classmethod
    def is_type_of(cls, root, info):
        return isinstance(root, VocabularyDimension)


def code_label(dimension_code: str | None, code: str, lang: str) -> str:
    """The label of ``code`` in a vocabulary dimension; the code itself when unknown."""
    if code == UNKNOWN_CODE:
        return pick_language(UNKNOWN_LABELS, lang) or code
    dim = DIMENSIONS.get(dimension_code or "")
    if dim is None:
        return code
    found = dim.get(code)
    return pick_language(dict(found.labels), lang) or code if found else code
