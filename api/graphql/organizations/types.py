"""Organisations: the CSOs, government bodies and networks that publish or endorse data."""

from __future__ import annotations

import graphene

from api.graphql.core.connection import (
    CountableConnection,
    check_first,
    offset_after,
    offset_connection,
)
from api.graphql.datasets import dataloaders as dataset_loaders
from api.graphql.organizations.dataloaders import dataset_count_loader
from indexer.search.base import SearchQuery


class OrganizationKind(graphene.Enum):
    CSO = "cso"
    GOVERNMENT = "government"
    ACADEMIC = "academic"
    NETWORK = "network"


class Organization(graphene.ObjectType):
    """A civil-society organisation, government body, academic group or network."""

    class Meta:
        interfaces = (graphene.relay.Node,)

    slug = graphene.String(required=True)
    name = graphene.String(required=True)
    kind = graphene.String(required=True, description="cso, government, academic or network")
    description = graphene.String()
    website = graphene.String()
    verified = graphene.Boolean(required=True)
    dataset_count = graphene.Int(required=True, description="Published datasets.")
    datasets = graphene.Field(
        "api.graphql.datasets.types.DatasetConnection",
        required=True,
        first=graphene.Int(default_value=20),
        after=graphene.String(),
    )

    @staticmethod
    def resolve_id(root, info):
        return root.slug

    @staticmethod
    def resolve_description(root, info):
        return root.description or None

    @staticmethod
    def resolve_verified(root, info):
        return bool(root.verified)

    @staticmethod
    def resolve_dataset_count(root, info):
        return dataset_count_loader(info.context).load(root.slug)

    @staticmethod
    def resolve_datasets(root, info, first=20, after=None):
        from api.graphql.datasets.types import DatasetConnection, DatasetSource

        first = check_first(first)
        offset = offset_after(after)
        result = info.context.runtime.search.search(
            SearchQuery(
                filters={"organisation": [root.slug]},
                facets=(),
                sort="recent",
                limit=first,
                offset=offset,
            )
        )
        nodes = [DatasetSource(doc=h.doc) for h in result.hits]
        return offset_connection(DatasetConnection, nodes, offset=offset, total=result.total)

    @classmethod
    def get_node(cls, info, id):
        return dataset_loaders.organisation_by_slug_loader(info.context).load(id)

    @classmethod
    def is_type_of(cls, root, info):
        from catalog.models import Organisation

        return isinstance(root, Organisation)


class OrganizationConnection(CountableConnection):
    class Meta:
        node = Organization
