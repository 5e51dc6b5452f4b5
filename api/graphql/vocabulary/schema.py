"""Queries of the vocabulary domain: ``dimensions`` and ``dimension(code)``."""

from __future__ import annotations

import graphene

from api.graphql.vocabulary.types import Dimension
from schema.vocabularies import DIMENSIONS


class VocabularyQueries(graphene.ObjectType):
    dimensions = graphene.List(
        graphene.NonNull(Dimension),
        required=True,
        description="Every standard disaggregation dimension with its code list.",
    )
    dimension = graphene.Field(
        Dimension, code=graphene.String(required=True), description="One dimension by its code."
    )

    @staticmethod
    def resolve_dimensions(root, info):
        return list(DIMENSIONS.values())

    @staticmethod
    def resolve_dimension(root, info, code):
        return DIMENSIONS.get(code)
