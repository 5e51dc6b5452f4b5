"""The public GraphQL schema, assembled from the per-domain query and mutation classes."""

from __future__ import annotations

from pathlib import Path

import graphene
from graphql import print_schema
from graphql_relay import from_global_id

from api.graphql.aggregates.schema import AggregateQueries
from api.graphql.core.types import RateLimit
from api.graphql.coverage.schema import CoverageQueries
from api.graphql.datasets.schema import DatasetQueries
from api.graphql.datasets.types import Dataset, DatasetVersion
from api.graphql.mutations import Mutations
from api.graphql.organizations.schema import OrganizationQueries
from api.graphql.organizations.types import Organization
from api.graphql.partnerships.schema import PartnershipMutations, PartnershipQueries
from api.graphql.records.schema import RecordQueries
from api.graphql.vocabulary.schema import VocabularyQueries
from api.graphql.vocabulary.types import Dimension

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")


class Query(
    DatasetQueries,
    RecordQueries,
    AggregateQueries,
    CoverageQueries,
    OrganizationQueries,
    VocabularyQueries,
    PartnershipQueries,
    graphene.ObjectType,
):
    node = graphene.Field(
        graphene.relay.Node,
        id=graphene.ID(required=True, description="The ID of the object"),
        description="Any object by its global ID.",
    )

    @staticmethod
    def resolve_node(root, info, id):
        """The object of a global ID; ``null`` for an ID that names no object of this schema
        (not base64, an unknown type, a type that is not a Node), as Relay expects."""
        try:
            type_name, _raw = from_global_id(id)
        except (TypeError, ValueError, UnicodeDecodeError):
            return None
        found = info.schema.get_type(type_name) if type_name else None
        graphene_type = getattr(found, "graphene_type", None)
        interfaces = getattr(getattr(graphene_type, "_meta", None), "interfaces", ())
        if graphene_type is None or graphene.relay.Node not in interfaces:
            return None
        return graphene.relay.Node.get_node_from_global_id(info, id)

    rate_limit = graphene.Field(
        RateLimit,
        required=True,
        description="This client's points: cost of this query, remaining, reset.",
    )

    @staticmethod
    def resolve_rate_limit(root, info):
        return RateLimit.from_state(info.context.rate_limit)


class AllMutations(Mutations, PartnershipMutations):
    class Meta:
        name = "Mutations"


schema = graphene.Schema(
    query=Query,
    mutation=AllMutations,
    types=[Dataset, DatasetVersion, Organization, Dimension],
)


def schema_sdl() -> str:
    """The schema in SDL, as committed in ``schema.graphql``."""
    return print_schema(schema.graphql_schema).rstrip() + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_sdl())
    print(f"wrote {SCHEMA_FILE}")
