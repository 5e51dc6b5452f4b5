"""A KoboToolbox CSV export of the synthetic survey: group paths, Kobo's own metadata, ';' separated."""

from __future__ import annotations

import csv
import io
import random

from indexer.synthetic import generate_survey

GROUPS = {
    "respondent_name": "consent/respondent_name",
    "phone": "consent/phone",
    "sex": "respondent/sex",
    "age": "respondent/age",
    "caste_ethnicity": "respondent/caste_ethnicity",
    "district": "location/district",
    "urban_rural": "location/urban_rural",
    "difficulty_walking": "wg/difficulty_walking",
    "disability": "wg/disability",
    "household_size": "household/household_size",
    "monthly_income_npr": "household/monthly_income_npr",
    "has_water_access": "wash/has_water_access",
    "minutes_to_water": "wash/minutes_to_water",
    "has_toilet": "wash/has_toilet",
    "comments": "closing/comments",
}


def kobo_export(rows: int = 120, seed: int = 21) -> tuple[bytes, dict]:
    """The export as bytes, and the survey's identifying values that must never be published."""
    df = generate_survey(rows, seed=seed)
    rng = random.Random(seed)
    header = [
        "start",
        "end",
        "deviceid",
        *GROUPS.values(),
        "meta/instanceID",
        "_id",
        "_uuid",
        "_submission_time",
        "_submitted_by",
        "_geolocation",
        "_index",
    ]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(header)
    devices, uuids = set(), set()
    for i, row in enumerate(df.iter_rows(named=True)):
        uuid = f"{rng.getrandbits(32):08x}-{i:04d}"
        device = f"collect:{rng.getrandbits(40):010x}"
        uuids.add(uuid)
        devices.add(device)
        stamp = f"2025-02-{1 + i % 27:02d}T10:{i % 60:02d}:{rng.randrange(60):02d}.000+05:45"
        writer.writerow(
            [
                stamp,
                stamp,
                device,
                *(row[c] for c in GROUPS),
                f"uuid:{uuid}",
                5000 + i,
                uuid,
                stamp[:19],
                "enumerator1",
                f"[26.{rng.randrange(10**6)}, 86.{rng.randrange(10**6)}]",
                i + 1,
            ]
        )
    secrets_ = {
        "names": set(df["respondent_name"]),
        "phones": set(df["phone"]),
        "devices": devices,
        "uuids": uuids,
    }
    return out.getvalue().encode("utf-8"), secrets_
