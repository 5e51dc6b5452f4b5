"""The harvest job: read a source's whole listing, then create, update and withdraw here.

One run of one source:

1. list everything the source offers (guarded HTTP, run deadline, size and
   count limits).  If the listing fails, the run fails and nothing here
   changes: a source that is down never withdraws anything;
2. create or update each offered dataset (each in its own transaction, so a
   bad item is a ``failed`` line of the report and not a failed run), and
   index its public document (plus a cgd-portal peer's protected cube);
3. withdraw every dataset of the source it no longer offers, and drop it from
   the search index, so DCAT and CKAN outputs show it gone.

The report lists created, updated, unchanged, withdrawn and failed items.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

from catalog.harvest_models import HarvestKind, HarvestSource
from catalog.principal import Principal, system
from catalog.services import harvest as harvest_service
from catalog.services.harvest import Offer
from indexer import harvest_cgd, harvest_ckan, harvest_dcat
from indexer.documents import dataset_document
from indexer.harvest_http import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    HarvestClient,
    HarvestFetchError,
)
from schema.errors import CGDError

log = logging.getLogger(__name__)

Fetcher = Callable[..., Iterator[Offer]]
FETCHERS: dict[str, Fetcher] = {
    HarvestKind.CKAN.value: harvest_ckan.list_offers,
    HarvestKind.DCAT.value: harvest_dcat.list_offers,
    HarvestKind.CGD.value: harvest_cgd.list_offers,
}
DEFAULT_RUN_SECONDS = 600
DEFAULT_MAX_ITEMS = 10000
BATCH = 50  # items per catalogue transaction


def _limit(settings: dict[str, Any], source_cfg: dict[str, Any], key: str, default: float) -> float:
    """A limit from the app settings (HARVEST_*), which a source's configuration may only tighten."""
    value = float(settings.get(f"HARVEST_{key.upper()}") or default)
    if source_cfg.get(key):
        value = min(value, float(source_cfg[key]))
    return value


def make_client(settings: dict[str, Any], source_cfg: dict[str, Any]) -> HarvestClient:
    return HarvestClient(
        allow_private=bool(settings.get("HARVEST_ALLOW_PRIVATE")),
        timeout=_limit(settings, source_cfg, "timeout", DEFAULT_TIMEOUT),
        max_bytes=int(_limit(settings, source_cfg, "max_bytes", DEFAULT_MAX_BYTES)),
        deadline_seconds=_limit(settings, source_cfg, "run_seconds", DEFAULT_RUN_SECONDS),
    )


def _detached(source: HarvestSource) -> HarvestSource:
    return HarvestSource(
        name=source.name,
        url=source.url,
        kind=source.kind,
        title=source.title,
        config=dict(source.config or {}),
    )


def run_harvest(ctx, source_id: int, run_id: str) -> dict[str, Any]:
    """Harvest one source (the ``harvest`` job); returns the run's report."""
    with ctx.db.session() as session:
        run = harvest_service.get_run(session, run_id)
        harvest_service.start_run(run)
        spec = _detached(run.source)
    report = harvest_service.empty_report()
    client = make_client(ctx.settings, spec.config)
    try:
        fetch = FETCHERS.get(spec.kind)
        if fetch is None:
            raise CGDError(
                f"Unknown harvest source kind {spec.kind!r}.", code="harvest_unknown_kind"
            )
        max_items = int(_limit(ctx.settings, spec.config, "max_items", DEFAULT_MAX_ITEMS))
        offers = list(fetch(client, spec, max_items=max_items))
    except Exception as exc:  # the run records why it failed, the job fails with it
        report["requests"] = client.requests
        error = (
            exc.to_dict()
            if isinstance(exc, CGDError)
            else {
                "code": "internal_error",
                "message": "The harvest failed unexpectedly; it was logged.",
            }
        )
        with ctx.db.session() as session:
            harvest_service.finish_run(
                harvest_service.get_run(session, run_id), report, error=error
            )
        raise
    finally:
        client.close()

    # A listing that shifted while it was paged can name a dataset twice: the first one counts.
    first: dict[str, Offer] = {}
    for offer in offers:
        first.setdefault(offer.original_id, offer)
    offers = list(first.values())
    report["seen"] = len(offers)
    report["requests"] = client.requests
    report["bytes"] = client.bytes_read
    for n in range(0, len(offers), BATCH):
        _apply_batch(ctx, source_id, offers[n : n + BATCH], report)
        _progress(ctx, run_id, 5 + int(90 * min(len(offers), n + BATCH) / len(offers)))
    with ctx.db.session() as session:
        source = harvest_service.get_source(session, source_id)
        withdrawn = harvest_service.withdraw_missing(
            session, source, {o.original_id for o in offers}
        )
        gone = [(d.id, d.slug, original_id) for d, original_id in withdrawn]
    for dataset_id, slug, original_id in gone:
        ctx.search.delete_dataset(dataset_id)
        report["withdrawn"].append({"id": original_id, "dataset": slug})
    with ctx.db.session() as session:
        harvest_service.finish_run(harvest_service.get_run(session, run_id), report)
    return summary(report)


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """Counts of a report (what a job result and the CLI show)."""
    return {k: (len(v) if isinstance(v, list) else v) for k, v in report.items()}


