"""Aggregates from the protected cube: counts and means with suppression flags."""

from __future__ import annotations

import graphene

from api.graphql.vocabulary.types import code_label


class CellDimension(graphene.ObjectType):
    column = graphene.String(required=True, description="The dataset column.")
    dimension = graphene.String(description="The standard dimension code of the column.")
    code = graphene.String(required=True)
    label = graphene.String(required=True, lang=graphene.String())

    @staticmethod
    def resolve_label(root, info, lang=None):
        return code_label(root.dimension, root.code, lang or info.context.lang)


class MeasureMean(graphene.ObjectType):
    measure = graphene.String(required=True)
    value = graphene.Float(description="Null when the cell is suppressed.")


class AggregateCell(graphene.ObjectType):
    """One cell: a group (codes of each dimension) with its protected count and means."""

    dimensions = graphene.List(graphene.NonNull(CellDimension), required=True)
    count = graphene.Int(description="Perturbed count; null when suppressed.")
    suppressed = graphene.Boolean(
        required=True, description="Too few people (or needed to protect another cell)."
    )
    means = graphene.List(graphene.NonNull(MeasureMean), required=True)
    mean = graphene.Float(measure=graphene.String(required=True))

    @staticmethod
    def resolve_mean(root, info, measure):
        for m in root.means:
            if m.measure == measure:
                return m.value
        return None


class Aggregate(graphene.ObjectType):
    """Disaggregated figures of a dataset, served only from its protected cube."""

    dataset = graphene.Field("api.graphql.datasets.types.Dataset", required=True)
    by = graphene.List(graphene.NonNull(graphene.String), required=True)
    cells = graphene.List(graphene.NonNull(AggregateCell), required=True)
    suppressed_count = graphene.Int(required=True, description="How many cells are suppressed.")

    @staticmethod
    def resolve_suppressed_count(root, info):
        return sum(1 for c in root.cells if c.suppressed)


class DimensionFilter(graphene.InputObjectType):
    dimension = graphene.String(required=True, description="A dimension column of the dataset.")
    code = graphene.String(required=True, description="A code (or a label the vocabulary knows).")
