"""The ``coverage`` query over every published dataset's protected cube."""

from __future__ import annotations

from collections import defaultdict

import graphene
from sqlalchemy import select

from api.graphql.core.places import with_sub_places
from api.graphql.coverage.types import Coverage, CoverageCell, CoverageGroup
from catalog.models import DatasetVersion
from indexer.search.base import MAX_LIMIT, SearchQuery
from schema.errors import InvalidInput, Problem
from schema.vocabularies import DIMENSIONS


class CoverageQueries(graphene.ObjectType):
    coverage = graphene.Field(
        Coverage,
        required=True,
        dimension=graphene.String(
            required=True, description="A dimension code, e.g. caste_ethnicity"
        ),
        place=graphene.String(
            description="Only this place (code or name) and the places inside it."
        ),
        description="Which groups of a dimension, in which places, any published dataset has data on.",
    )

    @staticmethod
    def resolve_coverage(root, info, dimension, place=None):
        ctx = info.context
        dim = DIMENSIONS.get(dimension)
        if dim is None:
            raise InvalidInput(
                f"Unknown dimension {dimension!r}.",
                [Problem("unknown_dimension", "see the dimensions query", field="dimension")],
                code="unknown_dimension",
            )
        filters = {"dimension": [dimension]}
        allowed_places = None
        if place:
            allowed_places = set(with_sub_places([place]))
            filters["place"] = sorted(allowed_places)
        result = ctx.runtime.search.search(
            SearchQuery(filters=filters, facets=(), limit=MAX_LIMIT, sort="recent")
        )
        docs = [h.doc for h in result.hits]
        version_ids = [d["version_id"] for d in docs if d.get("version_id")]
        versions = (
            {
                v.id: v
                for v in ctx.session.scalars(
                    select(DatasetVersion).where(DatasetVersion.id.in_(version_ids))
                ).all()
            }
            if version_ids
            else {}
        )

        by_code: dict[str, set[str]] = defaultdict(set)
        by_cell: dict[tuple[str, str], set[str]] = defaultdict(set)
        places: list[str] = []
        for doc in docs:
            version = versions.get(doc.get("version_id"))
            columns = [
                name
                for name, spec in ((version.columns if version else None) or {}).items()
                if (spec or {}).get("dimension") == dimension
            ]
            codes: set[str] = set()
            for column in columns:
                for cell in ctx.runtime.search.cube(doc["id"], (column,)):
                    code = cell["dims"].get(column)
                    if not cell["suppressed"] and (cell["count"] or 0) > 0 and code in dim:
                        codes.add(code)
            doc_places = [
                p for p in doc.get("places") or [] if allowed_places is None or p in allowed_places
            ]
            for code in codes:
                by_code[code].add(doc["slug"])
                for p in doc_places:
                    by_cell[(p, code)].add(doc["slug"])
            places.extend(doc_places)

        def group(code: str) -> CoverageGroup:
            g = CoverageGroup(code=code, dataset_count=len(by_code.get(code, ())))
            g.dimension = dimension
            return g

        def cell(key: tuple[str, str], slugs: set[str]) -> CoverageCell:
            c = CoverageCell(
                place=key[0], code=key[1], dataset_count=len(slugs), datasets=sorted(slugs)
            )
            c.dimension = dimension
            return c

        return Coverage(
            dimension=dim,
            dataset_count=len(docs),
            groups=[group(c.code) for c in dim.codes],
            places=list(dict.fromkeys(places)),
            cells=[cell(k, v) for k, v in sorted(by_cell.items())],
        )
