"""Queries of the organisations domain."""

from __future__ import annotations

import graphene
from sqlalchemy import func, select

from api.graphql.core.connection import check_first, offset_after, offset_connection
from api.graphql.datasets import dataloaders as dataset_loaders
from api.graphql.organizations.types import Organization, OrganizationConnection, OrganizationKind
from catalog.models import Organisation


class OrganizationQueries(graphene.ObjectType):
    organizations = graphene.Field(
        OrganizationConnection,
        required=True,
        kind=OrganizationKind(),
        first=graphene.Int(default_value=20, description="Page size, at most 100."),
        after=graphene.String(),
        description="Organisations by name.",
    )
    organization = graphene.Field(Organization, slug=graphene.String(required=True))

    @staticmethod
    def resolve_organizations(root, info, kind=None, first=20, after=None):
        session = info.context.session
        first = check_first(first)
        offset = offset_after(after)
        where = []
        if kind is not None:
            where.append(Organisation.kind == (kind.value if hasattr(kind, "value") else kind))
        total = session.scalar(select(func.count(Organisation.id)).where(*where)) or 0
        rows = session.scalars(
            select(Organisation)
            .where(*where)
            .order_by(Organisation.name, Organisation.id)
            .limit(first)
            .offset(offset)
        ).all()
        return offset_connection(OrganizationConnection, list(rows), offset=offset, total=total)

    @staticmethod
    def resolve_organization(root, info, slug):
        return dataset_loaders.organisation_by_slug_loader(info.context).load(slug)
