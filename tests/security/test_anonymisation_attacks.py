"""Attacks on anonymisation through the public interfaces: hidden identifier columns, names in free text,
unique quasi-identifier combinations, small cells by differencing, and a walk of every public GET for the
seeded personal strings."""

from __future__ import annotations

import io
import itertools
import re
import zipfile

import polars as pl
import pytest

from .routes import rules, urls_for
from .site import HOSTILE_SLUG

THRESHOLD = 10
PHONE_LIKE = re.compile(r"(?:\+?977[\s-]?)?9[678]\d[\s-]?\d{3}[\s-]?\d{4}|9[678]\d{8}")
AGG = (
    "query($d: String!, $by: [String!]!, $f: [DimensionFilter!]) { aggregate(dataset: $d, by: $by, filter: $f)"
    " { suppressedCount cells { count suppressed dimensions { column code } } } }"
)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)[-10:]


@pytest.fixture(scope="module")
def report(site):
    token = site.token("ada", ["datasets:read-private"], ["samata"])
    resp = site.get(
        f"/api/v1/versions/{site.published['hostile']['version']}/anonymisation-report",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["report"]


@pytest.fixture(scope="module")
def records(site) -> pl.DataFrame:
    resp = site.get(f"/datasets/{HOSTILE_SLUG}/download.csv")
    assert resp.status_code == 200
    return pl.read_csv(io.BytesIO(resp.content), infer_schema_length=0)


def test_undeclared_phone_email_and_citizenship_columns_are_detected_and_dropped(
    site, report, records
):
    dropped = {d["column"]: d["kind"] for d in report["dropped"]}
    assert dropped.get("alt_contact") == "phone", dropped
    assert dropped.get("reach_me") == "email", dropped
    assert dropped.get("nagarikta") == "national_id", dropped
    assert not {"alt_contact", "reach_me", "nagarikta", "respondent_name", "phone"} & set(
        records.columns
    )
    api = site.graphql(
        "query($d: String!) { records(dataset: $d, first: 5) { rows } }", {"d": HOSTILE_SLUG}
    ).json()["data"]["records"]["rows"]
    assert api and not {"alt_contact", "reach_me", "nagarikta"} & set(api[0])


def test_names_quoted_inside_free_text_are_scrubbed(site, records):
    comments = [c for c in records["comments"].drop_nulls().to_list() if c]
    quoted = [c for c in comments if c.startswith("Ward secretary")]
    assert quoted, "the quoted-name comments were dropped; nothing was tested"
    assert all('"[NAME]"' in c for c in quoted), quoted[:3]
    names = site.seeded["names"]
    assert not [c for c in comments if any(n in c for n in names)]


def test_every_quasi_identifier_combination_is_shared_by_at_least_k_records(report, records):
    qi = report["quasi_identifiers"]
    assert {"age", "sex", "district", "caste_ethnicity"} <= set(qi)
    k = report["k_target"]
    assert k >= 5
    sizes = records.group_by(qi).len()["len"]
    assert sizes.min() >= k, records.group_by(qi).len().sort("len").head(5)
    # The planted unique record (aged 97) is not singled out: no 97, and its band is shared.
    assert "97" not in records["age"].drop_nulls().to_list()


def _aggregate(site, by, filters=None):
    resp = site.graphql(AGG, {"d": HOSTILE_SLUG, "by": by, "f": filters or []})
    body = resp.json()
    assert "errors" not in body, body
    out = {}
    for cell in body["data"]["aggregate"]["cells"]:
        key = tuple(
            d["code"]
            for d in sorted(
                cell["dimensions"], key=lambda d: by.index(d["column"]) if d["column"] in by else 99
            )
        )
        out[key] = cell
    return out


def _true_counts(records: pl.DataFrame, by: list[str]) -> dict[tuple, int]:
    df = records.select(by).fill_null("_unknown")
    return {tuple(r[:-1]): r[-1] for r in df.group_by(by).len().rows()}


DIMS = ["sex", "district", "caste_ethnicity", "urban_rural", "disability"]


def test_no_small_count_is_published(site, records):
    checked_small = 0
    for a, b in itertools.combinations(DIMS, 2):
        table = _aggregate(site, [a, b])
        truth = _true_counts(records, [a, b])
        for key, cell in table.items():
            true = truth.get(key, 0)
            if 1 <= true < THRESHOLD:
                checked_small += 1
                assert cell["suppressed"] and cell["count"] is None, (a, b, key, true, cell)
    assert checked_small > 0, "no small cells in the data; the test checks nothing"


def test_no_small_count_is_recoverable_by_differencing(site, records):
    singles = {d: _aggregate(site, [d]) for d in DIMS}
    hidden_small = 0
    for a, b in itertools.combinations(DIMS, 2):
        table = _aggregate(site, [a, b])
        truth = _true_counts(records, [a, b])
        hidden_small += sum(
            1
            for key, cell in table.items()
            if cell["suppressed"] and 1 <= truth.get(key, 0) < THRESHOLD and "_unknown" not in key
        )
        # Differencing: a published margin minus its known children leaves one unknown cell?
        # Followed symbolically (which cells become determined, up to the perturbation), so the
        # answer does not hang on this run's noise. Cells in the "_unknown" bucket (values
        # k-anonymity suppressed) describe no group of people and are not targets themselves.
        known = {key for key, cell in table.items() if not cell["suppressed"]}
        changed = True
        while changed:
            changed = False
            for axis, margin in ((0, singles[a]), (1, singles[b])):
                for mkey, mcell in margin.items():
                    if mcell["suppressed"]:
                        continue
                    hidden = [k for k in table if k[axis] == mkey[0] and k not in known]
                    if len(hidden) != 1:
                        continue
                    target = hidden[0]
                    known.add(target)
                    changed = True
                    true = truth.get(target, 0)
                    assert "_unknown" in target or not 1 <= true < THRESHOLD, (
                        f"{a} x {b}: suppressed cell {target} (true {true}) is determined by differencing"
                    )
    assert hidden_small > 0, "no suppressed small cell to attack; the test checks nothing"


def test_filters_and_complements_answer_the_same_protected_cells(site, records):
    both = _aggregate(site, ["district", "sex"])
    assert len(both) >= 6, both
    for (district, sex), cell in list(both.items())[:6]:
        filtered = _aggregate(site, ["sex"], [{"dimension": "district", "code": district}])
        same = filtered.get((sex,)) or next((c for k, c in filtered.items() if sex in k), None)
        assert same is not None, (district, sex, filtered.keys())
        assert same["count"] == cell["count"] and same["suppressed"] == cell["suppressed"]
    # Filters on a small group (three dimensions at once) never reveal a count under the threshold.
    truth = _true_counts(records, ["district", "sex", "caste_ethnicity"])
    small = [k for k, v in truth.items() if 1 <= v < THRESHOLD and "_unknown" not in k][:8]
    assert small, "no small three-way group in the data; the test checks nothing"
    matched = 0
    for district, sex, caste in small:
        cells = _aggregate(
            site,
            ["caste_ethnicity"],
            [{"dimension": "district", "code": district}, {"dimension": "sex", "code": sex}],
        )
        for key, cell in cells.items():
            if caste in key:
                matched += 1
                assert cell["suppressed"] and cell["count"] is None, (district, sex, caste, cell)
    assert matched > 0, ("no filtered answer held a small group's cell", small)


def _public_get_urls(site) -> list[str]:
    urls = set()
    slugs = [site.published["demo"]["slug"], HOSTILE_SLUG]
    for rule in rules(site.app, "GET"):
        if rule.arguments & {"slug", "ref", "code", "number"} or not rule.arguments:
            for slug in slugs:
                urls.update(urls_for(rule, slug))
    skip = ("/static/", "/metrics", "/account", "/orgs/", "/publish/", "/oauth/")
    extra = [
        "/catalog.ttl",
        "/catalog.jsonld",
        "/catalog.rdf",
        "/api/3/action/package_search?rows=100",
        "/api/3/action/current_package_list_with_resources",
        *[f"/api/3/action/package_show?id={s}" for s in slugs],
        *[f"/datasets/{s}/download.csv?hxl=1" for s in slugs],
        *[f"/datasets/{s}/download.json?hxl=1" for s in slugs],
        "/search?q=water",
        "/search?q=ward",
    ]
    # PDFs are compressed streams: a substring search in them would prove nothing.
    return sorted(u for u in urls | set(extra) if not u.startswith(skip) and not u.endswith(".pdf"))


def _bodies(resp) -> list[str]:
    if resp.headers.get("Content-Type", "").startswith("application/zip"):
        with zipfile.ZipFile(io.BytesIO(resp.content)) as zf:
            return [zf.read(n).decode("utf-8", "ignore") for n in zf.namelist()]
    return [resp.content.decode("utf-8", "ignore")]


NAME_LIKE = re.compile(r"(?=\b([A-Z][a-z]+ [A-Z][a-z]+)\b)")
EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CITIZENSHIP_LIKE = re.compile(r"\d{2}-\d{2}-\d{2}-\d{5}")


def _leaks(site, text: str) -> list[str]:
    """Seeded strings in ``text``: candidates found by pattern, then looked up (fast on big pages)."""
    seeded = site.seeded
    phones = {_digits(p) for p in seeded["phones"]}
    emails = {e.lower() for e in seeded["emails"]}
    found = [m for m in NAME_LIKE.findall(text) if m in seeded["names"]]
    found += [m for m in EMAIL_LIKE.findall(text) if m.lower() in emails]
    found += [m for m in CITIZENSHIP_LIKE.findall(text) if m in seeded["citizenship"]]
    found += [m for m in PHONE_LIKE.findall(text) if _digits(m) in phones]
    return found


def test_the_leak_finder_finds_what_was_seeded(site):
    name = sorted(site.seeded["names"])[0]
    email = sorted(site.seeded["emails"])[0]
    cit = sorted(site.seeded["citizenship"])[0]
    phone = sorted(site.seeded["phones"])[0]
    text = f"<td>Dear {name},</td> mail {email.upper()}; id {cit} tel {phone}."
    assert len(_leaks(site, text)) == 4, _leaks(site, text)


def test_no_seeded_personal_string_in_any_public_response(site):
    urls = _public_get_urls(site)
    assert len(urls) > 40, urls
    for url in urls:
        resp = site.get(url)
        assert resp.status_code < 500, (url, resp.status_code)
        for text in _bodies(resp):
            leaked = _leaks(site, text)
            assert not leaked, f"{url}: {leaked[:3]}"
    for slug in (site.published["demo"]["slug"], HOSTILE_SLUG):
        after = None
        while True:
            page = site.graphql(
                "query($d: String!, $a: String) { records(dataset: $d, first: 100, after: $a)"
                " { rows nodes { values } pageInfo { hasNextPage endCursor } } }",
                {"d": slug, "a": after},
            ).json()["data"]["records"]
            leaked = _leaks(site, str(page))
            assert not leaked, f"records of {slug}: {leaked[:3]}"
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    datasets = site.graphql(
        "{ datasets(first: 100) { edges { node { title description slug anonymisation { k }"
        " distributions { url } } } } }"
    )
    assert not _leaks(site, datasets.text)


def test_searching_for_a_seeded_email_or_name_finds_nothing(site):
    email = sorted(site.seeded["emails"])[0]
    local = email.split("@")[0].split(".")[1]  # e.g. "sharma12": unique to that person
    for q in (local, f'"{email}"'):
        resp = site.graphql("query($q: String!) { datasets(query: $q) { totalCount } }", {"q": q})
        assert resp.json()["data"]["datasets"]["totalCount"] == 0, q
        page = site.get("/search", params={"q": q})
        assert (
            page.status_code in (200, 400)
            and 'href="/datasets/' not in page.text.split("<main", 1)[-1]
        )


def test_suppressed_cells_hide_their_means_and_only_dimensions_can_be_grouped(site):
    resp = site.graphql(
        'query($d: String!) { aggregate(dataset: $d, by: ["district", "caste_ethnicity", "sex"])'
        " { cells { suppressed count means { measure value } } } }",
        {"d": HOSTILE_SLUG},
    ).json()
    cells = resp["data"]["aggregate"]["cells"]
    hidden = [c for c in cells if c["suppressed"]]
    assert hidden, "nothing suppressed in a three-way table of 400 records"
    assert all(c["count"] is None and all(m["value"] is None for m in c["means"]) for c in hidden)
    for by in (
        ["comments"],
        ["monthly_income_npr"],
        ["respondent_name"],
        ["alt_contact"],
        ["district", "comments"],
    ):
        body = site.graphql(AGG, {"d": HOSTILE_SLUG, "by": by, "f": []}).json()
        assert body.get("errors"), (by, body)
        assert body["errors"][0]["extensions"]["code"] not in (None, "internal_error"), body
    too_many = site.graphql(
        AGG,
        {
            "d": HOSTILE_SLUG,
            "by": ["district", "sex"],
            "f": [
                {"dimension": "caste_ethnicity", "code": "hill_dalit"},
                {"dimension": "urban_rural", "code": "rural"},
            ],
        },
    ).json()
    assert too_many.get("errors"), (
        "four dimensions at once (two filters) must be refused: the cube has three"
    )


def test_identifiers_under_neutral_names_uploaded_through_rest_never_reach_the_public(site):
    import random

    from indexer.synthetic import demo_metadata, generate_survey

    from .site import citizenship_number

    rng = random.Random(3)
    df = generate_survey(240, seed=41).drop("respondent_name", "phone")
    n = df.height
    phones = [
        f"+977-98{rng.randint(40, 69)}-{rng.randint(100000, 999999)}" if i % 3 else ""
        for i in range(n)
    ]
    emails = [f"person{i}.{rng.randint(1000, 9999)}@gmail.example" for i in range(n)]
    cits = [citizenship_number(rng) for _ in range(n)]
    notes = [
        f"Reach me at other{i}@mail.example.org or {phones[i] or '9841000000'}" for i in range(n)
    ]
    df = df.with_columns(
        pl.Series("ref", phones),
        pl.Series("x1", emails),
        pl.Series("code", cits),
        pl.Series("remarks", notes),
    )
    meta = demo_metadata()
    meta["title"] = {"en": "Survey with identifiers under neutral column names"}
    meta["columns"] = {
        k: v for k, v in meta["columns"].items() if k not in ("respondent_name", "phone")
    }
    token = site.token(
        "ada", ["datasets:write", "datasets:read-private", "datasets:publish"], ["samata"]
    )
    auth = {"Authorization": f"Bearer {token}"}
    ds = site.post(
        "/api/v1/datasets", json={"organisation": "samata", "metadata": meta}, headers=auth
    ).json()
    buf = io.BytesIO()
    df.write_csv(buf)
    up = site.post(
        f"/api/v1/datasets/{ds['id']}/versions",
        files={"file": ("s.csv", buf.getvalue())},
        headers=auth,
    )
    assert up.status_code == 202, up.text
    version = up.json()["version"]["id"]
    assert (
        site.post(
            f"/api/v1/versions/{version}/publish", json={"approve_free_text": True}, headers=auth
        ).status_code
        == 202
    )
    public = [
        site.get(f"/datasets/{ds['slug']}/download.csv").text,
        site.get(f"/datasets/{ds['slug']}/download.json").text,
        site.get(f"/datasets/{ds['slug']}").text,
        site.graphql(
            "query($d: String!) { records(dataset: $d, first: 100) { rows } }", {"d": ds["slug"]}
        ).text,
    ]
    assert "[EMAIL]" in public[0] and "remarks" in public[0], public[0][:300]
    phone_digits = {_digits(p) for p in phones if p}
    for text in public:
        leaked = [s for s in phones + emails + cits if s and s in text]
        leaked += [m for m in PHONE_LIKE.findall(text) if _digits(m) in phone_digits]
        assert not leaked, leaked[:3]
        assert "other0@mail.example.org" not in text


def test_fact_sheet_pdfs_hold_no_seeded_personal_string(site):
    pypdf = pytest.importorskip("pypdf")
    for path in (f"/datasets/{HOSTILE_SLUG}/factsheet.pdf", "/topics/water/factsheet.pdf"):
        resp = site.get(path)
        assert resp.status_code == 200, path
        text = "\n".join(
            page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(resp.content)).pages
        )
        assert len(text) > 200, path
        assert not _leaks(site, text), (path, _leaks(site, text)[:3])


@pytest.mark.parametrize(
    "by, filters",
    [
        (["district", "district"], []),
        (["sex", "sex", "sex"], []),
        (
            ["district"],
            [{"dimension": "district", "code": "2"}, {"dimension": "district", "code": "5"}],
        ),
        (["sex"], [{"dimension": "sex", "code": "female"}]),
        ([], []),
        (["district"], [{"dimension": "district", "code": "Saptari"}]),
        (["district"], [{"dimension": "caste_ethnicity", "code": "_unknown"}]),
        (
            ["caste_ethnicity"],
            [
                {"dimension": "district", "code": "_unknown"},
                {"dimension": "sex", "code": "_unknown"},
            ],
        ),
    ],
)
def test_odd_aggregate_requests_never_publish_a_small_count(site, records, by, filters):
    resp = site.graphql(AGG, {"d": HOSTILE_SLUG, "by": by, "f": filters})
    assert resp.status_code < 500
    body = resp.json()
    if body.get("errors"):
        assert body["errors"][0]["extensions"]["code"] != "internal_error", body
        return
    for cell in body["data"]["aggregate"]["cells"]:
        if not cell["suppressed"]:
            assert cell["count"] is not None and cell["count"] >= THRESHOLD - 2, cell
