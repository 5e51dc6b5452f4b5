"""Load the synthetic demo data so a newcomer sees a living portal."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from catalog.models import Dataset, Organisation
from catalog.principal import system
from catalog.services import organisations
from indexer.synthetic import demo_metadata, generate_survey
from portal.ingest import ingest_file

DEMO_ORG = {
    "slug": "samata-data-collective",
    "name": "Samata Data Collective (demo)",
    "kind": "cso",
    "description": "A fictional network of community facilitators, used for the demo data.",
}
DEMO_SLUG = "access-to-water-sanitation-and-services-2025"


def load_demo(rt, *, rows: int = 1200) -> str:
    """Create the demo organisation and publish the demo survey (once)."""
    with rt.db.session() as session:
        if session.scalar(select(Dataset.id).where(Dataset.slug == DEMO_SLUG, Dataset.published_version_id.is_not(None))):
            return DEMO_SLUG
        if not session.scalar(select(Organisation.id).where(Organisation.slug == DEMO_ORG["slug"])):
            organisations.create_organisation(session, system("demo"), **DEMO_ORG)
    folder = Path(rt.config["INSTANCE_PATH"]) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "household-survey-2025.csv"
    generate_survey(rows, seed=2025).write_csv(path)
    metadata = demo_metadata()
    metadata["slug"] = DEMO_SLUG
    result = ingest_file(rt, path, DEMO_ORG["slug"], metadata, publish=True)
    return result["slug"]