def _progress(ctx, run_id: str, percent: int) -> None:
    with ctx.db.session() as session:
        harvest_service.get_run(session, run_id).progress = min(99, percent)


def _apply_batch(ctx, source_id: int, offers: list[Offer], report: dict[str, Any]) -> None:
    """Upsert a batch in one transaction; if anything in it fails, item by item instead."""
    for offer in offers:
        if offer.item is None:
            report["failed"].append(
                {"id": offer.original_id, "message": offer.error or "unreadable"}
            )
    good = [o for o in offers if o.item is not None]
    try:
        with ctx.db.session() as session:
            source = harvest_service.get_source(session, source_id)
            done = []
            for offer in good:
                outcome, dataset = harvest_service.upsert_harvested(session, source, offer.item)
                done.append((offer, outcome, dataset.id, dataset.slug))
    except Exception:  # noqa: BLE001 - find the bad item(s) one by one
        done = [r for r in (_apply_one(ctx, source_id, o, report) for o in good) if r is not None]
    # Unchanged items are indexed again only if their document is missing (one read per batch).
    unchanged = [d[2] for d in done if d[1] == "unchanged"]
    indexed = {
        i for i, doc in zip(unchanged, ctx.search.get_datasets(unchanged), strict=True) if doc
    }
    for offer, outcome, dataset_id, slug in done:
        report[outcome].append({"id": offer.original_id, "dataset": slug})
        if outcome != "unchanged" or dataset_id not in indexed:
            try:
                index_harvested(ctx, dataset_id, offer.item.cube)
            except (
                CGDError
            ) as exc:  # in the catalogue already: `cgd reindex` or the next run indexes it
                report["failed"].append(
                    {"id": offer.original_id, "message": f"indexing: {exc.message}"}
                )


def _apply_one(ctx, source_id: int, offer: Offer, report: dict[str, Any]):
    try:
        with ctx.db.session() as session:
            source = harvest_service.get_source(session, source_id)
            outcome, dataset = harvest_service.upsert_harvested(session, source, offer.item)
            return offer, outcome, dataset.id, dataset.slug
    except CGDError as exc:
        report["failed"].append({"id": offer.original_id, "message": exc.message})
    except Exception as exc:  # noqa: BLE001 - one bad item never fails the run
        log.exception("harvest item %s failed", offer.original_id)
        report["failed"].append(
            {"id": offer.original_id, "message": f"internal error ({type(exc).__name__})"}
        )
    return None


def index_harvested(ctx, dataset_id: str, cube: dict[str, Any] | None) -> None:
    """Index a harvested dataset's document and, from a peer, its protected cube (no records)."""
    from catalog.services import datasets as dataset_service

    with ctx.db.session() as session:
        dataset = dataset_service.get_dataset(session, dataset_id)
        version = dataset.published_version
        previous = ctx.search.active_version(dataset_id)
        if cube and cube.get("cells") and version is not None:
            columns = version.columns or {}
            empty = pl.DataFrame({name: pl.Series([], dtype=pl.Utf8) for name in columns})
            ctx.search.index_version(dataset_id, version.id, empty, cube["cells"], columns)
            ctx.search.activate_version(dataset_id, version.id)
            if previous and previous != version.id:
                ctx.search.drop_version(dataset_id, previous)
        ctx.search.index_dataset(dataset_document(dataset, version))


def harvest_now(
    ctx, source_ref: str | int, principal: Principal | None = None, *, wait_seconds: float = 3600
) -> dict[str, Any]:
    """Queue a harvest of one source as a job and wait for it: the run's id, status and report."""
    import time

    from catalog.services import jobs as job_service

    principal = principal or system("harvest")
    with ctx.db.session() as session:
        source = harvest_service.get_source(session, source_ref)
        run, job = harvest_service.request_harvest(session, principal, source)
        run_id, job_id = run.id, job.id
    give_up = time.monotonic() + wait_seconds
    while True:
        with ctx.db.session() as session:
            run = harvest_service.get_run(session, run_id)
            job_done = job_service.get_job(session, job_id).status in {"succeeded", "failed"}
            if run.status in {"succeeded", "failed"} or job_done or time.monotonic() > give_up:
                return {
                    "source": run.source.name,
                    "run": run.id,
                    "status": run.status,
                    "error": run.error,
                    "counts": summary(run.report or {}),
                    "report": run.report,
                }
        time.sleep(0.2)


__all__ = [
    "FETCHERS",
    "HarvestFetchError",
    "harvest_now",
    "index_harvested",
    "run_harvest",
    "summary",
]
