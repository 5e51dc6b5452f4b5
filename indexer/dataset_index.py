"""Refresh one dataset's search document from the catalogue (e.g. after an endorsement)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catalog.models import Dataset
from indexer.documents import dataset_document

if TYPE_CHECKING:
    from indexer.pipeline import PipelineContext


def refresh_dataset_document(ctx: PipelineContext, dataset_id: str) -> dict[str, Any]:
    """Re-index the public document of a dataset; records and cube are left alone.

    A dataset that is not public (never published, or withdrawn) is not indexed.
    """
    with ctx.db.session() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None or dataset.withdrawn or dataset.published_version is None:
            return {"indexed": False}
        doc = dataset_document(dataset, dataset.published_version)
    ctx.search.index_dataset(doc)
    return {"indexed": True, "endorsed": doc["endorsed"]}
