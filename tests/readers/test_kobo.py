"""Pull from a local server replaying KoboToolbox API v2 response shapes."""

import contextlib
import importlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from indexer.readers import pull_submissions, read_table
from schema.errors import CGDError, InvalidInput, NotFound, PermissionDenied
from schema.suggest import suggest_roles

kobo_module = importlib.import_module("indexer.readers.kobo")

TOKEN = "s3cr3t-token"
ASSET = "aBcD3fGh1jKlMnOp"


def _submission(i: int) -> dict:
    # Shape of /api/v2/assets/{uid}/data/ results: group paths as keys, metadata with underscores.
    return {
        "_id": 1000 + i,
        "_uuid": f"5f2e-{i:04d}",
        "formhub/uuid": "abc123",
        "start": "2024-02-01T10:00:00.000+05:45",
        "end": "2024-02-01T10:20:00.000+05:45",
        "deviceid": f"collect:{i:08d}",
        "_submission_time": "2024-02-01T04:40:11",
        "_submitted_by": "enumerator1",
        "_geolocation": [26.6, 86.7],
        "_attachments": [
            {
                "download_url": f"https://kc.example.org/media/{i}.jpg",
                "mimetype": "image/jpeg",
                "filename": f"enumerator1/attachments/{i}.jpg",
                "instance": 1000 + i,
                "xform": 7,
                "id": 50 + i,
            }
        ]
        if i % 3 == 0
        else [],
        "_validation_status": (
            {
                "timestamp": 1706762411,
                "uid": "validation_status_approved",
                "by_whom": "supervisor",
                "color": "#00ff00",
                "label": "Approved",
            }
            if i % 2
            else {}
        ),
        "_notes": [],
        "_tags": [],
        # A repeat group arrives as a list of objects keyed by full path.
        "members": [
            {"members/member_name": f"Person {i}", "members/member_age": "34"},
            {"members/member_name": f"Person {i}b", "members/member_age": "8"},
        ],
        "_status": "submitted_via_web",
        "__version__": "vABC",
        "meta/instanceID": f"uuid:5f2e-{i:04d}",
        "respondent/sex": "female" if i % 2 else "male",
        "respondent/age": str(20 + i % 50),
        "place/district": "15",
        "water/source": "tubewell pond",
        "water/litres": str(10 + i),
    }


