"""Harvest sources, runs and the provenance of every harvested dataset."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Base, Dataset, new_id, utcnow


class HarvestKind(StrEnum):
    CKAN = "ckan"  # a CKAN action API (package_search paging)
    DCAT = "dcat"  # a DCAT catalogue in JSON-LD, Turtle or RDF/XML (hydra paging)
    CGD = "cgd"  # another cgd-portal node, through its GraphQL API


class HarvestRunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class HarvestSource(Base):
    """A remote catalogue configured by a site administrator."""

    __tablename__ = "harvest_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short name; harvested datasets carry it as Dataset.source (the search facet).
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(20))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Harvest again after this many hours (None: only on demand).
    frequency_hours: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    runs: Mapped[list[HarvestRun]] = relationship(
        back_populates="source", cascade="all, delete-orphan", order_by="HarvestRun.started_at"
    )


class HarvestRun(Base):
    """One harvest of one source, with its per-item report."""

    __tablename__ = "harvest_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    source_id: Mapped[int] = mapped_column(ForeignKey("harvest_sources.id", ondelete="CASCADE"))
    job_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default=HarvestRunStatus.QUEUED.value)
    # {"created": [...], "updated": [...], "unchanged": [...], "withdrawn": [...], "failed": [{id, message}]}
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    source: Mapped[HarvestSource] = relationship(back_populates="runs")


class HarvestedDataset(Base):
    """Where a harvested dataset came from: source, original id and URL, last harvested."""

    __tablename__ = "harvested_datasets"
    __table_args__ = (UniqueConstraint("source_id", "original_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("harvest_sources.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), unique=True
    )
    original_id: Mapped[str] = mapped_column(String(500))
    original_url: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    first_harvested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_harvested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    source: Mapped[HarvestSource] = relationship()
    dataset: Mapped[Dataset] = relationship()
