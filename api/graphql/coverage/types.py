"""Coverage: which groups and places have data, across all datasets (the gap view)."""

from __future__ import annotations

import graphene

from api.graphql.core.places import Place
from api.graphql.vocabulary.types import Dimension, code_label


class CoverageGroup(graphene.ObjectType):
    code = graphene.String(required=True)
    label = graphene.String(required=True, lang=graphene.String())
    dataset_count = graphene.Int(required=True, description="Datasets with published figures.")

    @staticmethod
    def resolve_label(root, info, lang=None):
        return code_label(root.dimension, root.code, lang or info.context.lang)


class CoverageCell(graphene.ObjectType):
    place = graphene.Field(Place, required=True)
    code = graphene.String(required=True)
    label = graphene.String(required=True, lang=graphene.String())
    dataset_count = graphene.Int(required=True)
    datasets = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="Slugs of the datasets."
    )

    @staticmethod
    def resolve_label(root, info, lang=None):
        return code_label(root.dimension, root.code, lang or info.context.lang)


class Coverage(graphene.ObjectType):
    """For one dimension: every group of its code list, and where there is data on it."""

    dimension = graphene.Field(Dimension, required=True)
    dataset_count = graphene.Int(required=True)
    groups = graphene.List(
        graphene.NonNull(CoverageGroup),
        required=True,
        description="Every code of the dimension; datasetCount 0 is a gap.",
    )
    places = graphene.List(graphene.NonNull(Place), required=True)
    cells = graphene.List(graphene.NonNull(CoverageCell), required=True)