class KoboReplay(BaseHTTPRequestHandler):
    total = 7
    submission = staticmethod(_submission)

    def log_message(self, *args):  # keep test output quiet
        pass

    busy: dict[str, int] = {}  # start offset -> 429 answers still to give

    def do_GET(self):
        parts = urlsplit(self.path)
        if self.headers.get("Authorization") != f"Token {TOKEN}":
            return self._send(401, {"detail": "Invalid token."})
        start = parse_qs(parts.query).get("start", ["0"])[0]
        if self.busy.get(start, 0) > 0:
            self.busy[start] -= 1
            return self._send(
                429, {"detail": "Request was throttled."}, headers={"Retry-After": "0"}
            )
        if parts.path != f"/api/v2/assets/{ASSET}/data/":
            return self._send(404, {"detail": "Not found."})
        q = parse_qs(parts.query)
        limit, start = int(q.get("limit", ["3"])[0]), int(q.get("start", ["0"])[0])
        results = [self.submission(i) for i in range(start, min(start + limit, self.total))]
        base = f"http://127.0.0.1:{self.server.server_port}{parts.path}?format=json&limit={limit}"
        nxt = f"{base}&start={start + limit}" if start + limit < self.total else None
        prev = f"{base}&start={max(start - limit, 0)}" if start else None
        self._send(200, {"count": self.total, "next": nxt, "previous": prev, "results": results})

    def _send(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """``handler`` served on a free local port, in a thread, for the ``with`` block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def kobo_server():
    with serving(KoboReplay) as server:
        yield f"http://127.0.0.1:{server.server_port}"


def test_pull_follows_next_pages_and_flattens_group_paths(kobo_server):
    df = pull_submissions(kobo_server, ASSET, TOKEN, page_size=3, allow_private=True)
    assert df.height == 7
    assert {"sex", "age", "district", "source", "litres", "_uuid", "instanceID"} <= set(df.columns)
    assert df["litres"].to_list() == [str(10 + i) for i in range(7)]
    assert df["_geolocation"][0] == "[26.6, 86.7]"


def test_kobo_nested_metadata_keeps_its_prefix_and_is_dropped_by_default(kobo_server):
    df = pull_submissions(kobo_server, ASSET, TOKEN, page_size=3, allow_private=True)
    assert "uid" not in df.columns and "label" not in df.columns
    nested = [c for c in df.columns if c.startswith("_validation_status")]
    assert "_validation_status_uid" in nested and "_validation_status_by_whom" in nested
    roles = suggest_roles(df)
    for name in [*nested, "_attachments", "_notes", "_tags"]:
        assert roles[name].role == "direct_identifier", (name, roles[name])
    # A repeat group is kept whole, as JSON text, and dropped by default (it holds names).
    assert '"members/member_name": "Person 0"' in df["members"][0]
    assert roles["members"].role == "direct_identifier" and "repeat" in roles["members"].reason


def test_kobo_collection_metadata_is_suggested_as_identifiers(kobo_server):
    roles = suggest_roles(pull_submissions(kobo_server, ASSET, TOKEN, allow_private=True))
    for name in (
        "_id",
        "_uuid",
        "start",
        "end",
        "deviceid",
        "_submission_time",
        "_submitted_by",
        "_geolocation",
        "instanceID",
        "formhub_uuid",  # not "uuid": the form's id keeps its prefix, as Kobo metadata
    ):
        assert roles[name].role == "direct_identifier", (name, roles[name])
    assert roles["sex"].dimension == "sex"
    assert roles["litres"].role == "measure"


def test_wrong_token_is_refused(kobo_server):
    with pytest.raises(PermissionDenied):
        pull_submissions(kobo_server, ASSET, "wrong", allow_private=True)


def test_unknown_form_is_not_found(kobo_server):
    with pytest.raises(NotFound):
        pull_submissions(kobo_server, "nosuchform", TOKEN, allow_private=True)


def test_row_limit_applies_to_pulls(kobo_server):
    from indexer.readers import Limits

    with pytest.raises(InvalidInput) as err:
        pull_submissions(
            kobo_server, ASSET, TOKEN, page_size=3, limits=Limits(max_rows=4), allow_private=True
        )
    assert err.value.code == "too_many_rows"


@pytest.mark.parametrize(
    "server", ["http://kobo.example.org", "ftp://127.0.0.1", "file:///etc/passwd"]
)
def test_token_is_never_sent_in_clear_or_elsewhere(server):
    with pytest.raises(InvalidInput) as err:
        pull_submissions(server, ASSET, TOKEN)
    assert err.value.code == "invalid_server"


class _Counting(KoboReplay):
    asked = 0

    def do_GET(self):
        type(self).asked += 1
        super().do_GET()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_server_on_a_private_address_is_refused_before_the_token_is_sent(host):
    with serving(_Counting) as server:
        try:
            with pytest.raises(InvalidInput) as err:
                pull_submissions(f"http://{host}:{server.server_port}", ASSET, TOKEN)
            assert err.value.code == "kobo_address_refused"
            problem = err.value.problems[0]
            assert problem.file == f"kobo:{ASSET}" and "private or reserved" in problem.message
            assert _Counting.asked == 0
            # The same server is pulled from once private addresses are allowed (tests, closed networks).
            assert (
                pull_submissions(
                    f"http://{host}:{server.server_port}", ASSET, TOKEN, allow_private=True
                ).height
                == KoboReplay.total
            )
            assert _Counting.asked == 1
        finally:
            _Counting.asked = 0


def test_a_name_that_resolves_elsewhere_at_connect_time_is_refused_before_the_token_is_sent(
    monkeypatch,
):
    # DNS rebinding: the name passes the check (a public answer), then the
    # connection lands on a loopback address; the socket's peer is checked too
    monkeypatch.setattr(kobo_module, "check_url", lambda url, allow_private: None)
    with serving(_Counting) as server:
        try:
            with pytest.raises(InvalidInput) as err:
                pull_submissions(f"http://127.0.0.1:{server.server_port}", ASSET, TOKEN)
            assert err.value.code == "kobo_address_refused"
            assert "127.0.0.1" in err.value.problems[0].message
            assert _Counting.asked == 0
        finally:
            _Counting.asked = 0


@pytest.mark.parametrize(
    "server",
    ["https://10.0.0.7", "https://169.254.169.254", "https://[::1]", "https://192.168.1.20:8443"],
)
def test_https_to_a_private_or_link_local_address_is_refused(server):
    with pytest.raises(InvalidInput) as err:
        pull_submissions(server, ASSET, TOKEN, timeout=2)
    assert err.value.code == "kobo_address_refused"


def test_unreachable_server_is_a_clean_error():
    with pytest.raises(CGDError) as err:
        pull_submissions("http://127.0.0.1:9", ASSET, TOKEN, timeout=2, allow_private=True)
    assert err.value.code == "kobo_unreachable"


def test_kobo_xlsx_export_is_read_with_flattened_names():
    from .bad_corpus import _xlsx

    data = _xlsx(
        [
            [
                "start",
                "end",
                "respondent/sex",
                "water/source",
                "water/source/tubewell",
                "water/source/pond",
                "_uuid",
                "_submission_time",
            ],
            [
                "2024-02-01",
                "2024-02-01",
                "female",
                "tubewell pond",
                1,
                1,
                "u-1",
                "2024-02-01T04:40:11",
            ],
        ]
    )
    df = read_table(data, filename="kobo_export.xlsx")
    assert df.columns == [
        "start",
        "end",
        "sex",
        "source",
        "source_tubewell",
        "source_pond",
        "_uuid",
        "_submission_time",
    ]
    assert df.row(0) == (
        "2024-02-01",
        "2024-02-01",
        "female",
        "tubewell pond",
        "1",
        "1",
        "u-1",
        "2024-02-01T04:40:11",
    )


def test_kobo_csv_export_with_semicolons_and_every_field_quoted():
    header = [
        "start",
        "end",
        "respondent/sex",
        "respondent/age",
        "water/source",
        "water/source/tubewell",
        "water/source/pond",
        "water/note",
        "_gps_latitude",
        "_id",
        "_uuid",
        "_submission_time",
        "_index",
    ]
    rows = [
        [
            "2024-02-01T10:00:00.000+05:45",
            "2024-02-01T10:20:00.000+05:45",
            "female" if i % 2 else "male",
            str(20 + i),
            "tubewell pond",
            "1",
            "1",
            f'said "dry; far"\nand left {i}',
            "26.6",
            str(1000 + i),
            f"5f2e-{i:04d}",
            "2024-02-01T04:40:11",
            str(i + 1),
        ]
        for i in range(40)
    ]

    def q(v: str) -> str:
        return '"' + v.replace('"', '""') + '"'

    text = "\r\n".join(";".join(q(v) for v in r) for r in [header, *rows]) + "\r\n"
    df = read_table(text.encode(), filename="kobo_export.csv")
    assert df.columns[2:8] == ["sex", "age", "source", "source_tubewell", "source_pond", "note"]
    assert df.height == 40 and df["note"][3] == 'said "dry; far"\nand left 3'
    roles = suggest_roles(df)
    for name in ("start", "end", "_gps_latitude", "_id", "_uuid", "_submission_time", "_index"):
        assert roles[name].role == "direct_identifier", name
    assert roles["sex"].dimension == "sex" and roles["source_tubewell"].role == "measure"


def test_a_throttled_page_is_asked_again(kobo_server):
    KoboReplay.busy["3"] = 2
    df = pull_submissions(kobo_server, ASSET, TOKEN, page_size=3, allow_private=True)
    assert df.height == 7 and KoboReplay.busy["3"] == 0


def test_a_server_that_stays_busy_is_a_clean_error(kobo_server):
    KoboReplay.busy["0"] = 5
    try:
        with pytest.raises(CGDError) as err:
            pull_submissions(kobo_server, ASSET, TOKEN, page_size=3, retries=1, allow_private=True)
        assert err.value.code == "kobo_error" and "429" in err.value.message
    finally:
        KoboReplay.busy["0"] = 0
