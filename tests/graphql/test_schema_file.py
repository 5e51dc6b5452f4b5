"""The committed schema.graphql is the schema the code builds (so API changes show in review)."""

from __future__ import annotations

from api.graphql.schema import SCHEMA_FILE, schema_sdl


def test_committed_schema_graphql_is_up_to_date():
    committed = SCHEMA_FILE.read_text()
    assert committed == schema_sdl(), (
        "api/graphql/schema.graphql is stale: run `.venv/bin/python -m api.graphql.schema` and commit it"
    )


def test_schema_has_the_public_contract():
    sdl = schema_sdl()
    for needle in (
        "datasets(",
        "dataset(",
        "records(",
        "aggregate(",
        "coverage(",
        "organizations(",
        "organization(",
        "node(",
        "dimensions:",
        "rateLimit:",
        "createDataset(",
        "updateDatasetMetadata(",
        "startUpload(",
        "publishVersion(",
        "withdrawVersion(",
        "endorseVersion(",
    ):
        assert needle in sdl, needle
