"""An uploader who declares no column roles still publishes nothing that singles anyone out:
the suggested roles drop identifiers and keep places and other knowable facts k-anonymous."""

from __future__ import annotations

import random
import re
from collections import Counter

import polars as pl

from catalog.services import datasets
from indexer.synthetic import demo_metadata
from tests.disclosure.published import approve_and_publish, upload_frame

FIRST = ["Sita", "Ram", "Gita", "Hari", "Maya", "Bikash", "Sunita", "Dipak"]
LAST = ["Bishwakarma", "Pariyar", "Tamang", "Yadav", "Magar", "Sarki", "Tharu", "Rai"]


def _survey(n: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        rows.append(
            {
                "full_name": name,
                "mobile": f"98{rng.randint(10_000_000, 99_999_999)}",
                "age": str(rng.randint(18, 80)),
                "gender": rng.choice(["Male", "Female"]),
                "village": f"Village-{rng.randint(1, 60)}",
                "ward_no": str(rng.randint(1, 12)),
                "interview_date": f"2025-0{rng.randint(1, 3)}-{rng.randint(10, 28)}",
                "occupation": rng.choice(["farmer", "teacher", "driver", "tailor", "labourer"]),
                "story": f"I am {name}; write to {name.split()[0].lower()}@mail.np",
                "water_minutes": str(rng.randint(1, 90)),
            }
        )
    return pl.DataFrame(rows)


def test_suggested_roles_keep_places_and_jobs_k_anonymous(runtime):
    df = _survey(400, seed=5)
    meta = demo_metadata()
    meta.pop("columns")
    version_id = upload_frame(runtime, df, meta, org="samata")["version_id"]
    assert approve_and_publish(runtime, version_id) == "published"
    with runtime.db.session() as s:
        version = datasets.get_version(s, version_id)
        report = version.disclosure_report
        published = pl.read_parquet(runtime.files.path(version.records_path))
    assert {"full_name", "mobile"}.isdisjoint(published.columns)
    assert {"village", "occupation", "ward_no", "interview_date"} <= set(
        report["quasi_identifiers"]
    )
    keys = [
        c
        for c in ("age", "gender", "village", "occupation", "ward_no", "interview_date")
        if c in published.columns
    ]
    assert "village" in keys
    dates = set(published.get_column("interview_date").drop_nulls().cast(pl.String).to_list())
    assert dates and all(re.fullmatch(r"\d{4}(-\d{2})?", d) for d in dates), dates  # no days
    classes = Counter(published.select(keys).iter_rows())
    assert min(classes.values()) >= report["k_target"] == 5
    text = "\n".join(published.get_column("story").to_list())
    for name in set(df.get_column("full_name").to_list()):
        for part in name.split():
            assert part not in text
    assert "[EMAIL]" in text and "@" not in text
