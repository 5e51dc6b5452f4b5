"""Batched loads for dataset relations: one query per relation per request, never per row."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from api.graphql.core.context import GraphQLContext
from catalog.models import Dataset, DatasetVersion, Organisation, VersionStatus
from catalog.partnership_models import Endorsement

#: Versions the public may see (with or without data).
PUBLIC_VERSION_STATES = (
    VersionStatus.PUBLISHED.value,
    VersionStatus.SUPERSEDED.value,
    VersionStatus.WITHDRAWN.value,
)


def _catalog_datasets(ctx: GraphQLContext, ids: list[str]) -> list[Dataset | None]:
    rows = ctx.session.scalars(select(Dataset).where(Dataset.id.in_(ids))).all()
    by_id = {row.id: row for row in rows}
    return [by_id.get(i) for i in ids]


def _public_versions(ctx: GraphQLContext, ids: list[str]) -> list[list[DatasetVersion]]:
    rows = ctx.session.scalars(
        select(DatasetVersion)
        .where(
            DatasetVersion.dataset_id.in_(ids),
            DatasetVersion.status.in_(PUBLIC_VERSION_STATES),
        )
        .order_by(DatasetVersion.number.desc())
    ).all()
    grouped: dict[str, list[DatasetVersion]] = defaultdict(list)
    for row in rows:
        grouped[row.dataset_id].append(row)
    return [grouped.get(i, []) for i in ids]


def _versions_by_id(ctx: GraphQLContext, ids: list[str]) -> list[DatasetVersion | None]:
    rows = ctx.session.scalars(select(DatasetVersion).where(DatasetVersion.id.in_(ids))).all()
    by_id = {row.id: row for row in rows}
    return [by_id.get(i) for i in ids]


def _organisations_by_slug(ctx: GraphQLContext, slugs: list[str]) -> list[Organisation | None]:
    rows = ctx.session.scalars(select(Organisation).where(Organisation.slug.in_(slugs))).all()
    by_slug = {row.slug: row for row in rows}
    return [by_slug.get(s) for s in slugs]


def _organisations_by_id(ctx: GraphQLContext, ids: list[int]) -> list[Organisation | None]:
    rows = ctx.session.scalars(select(Organisation).where(Organisation.id.in_(ids))).all()
    by_id = {row.id: row for row in rows}
    return [by_id.get(i) for i in ids]


def _endorsements(ctx: GraphQLContext, version_ids: list[str]) -> list[list]:
    """Active endorsements of each version, oldest first."""
    rows = ctx.session.scalars(
        select(Endorsement)
        .where(Endorsement.version_id.in_(version_ids), Endorsement.revoked_at.is_(None))
        .order_by(Endorsement.endorsed_at)
    ).all()
    grouped: dict[str, list] = defaultdict(list)
    for row in rows:
        grouped[row.version_id].append(row)
    return [grouped.get(i, []) for i in version_ids]


def _search_documents(ctx: GraphQLContext, ids: list[str]) -> list[dict | None]:
    return ctx.runtime.search.get_datasets(ids)


def catalog_dataset_loader(ctx: GraphQLContext):
    return ctx.loader("catalog_dataset", _catalog_datasets)


def public_versions_loader(ctx: GraphQLContext):
    return ctx.loader("public_versions", _public_versions)


def version_loader(ctx: GraphQLContext):
    return ctx.loader("version", _versions_by_id)


def organisation_by_slug_loader(ctx: GraphQLContext):
    return ctx.loader("organisation_by_slug", _organisations_by_slug)


def organisation_by_id_loader(ctx: GraphQLContext):
    return ctx.loader("organisation_by_id", _organisations_by_id)


def endorsements_loader(ctx: GraphQLContext):
    return ctx.loader("endorsements", _endorsements)


def search_document_loader(ctx: GraphQLContext):
    return ctx.loader("search_document", _search_documents)
