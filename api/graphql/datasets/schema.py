"""Queries of the datasets domain: ``datasets`` (search) and ``dataset`` (one)."""

from __future__ import annotations

import graphene

from api.graphql.core.connection import check_first, offset_after, offset_connection
from api.graphql.core.context import GraphQLContext, normalise_language, pick_language
from api.graphql.core.places import place_label, with_sub_places
from api.graphql.core.refs import database_id
from api.graphql.core.selection import requested_fields
from api.graphql.datasets.types import (
    Dataset,
    DatasetConnection,
    DatasetSource,
    Facet,
    FacetValue,
)
from catalog.services import datasets as dataset_service
from indexer.documents import dataset_document
from indexer.search.base import SearchQuery
from schema.errors import InvalidInput, NotFound, Problem
from schema.topics import TOPICS
from schema.vocabularies import DIMENSIONS

PUBLIC_FACETS = (
    "organisation",
    "topic",
    "dimension",
    "place",
    "licence",
    "language",
    "endorsed",
    "source",
)

#: The ``source`` of a dataset published on this portal; any other is a harvest source's name.
LOCAL_SOURCE = "local"


class DatasetOrder(graphene.Enum):
    RELEVANCE = "relevance"
    RECENT = "recent"
    TITLE = "title"


class DatasetFilter(graphene.InputObjectType):
    """Values of one field are ORed; fields are ANDed."""

    organization = graphene.List(
        graphene.NonNull(graphene.String), description="Organisation slugs"
    )
    topic = graphene.List(graphene.NonNull(graphene.String))
    dimension = graphene.List(
        graphene.NonNull(graphene.String), description="Dimension codes the data disaggregates by"
    )
    place = graphene.List(
        graphene.NonNull(graphene.String),
        description="Place codes or names; a province also matches its districts.",
    )
    licence = graphene.List(graphene.NonNull(graphene.String))
    language = graphene.List(graphene.NonNull(graphene.String))
    endorsed = graphene.Boolean()
    source = graphene.List(
        graphene.NonNull(graphene.String),
        description="local (published here) or the name of the harvest source.",
    )


def search_filters(filter: dict | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, values in (filter or {}).items():
        if values is None:
            continue
        name = "organisation" if key == "organization" else key
        if key == "endorsed":
            out[name] = ["true" if values else "false"]
        elif key == "place":
            out[name] = with_sub_places(list(values))
        elif values:
            out[name] = [str(v) for v in values]
    return out


def facet_label(field: str, value: str, lang: str) -> str:
    if field == "place":
        return place_label(value, lang)
    if field == "topic":
        return pick_language(TOPICS.get(value), lang) or value
    if field == "dimension" and value in DIMENSIONS:
        return pick_language(dict(DIMENSIONS[value].labels), lang) or value
    if field == "source":
        return "Published on this portal" if value == LOCAL_SOURCE else f"Harvested from {value}"
    return value


def _lang(info, lang: str | None) -> str:
    return normalise_language(lang) or info.context.lang


class DatasetQueries(graphene.ObjectType):
    datasets = graphene.Field(
        DatasetConnection,
        required=True,
        query=graphene.String(default_value="", description='Words, "a phrase" or a prefix*'),
        filter=DatasetFilter(),
        order_by=DatasetOrder(default_value="relevance"),
        first=graphene.Int(default_value=20, description="Page size, at most 100."),
        after=graphene.String(),
        lang=graphene.String(description="Language of titles and labels."),
        description="Search the published datasets, with facets and highlighted matches.",
    )
    dataset = graphene.Field(
        Dataset,
        id=graphene.ID(description="Global ID or database id"),
        slug=graphene.String(),
        lang=graphene.String(description="Language of the metadata; default Accept-Language."),
        description="One dataset by id or slug.",
    )

    @staticmethod
    def resolve_datasets(
        root, info, query="", filter=None, order_by="relevance", first=20, after=None, lang=None
    ):
        ctx: GraphQLContext = info.context
        language = _lang(info, lang)
        first = check_first(first)
        offset = offset_after(after)
        want_facets = "facets" in requested_fields(info)
        sort = order_by.value if hasattr(order_by, "value") else order_by
        result = ctx.runtime.search.search(
            SearchQuery(
                text=(query or "")[:500],
                filters=search_filters(filter),
                facets=PUBLIC_FACETS if want_facets else (),
                lang=language,
                limit=first,
                offset=offset,
                sort=sort,
            ).validated()
        )
        nodes = [
            DatasetSource(doc=h.doc, highlights=h.highlights, lang=language) for h in result.hits
        ]
        facets = [
            Facet(
                field="organization" if name == "organisation" else name,
                values=[
                    FacetValue(value=v, label=facet_label(name, v, language), count=c)
                    for v, c in result.facets.get(name, [])
                ],
            )
            for name in PUBLIC_FACETS
            if want_facets
        ]
        return offset_connection(
            DatasetConnection, nodes, offset=offset, total=result.total, facets=facets
        )

    @staticmethod
    def resolve_dataset(root, info, id=None, slug=None, lang=None):
        ctx: GraphQLContext = info.context
        ref = id or slug
        if not ref or (id and slug):
            raise InvalidInput(
                "Give either id or slug.",
                [Problem("id_or_slug", "give exactly one of id and slug", field="id")],
            )
        if id:
            ref = database_id(id, "Dataset")
        try:
            ds = dataset_service.get_dataset(ctx.session, ref, ctx.principal)
        except NotFound:
            return None
        doc = ctx.runtime.search.get_dataset(ds.id)
        if doc is None:
            # Not in the public index: a draft or withdrawn dataset its members may see.
            doc = dataset_document(ds, ds.published_version)
        return DatasetSource(doc=doc, lang=normalise_language(lang))
