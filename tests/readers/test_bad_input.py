"""Every bad file gives a located error; nothing crashes; nothing is half-imported."""

import pytest

from indexer.readers import read_table
from indexer.validate import validate_table
from schema.errors import InvalidInput
from schema.examples import example_metadata
from schema.metadata import load_metadata

from .bad_corpus import BAD_METADATA, CASES, BadCase


def ingest(case: BadCase):
    df = read_table(case.make(), filename=case.filename, sheet=case.sheet, limits=case.limits)
    return validate_table(
        df, case.columns, filename=case.filename, max_problems=case.limits.max_problems
    )


def test_corpus_is_big_enough():
    assert len(CASES) + len(BAD_METADATA) >= 40
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_file_gives_a_located_error(case: BadCase):
    result = None
    with pytest.raises(InvalidInput) as err:
        result = ingest(case)
    assert result is None  # nothing half-imported
    problems = err.value.problems
    assert problems, "an error must list its problems"
    first = problems[0]
    assert first.code == case.code, [str(p) for p in problems]
    assert all(p.file == case.filename for p in problems)
    assert first.message and case.filename in str(err.value)
    if case.row:
        assert first.row is not None and first.row >= 1, str(first)
    if case.column:
        assert first.column, str(first)
    assert len(problems) <= case.limits.max_problems + 1


def test_problems_are_collected_then_capped():
    case = next(c for c in CASES if c.name == "many_bad_rows_capped")
    with pytest.raises(InvalidInput) as err:
        ingest(case)
    problems = err.value.problems
    assert len(problems) == 11
    assert problems[-1].code == "too_many_problems" and "35 more" in problems[-1].message
    assert [p.row for p in problems[:3]] == [2, 3, 4]


def test_all_unknown_codes_of_a_file_are_reported_together():
    case = next(c for c in CASES if c.name == "unknown_dimension_code")
    with pytest.raises(InvalidInput) as err:
        ingest(case)
    found = {(p.row, p.column) for p in err.value.problems}
    assert found == {(3, "sex"), (4, "district")}


@pytest.mark.parametrize("name", sorted(BAD_METADATA))
def test_bad_metadata_names_its_field(name):
    breakage, field = BAD_METADATA[name]
    doc = example_metadata()
    breakage(doc)
    with pytest.raises(InvalidInput) as err:
        load_metadata(doc)
    assert field in {p.field for p in err.value.problems}, [str(p) for p in err.value.problems]


def _problems(case: BadCase, source):
    with pytest.raises(InvalidInput) as err:
        df = read_table(source, filename=case.filename, sheet=case.sheet, limits=case.limits)
        validate_table(
            df, case.columns, filename=case.filename, max_problems=case.limits.max_problems
        )
    return [p.to_dict() for p in err.value.problems]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_file_on_disk_gives_the_same_problems_as_its_bytes(case, tmp_path, monkeypatch):
    # Files on disk take the mapped path (polars reads the file, only the head is read
    # in Python) whatever their size here; they must be refused exactly as the bytes are.
    from indexer.readers import delimited

    monkeypatch.setattr(delimited, "_BY_PATH_MIN_BYTES", 0)
    path = tmp_path / case.filename
    path.write_bytes(case.make())
    from_disk, from_bytes = _problems(case, path), _problems(case, case.make())
    if case.code == "file_too_large":  # only a file on disk can say its size
        for p in from_disk + from_bytes:
            p.pop("message")
    assert from_disk == from_bytes
