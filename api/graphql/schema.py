"""The GraphQL schema: datasets and organisations over the search index and catalogue."""

from __future__ import annotations

import graphene
from graphql_relay import from_global_id, to_global_id

from api.context import runtime
from catalog.services import datasets as dataset_service
from indexer.search.base import SearchQuery


def _lang(info) -> str:
    return (info.context or {}).get("lang", "en") if isinstance(info.context, dict) else "en"


def _pick(values: dict | None, lang: str) -> str | None:
    values = values or {}
    return values.get(lang) or values.get("en") or next(iter(values.values()), None)


class Organization(graphene.ObjectType):
    slug = graphene.String(required=True)
    name = graphene.String(required=True)


class Dataset(graphene.ObjectType):
    class Meta:
        interfaces = (graphene.relay.Node,)

    slug = graphene.String(required=True)
    title = graphene.String(required=True, lang=graphene.String())
    description = graphene.String(lang=graphene.String())
    organization = graphene.Field(Organization, required=True)
    record_count = graphene.Int(required=True)
    topics = graphene.List(graphene.NonNull(graphene.String), required=True)
    licence = graphene.String()

    @staticmethod
    def from_doc(doc: dict) -> Dataset:
        ds = Dataset(id=doc["id"])
        ds._doc = doc
        return ds

    def resolve_id(self, info):
        return self._doc["id"]

    def resolve_slug(self, info):
        return self._doc["slug"]

    def resolve_title(self, info, lang=None):
        return _pick(self._doc.get("title"), lang or _lang(info)) or self._doc["slug"]

    def resolve_description(self, info, lang=None):
        return _pick(self._doc.get("description"), lang or _lang(info))

    def resolve_organization(self, info):
        return Organization(**self._doc["organisation"])

    def resolve_record_count(self, info):
        return int(self._doc.get("record_count") or 0)

    def resolve_topics(self, info):
        return list(self._doc.get("topics") or [])

    def resolve_licence(self, info):
        return self._doc.get("licence")

    @classmethod
    def get_node(cls, info, id):
        doc = runtime().search.get_dataset(id)
        return cls.from_doc(doc) if doc else None


class DatasetConnection(graphene.relay.Connection):
    class Meta:
        node = Dataset

    total_count = graphene.Int(required=True)

    def resolve_total_count(self, info):
        return self.total_count


def _offset(after: str | None) -> int:
    if not after:
        return 0
    kind, value = from_global_id(after)
    if kind != "offset":
        raise ValueError("invalid cursor")
    return int(value) + 1


class Query(graphene.ObjectType):
    node = graphene.relay.Node.Field()
    datasets = graphene.Field(
        DatasetConnection,
        required=True,
        query=graphene.String(default_value=""),
        first=graphene.Int(default_value=20),
        after=graphene.String(),
    )
    dataset = graphene.Field(Dataset, slug=graphene.String(), id=graphene.ID())

    def resolve_datasets(self, info, query="", first=20, after=None):
        first = max(0, min(first, 100))
        offset = _offset(after)
        result = runtime().search.search(SearchQuery(text=query, limit=first, offset=offset, facets=()))
        edges = [
            DatasetConnection.Edge(node=Dataset.from_doc(hit.doc), cursor=to_global_id("offset", offset + i))
            for i, hit in enumerate(result.hits)
        ]
        conn = DatasetConnection(
            edges=edges,
            page_info=graphene.relay.PageInfo(
                has_next_page=offset + len(edges) < result.total,
                has_previous_page=offset > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
        conn.total_count = result.total
        return conn

    def resolve_dataset(self, info, slug=None, id=None):
        rt = runtime()
        with rt.db.session() as session:
            try:
                ds = dataset_service.get_dataset(session, id or slug)
            except Exception:
                return None
            dataset_id = ds.id
        doc = rt.search.get_dataset(dataset_id)
        return Dataset.from_doc(doc) if doc else None


schema = graphene.Schema(query=Query)
