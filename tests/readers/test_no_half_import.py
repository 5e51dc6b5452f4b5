"""Bad uploads through the real ingest path: a located error, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.models import Dataset, DatasetVersion
from indexer.pipeline import column_specs
from indexer.readers import DEFAULT_LIMITS, read_table
from indexer.validate import validate_table
from portal.ingest import ingest_file
from schema.errors import InvalidInput
from schema.examples import example_metadata

from .bad_corpus import CASES, BadCase


def _declared(case: BadCase) -> dict:
    return {
        name: {k: v for k, v in spec.to_dict().items() if k != "name"}
        for name, spec in case.columns.items()
    }


def _code_with_default_limits(case: BadCase) -> str | None:
    # As ingest does it: the real limits, declared roles completed by suggestions.
    try:
        df = read_table(case.make(), filename=case.filename, limits=DEFAULT_LIMITS)
        validate_table(df, column_specs(df, _declared(case)), filename=case.filename)
    except InvalidInput as err:
        return err.problems[0].code
    return None


# Cases that exist to test small limits pass with the real ones (or fail otherwise:
# a 5,000-digit measure is not a number); every other case must fail here too.
EXPECTED = {c.name: _code_with_default_limits(c) for c in CASES if c.sheet is None}
REAL_CASES = [c for c in CASES if EXPECTED.get(c.name)]


def test_most_of_the_corpus_fails_under_the_real_limits_with_its_own_error():
    assert len(REAL_CASES) >= 30
    assert sum(EXPECTED[c.name] == c.code for c in REAL_CASES) >= len(REAL_CASES) - 3


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    from catalog.principal import system
    from catalog.services import organisations
    from portal.app import create_app

    from ..conftest import app_config

    app = create_app(app_config(tmp_path_factory.mktemp("half")), start_jobs=False)
    rt = app.extensions["cgd"]
    with rt.db.session() as s:
        organisations.create_organisation(s, system(), slug="samata", name="Samata Collective")
    yield rt
    rt.close()


def _stored_files(rt) -> list[Path]:
    return [p for p in rt.files.root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("case", REAL_CASES, ids=[c.name for c in REAL_CASES])
def test_bad_upload_writes_nothing_and_names_file_row_column(runtime, tmp_path, case):
    path = tmp_path / case.filename
    path.write_bytes(case.make())
    metadata = example_metadata()
    metadata["columns"] = _declared(case)
    with pytest.raises(InvalidInput) as err:
        ingest_file(runtime, path, "samata", metadata, publish=True)
    problems = err.value.problems
    assert problems and all(p.file == case.filename for p in problems)
    assert problems[0].code == EXPECTED[case.name], [str(p) for p in problems]
    if case.row:
        assert problems[0].row, str(problems[0])
    if case.column:
        assert problems[0].column, str(problems[0])
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 0
        assert s.scalar(select(func.count()).select_from(DatasetVersion)) == 0
    assert _stored_files(runtime) == []
