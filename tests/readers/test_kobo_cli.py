"""``cgd kobo-pull``: a KoboToolbox form, pulled over real HTTP, through the whole pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from indexer.synthetic import demo_metadata
from portal.cli import main

from .test_kobo import ASSET, TOKEN, KoboReplay, _submission, serving

# Synthetic people: the form asks for a name and a phone, and a facilitator's note repeats them.
NAMES = ["Sita Pariyar", "Gita Sada", "Kamala Mijar", "Rita Khatun", "Maya Tamang"]
KOBO_COLUMNS = {"_id", "_uuid", "_submission_time", "_submitted_by", "instanceID", "deviceid"}


def _phone(i: int) -> str:
    return f"98{41234500 + i * 37:08d}"


def _person(i: int) -> str:
    return f"{NAMES[i % len(NAMES)]} {chr(65 + i % 26)}{chr(65 + i // 26)}"


def _seeded_submission(i: int) -> dict:
    record = _submission(i)
    record.update(
        {
            "respondent/name": _person(i),
            "respondent/phone": _phone(i),
            "meta/instanceName": f"Household of {_person(i)}",
            "water/note": f"Pump broken since March; call {_person(i)} on {_phone(i)} before visiting.",
            "respondent/age": str(20 + (i % 4) * 10),
            "place/district": "15",
            "water/litres": str(10 + (i * 7) % 23),  # repeats, unlike a record number
        }
    )
    return record


class SeededKobo(KoboReplay):
    total = 40
    submission = staticmethod(_seeded_submission)


@pytest.fixture(scope="module")
def seeded_kobo():
    with serving(SeededKobo) as server:
        yield f"http://127.0.0.1:{server.server_port}"


class Instance:
    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.env = {
            "CGD_INSTANCE_PATH": str(tmp_path / "inst"),
            "CGD_DATABASE_URL": database_url,
            "CGD_HARVEST_ALLOW_PRIVATE": "true",
            "CGD_KOBO_TOKEN": TOKEN,
            "CGD_SEARCH_BACKEND": "embedded",
            "CGD_REDIS_URL": "",
        }
        self.meta = tmp_path / "meta.json"
        metadata = demo_metadata()
        del metadata["columns"]  # a CSO that declares no roles: the suggested ones apply
        self.meta.write_text(json.dumps(metadata))

    def cgd(self, *args: str, **env: str | None):
        result = CliRunner().invoke(main, list(args), env={**self.env, **env})
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        return result

    def pull(self, server: str, *extra: str, **env: str | None):
        return self.cgd(
            "kobo-pull",
            "--server",
            server,
            "--asset",
            ASSET,
            "--org",
            "samata",
            "--metadata",
            str(self.meta),
            *extra,
            **env,
        )

    def counts(self) -> tuple[int, ...]:
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as con:
                return tuple(
                    con.execute(sa.text(f"select count(*) from {t}")).scalar_one()  # noqa: S608
                    for t in ("datasets", "dataset_versions", "jobs", "audit_log")
                )
        finally:
            engine.dispose()

    def published_records(self, slug: str) -> tuple[int, pl.DataFrame]:
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as con:
                number, path = con.execute(
                    sa.text(
                        "select v.number, v.records_path from datasets d join dataset_versions v"
                        " on v.id = d.published_version_id where d.slug = :slug"
                    ),
                    {"slug": slug},
                ).one()
        finally:
            engine.dispose()
        return number, pl.read_parquet(self.tmp_path / "inst" / "files" / path)


@pytest.fixture
def instance(tmp_path, database_url):
    inst = Instance(tmp_path, database_url)
    assert inst.cgd("init").exit_code == 0
    assert inst.cgd("orgs", "create", "samata", "--name", "Samata").exit_code == 0
    return inst


def _assert_safe(records: pl.DataFrame) -> None:
    assert records.height > 0
    leaked_columns = [c for c in records.columns if c.startswith("_") or c in KOBO_COLUMNS]
    assert not leaked_columns
    assert not {"uuid", "formhub_uuid", "instanceName", "start", "end", "members"} & set(
        records.columns
    )
    seeded = {_person(i) for i in range(SeededKobo.total)} | {
        _phone(i) for i in range(SeededKobo.total)
    }
    seeded |= {f"5f2e-{i:04d}" for i in range(SeededKobo.total)}  # Kobo's submission uuids
    text = records.select(pl.all().cast(pl.String)).write_csv()
    leaked = [v for v in seeded if v in text]
    assert not leaked, leaked[:3]
    assert "Person 0" not in text  # the repeat group's names


def test_kobo_pull_publishes_a_dataset_without_kobo_metadata_or_seeded_identifiers(
    instance, seeded_kobo
):
    result = instance.pull(seeded_kobo, "--publish")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["status"] == "published" and report["submissions"] == SeededKobo.total
    number, records = instance.published_records(report["slug"])
    assert number == 1
    _assert_safe(records)
    assert {"sex", "age", "litres"} <= set(records.columns)
    # The staged pull is gone; the raw file is kept only as the version's private upload.
    files = instance.tmp_path / "inst" / "files"
    assert not list((files / "incoming").glob("*/*"))
    assert [p.name.startswith(f"kobo-{ASSET}-") for p in files.glob("datasets/*/uploads/*")] == [
        True
    ]

    # A second pull of the same form becomes version 2 of that dataset.
    again = instance.pull(seeded_kobo, "--dataset", report["slug"], "--publish")
    assert again.exit_code == 0, again.stderr
    second = json.loads(again.stdout.strip().splitlines()[-1])
    assert second["dataset"] == report["dataset"] and second["status"] == "published"
    number, records = instance.published_records(report["slug"])
    assert number == 2
    _assert_safe(records)
    assert instance.counts()[:2] == (1, 2)

    # Another organisation cannot add versions to it; nothing is pulled or written.
    assert instance.cgd("orgs", "create", "other", "--name", "Other").exit_code == 0
    before = instance.counts()
    args = ["kobo-pull", "--server", seeded_kobo, "--asset", ASSET, "--org", "other"]
    refused = instance.cgd(*args, "--metadata", str(instance.meta), "--dataset", report["slug"])
    assert refused.exit_code != 0 and "another organisation" in refused.stderr
    assert instance.counts() == before

    # The token is stored nowhere: not in the catalogue (job payloads, audit) nor in any file.
    for path in instance.tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    engine = sa.create_engine(instance.database_url)
    try:
        with engine.connect() as con:
            for table in ("jobs", "audit_log", "datasets", "dataset_versions"):
                rows = con.execute(sa.text(f"select * from {table}")).all()  # noqa: S608
                assert TOKEN not in repr(rows), table
    finally:
        engine.dispose()


def test_kobo_pull_without_publish_awaits_approval(instance, seeded_kobo):
    result = instance.pull(seeded_kobo)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["status"] == "awaiting_approval"


@pytest.fixture
def sqlite_instance(tmp_path):
    inst = Instance(tmp_path, f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    assert inst.cgd("init").exit_code == 0
    assert inst.cgd("orgs", "create", "samata", "--name", "Samata").exit_code == 0
    return inst


@pytest.mark.parametrize(
    "case, expect",
    [
        ("unreachable", "could not be reached"),
        ("wrong_token", "refused the token"),
        ("private_address", "private or reserved"),
        ("no_title", "field 'title'"),
        ("not_json", "not valid JSON"),
        ("no_token", "no KoboToolbox token"),
        ("unknown_dataset", "No dataset 'nope'"),
        ("unknown_org", "nobody"),
        ("unknown_form", "no form"),
    ],
)
def test_a_failed_kobo_pull_exits_nonzero_with_one_line_and_changes_nothing(
    sqlite_instance, seeded_kobo, case, expect
):
    inst = sqlite_instance
    before = inst.counts()
    server, extra, env = seeded_kobo, [], {}
    if case == "unreachable":
        server = "http://127.0.0.1:9"
    elif case == "wrong_token":
        token = inst.tmp_path / "token"
        token.write_text("not-the-token\n")
        extra = ["--token-file", str(token)]
    elif case == "private_address":
        env = {"CGD_HARVEST_ALLOW_PRIVATE": "false"}
    elif case == "no_title":
        meta = json.loads(inst.meta.read_text())
        del meta["title"]
        inst.meta.write_text(json.dumps(meta))
    elif case == "not_json":
        inst.meta.write_text("{title:")
    elif case == "no_token":
        env = {"CGD_KOBO_TOKEN": None}
    elif case == "unknown_dataset":
        extra = ["--dataset", "nope"]
    if case == "unknown_org":
        args = ["kobo-pull", "--server", server, "--asset", ASSET, "--org", "nobody"]
        result = inst.cgd(*args, "--metadata", str(inst.meta), **env)
    elif case == "unknown_form":
        args = ["kobo-pull", "--server", server, "--asset", "nosuchform", "--org", "samata"]
        result = inst.cgd(*args, "--metadata", str(inst.meta), **env)
    else:
        result = inst.pull(server, *extra, "--publish", **env)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and lines[0].count(expect) == 1, lines[0]
    assert TOKEN not in result.stderr and TOKEN not in result.stdout
    assert inst.counts() == before
    assert not list((inst.tmp_path / "inst" / "files").rglob("*.csv"))


def test_the_token_is_not_a_command_line_option():
    result = CliRunner().invoke(main, ["kobo-pull", "--help"])
    assert result.exit_code == 0
    assert "--token-file" in result.stdout and "--token " not in result.stdout
    assert "CGD_KOBO_TOKEN" in result.stdout
