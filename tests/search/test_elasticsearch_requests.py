"""The requests the Elasticsearch backend sends, checked without a cluster.

Two levels: the pure body builders (validated as Elasticsearch 8 query DSL
with the client's own ``elasticsearch.dsl``), and the backend driving the
real client and transport through a recording node (tests/search/recording.py),
which shows the HTTP requests each contract call makes: one
``_aliases`` update per switch, ``_bulk`` into an unaliased index, reads on
the concrete index of the active version.  The live behaviour is the
conformance suite's job, against a real cluster (CGD_ELASTICSEARCH_URL).
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from elasticsearch import Elasticsearch
from elasticsearch.dsl import Search

from indexer.search import FACET_FIELDS, SearchBackendError, SearchQuery, get_backend
from indexer.search.base import DOCUMENT_KEYS, encode_cursor, normalise_document
from indexer.search.elasticsearch import (
    FIELD_PATHS,
    ElasticsearchBackend,
    alias_swap_actions,
    cube_body,
    dataset_source,
    datasets_template,
    parse_search_response,
    records_alias,
    records_body,
    records_template,
    search_body,
    version_actions,
    version_mappings,
)
from schema.errors import InvalidInput
from tests.conformance.conformance_data import COLUMNS, cube_for, dataset_doc, survey
from tests.search.recording import RecordingNode, bulk_ok

PREFIX = "cgd-"


def as_dsl(body: dict) -> dict:
    """A search body as the DSL parses it; raises on an unknown query, aggregation or option."""
    body = {k: v for k, v in body.items() if k != "source_includes"}
    if "from_" in body:
        body["from"] = body.pop("from_")
    return Search.from_dict(body).to_dict()


# -- templates and mappings --------------------------------------------------------------


def test_datasets_template_maps_every_document_field_explicitly():
    template = datasets_template(PREFIX)
    assert template["index_patterns"] == ["cgd-datasets-*"]
    mappings = template["template"]["mappings"]
    assert mappings["dynamic"] == "strict"
    source = dataset_source(normalise_document(dataset_doc(1)))
    assert set(source) == set(DOCUMENT_KEYS) | {"title_sort", "keywords"}
    assert set(source) <= set(mappings["properties"])
    for facet, path in FIELD_PATHS.items():
        head, _, tail = path.partition(".")
        prop = mappings["properties"][head]
        prop = prop["properties"][tail] if tail else prop
        assert prop["type"] in ("keyword", "boolean"), facet
    # Text in every language uses the standard analyzer: Unicode word segmentation, no ICU plugin.
    titles = mappings["dynamic_templates"][0]["titles"]
    assert titles["path_match"] == "title.*"
    assert titles["mapping"]["analyzer"] == "standard"
    assert set(FIELD_PATHS) == set(FACET_FIELDS)


def test_records_template_never_guesses_dates_or_numbers():
    mappings = records_template(PREFIX)["template"]["mappings"]
    assert mappings["dynamic"] == "strict"
    assert mappings["date_detection"] is False and mappings["numeric_detection"] is False
    assert mappings["properties"]["means"] == {"type": "object", "enabled": False}


def test_version_mappings_follow_column_types_and_roles():
    df = pl.DataFrame(
        {
            "sex": ["female"],
            "household_size": [3],
            "has_water": [True],
            "month": [dt.date(2024, 1, 1)],
            "tags": [["a", "b"]],
            "distance_km": [1.5],
            "comment": ["far"],
        }
    )
    columns = {**COLUMNS, "month": {"role": "quasi_identifier"}, "tags": {"role": "other"}}
    props = version_mappings(df, columns)["properties"]["r"]["properties"]
    assert props["sex"] == {"type": "keyword", "ignore_above": 2048}
    assert props["household_size"] == {"type": "long"}
    assert props["has_water"] == {"type": "boolean"}
    assert props["month"]["type"] == "keyword"  # a generalised date is a category, never a date
    assert props["tags"] == {"type": "keyword", "index": False, "doc_values": False}
    # Measures and free text are kept for reading, never indexed for filtering.
    assert props["distance_km"] == {"type": "double", "index": False}
    assert props["comment"] == {"type": "keyword", "index": False}


def test_version_actions_write_meta_records_and_cells_into_one_index():
    df = survey(3)
    cells = [{"dims": {"sex": "female"}, "count": 12, "suppressed": False, "means": {}}]
    actions = list(version_actions("idx", "ds-1", "v1", df, cells, COLUMNS))
    assert [a["_id"] for a in actions] == ["meta", "r1", "r2", "r3", "c1"]
    assert {a["_index"] for a in actions} == {"idx"}
    meta = actions[0]["_source"]["meta"]
    assert meta["columns"] == df.columns and meta["row_count"] == 3
    assert meta["kinds"]["has_water"] == "bool" and "distance_km" not in meta["filterable"]
    assert actions[1]["_source"]["r"] == df.row(0, named=True)
    assert actions[4]["_source"]["dim_key"] == "sex"


def test_direct_identifiers_are_refused_before_any_request():
    df = survey(2).with_columns(pl.lit("9841").alias("phone"))
    with pytest.raises(InvalidInput):
        version_mappings(df, {**COLUMNS, "phone": {"role": "direct_identifier"}})


# -- search bodies ---------------------------------------------------------------------


def test_search_body_is_valid_dsl_with_a_terms_aggregation_per_facet():
    query = SearchQuery(
        text="water Kathmandu",
        filters={"topic": ["water", "land"], "endorsed": ["True"], "source": ["hdx"]},
        lang="ne",
    )
    body = search_body(query)
    parsed = as_dsl(body)
    assert set(parsed["aggs"]) == set(FACET_FIELDS)
    for name, agg in parsed["aggs"].items():
        assert agg["terms"]["field"] == FIELD_PATHS[name]
        assert agg["terms"]["order"] == [{"_count": "desc"}, {"_key": "asc"}]
    filters = body["query"]["bool"]["filter"]
    assert {"terms": {"topics": ["water", "land"]}} in filters
    assert {"terms": {"endorsed": ["true"]}} in filters
    assert {"terms": {"source": ["hdx"]}} in filters
    sqs = body["query"]["bool"]["must"][0]["simple_query_string"]
    assert sqs["default_operator"] == "and" and sqs["query"] == "water Kathmandu"
    assert body["track_total_hits"] is True
    assert body["sort"][0] == "_score" and body["sort"][-1] == {"id": "asc"}


def test_search_body_highlights_in_the_asked_language_with_html_escaping():
    body = search_body(SearchQuery(text="पानी", lang="ne"))
    highlight = body["highlight"]
    assert highlight["encoder"] == "html"
    assert highlight["pre_tags"] == ["<mark>"] and highlight["post_tags"] == ["</mark>"]
    assert set(highlight["fields"]) == {"title.ne", "description.ne", "title.en", "description.en"}
    assert highlight["fields"]["title.ne"] == {"number_of_fragments": 0}


def test_search_body_without_text_matches_all_sorted_by_recent():
    body = search_body(SearchQuery(limit=5, offset=10))
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]
    assert "highlight" not in body
    assert body["size"] == 5 and body["from_"] == 10
    assert body["sort"] == [{"published_at": {"order": "desc", "missing": "_last"}}, {"id": "desc"}]
    as_dsl(body)


def test_search_body_sorts_titles_by_the_asked_language_first():
    body = search_body(SearchQuery(sort="title", lang="ne"))
    first = body["sort"][0]["title.ne.sort"]
    assert first["unmapped_type"] == "keyword" and first["missing"] == "_last"


def test_zero_facet_limit_asks_for_no_aggregation():
    body = search_body(SearchQuery(facet_limit=0))
    assert "aggs" not in body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"water access" rural', '"water access" rural'),
        ("wat*", "wat*"),
        ('"पानी पहुँच"', '"पानी पहुँच"'),
        ("अपाङ्गता*", "अपाङ्गता*"),
        # Operators are dropped; words joined by punctuation must stay in order, as a phrase.
        ("title:water OR (x) -y +z | w~2", '"title water" OR x y z "w 2"'),
        ("covid-19", '"covid 19"'),
    ],
)
def test_user_text_reaches_simple_query_string_only_as_words_phrases_and_prefixes(text, expected):
    body = search_body(SearchQuery(text=text))
    sqs = body["query"]["bool"]["must"][0]["simple_query_string"]
    assert sqs["query"] == expected
    assert sqs["flags"] == "PHRASE|PREFIX|WHITESPACE"  # no AND/OR/NOT/fuzzy/grouping operators


def test_search_response_is_read_with_boolean_keys_as_strings_and_highlights():
    query = SearchQuery(text="water", lang="ne", facets=("endorsed", "topic"))
    source = dataset_source(normalise_document(dataset_doc(1)))
    response = {
        "took": 2,
        "hits": {
            "total": {"value": 7, "relation": "eq"},
            "max_score": 3.5,
            "hits": [
                {
                    "_index": "cgd-datasets-1",
                    "_id": "ds-1",
                    "_score": 3.5,
                    "_source": source,
                    "highlight": {
                        "title.en": ["Household <mark>water</mark>"],
                        "description.en": ["a", "b"],
                    },
                }
            ],
        },
        "aggregations": {
            "endorsed": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [
                    {"key": 0, "key_as_string": "false", "doc_count": 5},
                    {"key": 1, "key_as_string": "true", "doc_count": 2},
                ],
            },
            "topic": {"buckets": [{"key": "water", "doc_count": 7}]},
        },
    }
    result = parse_search_response(response, query)
    assert result.total == 7
    assert result.facets == {"endorsed": [("false", 5), ("true", 2)], "topic": [("water", 7)]}
    hit = result.hits[0]
    assert hit.id == "ds-1" and hit.score == 3.5
    assert "keywords" not in hit.doc and "title_sort" not in hit.doc
    assert hit.highlights == {"title": "Household <mark>water</mark>", "description": "a … b"}


def test_records_body_pages_with_search_after_on_the_unique_row():
    body = records_body({"sex": ["female", "other"]}, 50, 120, count=False)
    assert body["search_after"] == [120]
    assert body["sort"] == [{"row": "asc"}] and body["size"] == 51
    assert body["track_total_hits"] is False
    assert body["query"]["bool"]["filter"] == [
        {"term": {"kind": "record"}},
        {"terms": {"r.sex": ["female", "other"]}},
    ]
    as_dsl(body)
    assert "search_after" not in records_body({}, 10, None)


def test_cube_body_selects_cells_over_exactly_the_asked_dimensions():
    body = cube_body("district|sex", {"district": "NP-KTM"}, None)
    assert body["query"]["bool"]["filter"] == [
        {"term": {"kind": "cell"}},
        {"term": {"dim_key": "district|sex"}},
        {"term": {"dims.district": "NP-KTM"}},
    ]
    as_dsl(body)


def test_alias_swap_removes_the_old_and_adds_the_new_in_one_action_list():
    assert alias_swap_actions("a", ["old-2", "old-1", "new"], "new") == [
        {"remove": {"index": "old-1", "alias": "a"}},
        {"remove": {"index": "old-2", "alias": "a"}},
        {"add": {"index": "new", "alias": "a"}},
    ]
    assert alias_swap_actions("a", ["old"], None) == [{"remove": {"index": "old", "alias": "a"}}]


# -- the backend through the real client ----------------------------------------------


@pytest.fixture
def node():
    RecordingNode.requests = []
    RecordingNode.routes = []
    yield RecordingNode
    RecordingNode.requests = []
    RecordingNode.routes = []


def es_backend(**options):
    client = Elasticsearch("http://es.invalid:9200", node_class=RecordingNode)
    return get_backend("elasticsearch", client=client, **options)


def calls(node, method=None, path=None):
    return [
        r
        for r in node.requests
        if (method is None or r.method == method) and (path is None or path in r.path)
    ]


def test_capabilities_are_reported_without_a_cluster(node):
    backend = es_backend()
    assert "facets" in backend.capabilities()
    assert node.requests == []


def test_index_prefix_is_normalised_and_checked():
    assert es_backend(index_prefix="cgd").prefix == "cgd-"
    assert es_backend(index_prefix="cgd_test_").prefix == "cgd_test_"
    with pytest.raises(SearchBackendError):
        es_backend(index_prefix="CGD")
    with pytest.raises(SearchBackendError):
        ElasticsearchBackend()  # neither url nor client


def test_setup_refuses_a_server_that_is_not_8x(node):
    node.routes = [("GET", "/", lambda r: (200, {"version": {"number": "9.0.1"}}))]
    with pytest.raises(SearchBackendError) as err:
        es_backend().setup()
    assert err.value.code == "search_backend_version"
    assert calls(node, "PUT") == []


def test_setup_puts_both_templates_and_the_first_aliased_datasets_index(node):
    node.routes = [
        ("GET", "/", lambda r: (200, {"version": {"number": "8.15.0"}})),
        ("PUT", "/_index_template/.*", lambda r: (200, {"acknowledged": True})),
        ("HEAD", "/_alias/cgd-datasets", lambda r: (404, {})),
        ("PUT", "/cgd-datasets-\\d+", lambda r: (200, {"acknowledged": True})),
    ]
    es_backend().setup()
    templates = {r.path: r.body for r in calls(node, "PUT", "/_index_template/")}
    assert set(templates) == {"/_index_template/cgd-datasets", "/_index_template/cgd-records"}
    assert templates["/_index_template/cgd-records"]["index_patterns"] == ["cgd-records-*"]
    assert templates["/_index_template/cgd-datasets"]["_meta"] == {"managed_by": "cgd-portal"}
    (create,) = [r for r in calls(node, "PUT") if r.path.startswith("/cgd-datasets-")]
    assert create.body == {"aliases": {"cgd-datasets": {}}}


def test_index_version_bulks_into_a_new_unaliased_index_with_explicit_mappings(node):
    node.routes = [
        ("GET", "/cgd-records-.*/_alias", lambda r: (200, {})),
        ("PUT", "/cgd-records-.*", lambda r: (200, {"acknowledged": True})),
        ("PUT", "/_bulk", bulk_ok),
        ("POST", "/_bulk", bulk_ok),
        ("POST", "/cgd-records-.*/_refresh", lambda r: (200, {})),
    ]
    df = survey(25)
    es_backend(bulk_chunk_size=10).index_version(
        "ds-1", "v1", df, cube_for(df, [("sex",)]), COLUMNS
    )
    (create,) = [r for r in calls(node, "PUT") if r.path.startswith("/cgd-records-")]
    assert create.path.startswith("/" + records_alias(PREFIX, "ds-1") + "-")
    assert "aliases" not in (create.body or {})
    assert create.body["mappings"]["properties"]["r"]["properties"]["sex"]["type"] == "keyword"
    bulks = [r for r in node.requests if r.path == "/_bulk"]
    assert len(bulks) == 3  # streaming_bulk in chunks of 10 actions: 1 meta + 25 rows + 3 cells
    sources = [line for bulk in bulks for line in bulk.body[1::2]]
    assert [s["kind"] for s in sources].count("record") == 25
    assert calls(node, path="/_aliases") == []  # nothing becomes visible


def test_activation_moves_the_alias_in_one_update_aliases_call_then_deletes_the_old(node):
    alias = records_alias(PREFIX, "ds-1")
    old, new = f"{alias}-old_1-00000000000000000001", f"{alias}-v2_2-00000000000000000002"

    def get_alias(request):
        if "-v2_" in request.path or request.path.count("-") > alias.count("-") + 1:
            return 200, {new: {"aliases": {}}}
        return 200, {old: {"aliases": {alias: {}}}, new: {"aliases": {}}}

    node.routes = [
        ("GET", ".*/_alias", get_alias),
        ("POST", "/_aliases", lambda r: (200, {"acknowledged": True})),
        ("DELETE", ".*", lambda r: (200, {"acknowledged": True})),
    ]
    es_backend().activate_version("ds-1", "v2")
    (swap,) = calls(node, "POST", "/_aliases")
    assert swap.body == {
        "actions": [
            {"remove": {"index": old, "alias": alias}},
            {"add": {"index": new, "alias": alias}},
        ]
    }
    deletes = calls(node, "DELETE")
    assert [d.path for d in deletes] == [f"/{old}"]
    assert node.requests.index(swap) < node.requests.index(deletes[0])


def test_records_are_read_from_the_concrete_index_of_the_active_version(node):
    alias = records_alias(PREFIX, "ds-1")
    concrete = f"{alias}-v1_x-00000000000000000007"
    meta = {
        "kind": "meta",
        "dataset_id": "ds-1",
        "version_id": "v1",
        "meta": {
            "columns": ["sex", "tags"],
            "kinds": {"sex": "text", "tags": "json"},
            "filterable": ["sex"],
            "row_count": 3,
        },
    }

    def search(request):
        hits = [
            {"_source": {"row": i, "version_id": "v1", "r": {"sex": "female", "tags": '["a"]'}}}
            for i in (1, 2, 3)
        ]
        return 200, {"hits": {"total": {"value": 3, "relation": "eq"}, "hits": hits}}

    node.routes = [
        ("GET", f"/{alias}/_doc/meta", lambda r: (200, {"_index": concrete, "_source": meta})),
        ("POST", f"/{concrete}/_search", search),
    ]
    page = es_backend().records("ds-1", filters={"sex": ["female"]}, limit=2)
    assert page.total == 3 and page.rows == [{"sex": "female", "tags": ["a"]}] * 2
    (sent,) = calls(node, "POST", "/_search")
    assert sent.path == f"/{concrete}/_search"
    assert sent.query["_source_includes"] == ["row,r,version_id"]
    assert sent.body["track_total_hits"] is True and "search_after" not in sent.body
    # The next page carries the total: no count, search_after on the last row.
    es_backend().records("ds-1", filters={"sex": ["female"]}, limit=2, after=page.next_cursor)
    second = calls(node, "POST", "/_search")[-1]
    assert second.body["search_after"] == [2] and second.body["track_total_hits"] is False
    with pytest.raises(InvalidInput) as err:
        es_backend().records("ds-1", after=encode_cursor("v0", [2, 3, "x"]))
    assert err.value.code == "stale_cursor"


def test_rebuild_switches_datasets_and_records_in_one_update_aliases_call(node):
    datasets = f"{PREFIX}datasets"
    ds1 = records_alias(PREFIX, "ds-1")
    ds9 = records_alias(PREFIX, "ds-9")
    live = {
        f"{datasets}-00000000000000000001": {"aliases": {datasets: {}}},
        f"{ds1}-v1_a-00000000000000000001": {"aliases": {ds1: {}}},
        f"{ds9}-v1_b-00000000000000000001": {"aliases": {ds9: {}}},
    }

    def get_alias(request):
        pattern = request.path.split("/")[1].rstrip("*")
        return 200, {k: v for k, v in live.items() if k.startswith(pattern)}

    node.routes = [
        ("GET", ".*/_alias", get_alias),
        ("PUT", "/_bulk", bulk_ok),
        ("POST", "/_bulk", bulk_ok),
        ("POST", ".*/_refresh", lambda r: (200, {})),
        ("PUT", "/cgd-.*", lambda r: (200, {"acknowledged": True})),
        ("POST", "/_aliases", lambda r: (200, {"acknowledged": True})),
        ("DELETE", ".*", lambda r: (200, {"acknowledged": True})),
    ]
    df = survey(5)
    count = es_backend().rebuild(
        [
            (dataset_doc(1, version_id="v2"), df, cube_for(df, [("sex",)]), COLUMNS),
            (dataset_doc(2), None, None, {}),
        ]
    )
    assert count == 2
    (swap,) = calls(node, "POST", "/_aliases")
    actions = swap.body["actions"]
    added = {a["add"]["alias"]: a["add"]["index"] for a in actions if "add" in a}
    removed = {a["remove"]["index"] for a in actions if "remove" in a}
    assert set(added) == {datasets, ds1}
    assert added[ds1].startswith(f"{ds1}-")  # the new version's index
    assert removed == set(live)  # old datasets index, ds-1's old version, ds-9 (left the catalogue)
    deleted = {d.path.lstrip("/") for d in calls(node, "DELETE")}
    assert deleted == {",".join(sorted(live))}
    assert node.requests.index(swap) < node.requests.index(calls(node, "DELETE")[0])


def test_a_search_request_carries_the_body_the_builder_made(node):
    def search(request):
        return 200, {
            "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []},
            "aggregations": {},
        }

    node.routes = [("POST", "/cgd-datasets/_search", search)]
    query = SearchQuery(text='"पानी पहुँच"', lang="ne", limit=5, offset=5)
    result = es_backend().search(query)
    assert result.total == 0 and result.facets == {name: [] for name in FACET_FIELDS}
    (sent,) = node.requests
    expected = search_body(query)
    expected["from"] = expected.pop("from_")
    assert sent.body == json.loads(json.dumps(expected, ensure_ascii=False))


def test_several_documents_are_read_with_one_multi_get(node):
    doc = dataset_source(normalise_document(dataset_doc(2)))

    def mget(request):
        assert request.body == {"ids": ["ds-2", "missing"]}
        return 200, {
            "docs": [
                {"_index": "cgd-datasets-1", "_id": "ds-2", "found": True, "_source": doc},
                {"_index": "cgd-datasets-1", "_id": "missing", "found": False},
            ]
        }

    node.routes = [("POST", "/cgd-datasets/_mget", mget)]
    backend = es_backend()
    got = backend.get_datasets(["ds-2", "missing"])
    assert [r.path for r in node.requests] == ["/cgd-datasets/_mget"]
    assert got[0]["id"] == "ds-2" and "keywords" not in got[0] and got[1] is None
    assert backend.get_datasets([]) == [] and len(node.requests) == 1


def test_record_filters_are_sent_typed_as_the_version_mapped_them(node):
    alias = records_alias(PREFIX, "ds-1")
    concrete = f"{alias}-v1_x-00000000000000000009"
    meta = {
        "kind": "meta",
        "dataset_id": "ds-1",
        "version_id": "v1",
        "meta": {
            "columns": ["has_water", "household_size"],
            "kinds": {"has_water": "bool", "household_size": "int"},
            "filterable": ["has_water", "household_size"],
            "row_count": 0,
        },
    }
    empty = {"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}
    node.routes = [
        ("GET", f"/{alias}/_doc/meta", lambda r: (200, {"_index": concrete, "_source": meta})),
        ("POST", f"/{concrete}/_search", lambda r: (200, empty)),
    ]
    es_backend().records(
        "ds-1", filters={"has_water": ["1", "TRUE"], "household_size": ["3", "three"]}
    )
    (sent,) = calls(node, "POST", "/_search")
    assert sent.body["query"]["bool"]["filter"][1:] == [
        {"terms": {"r.has_water": [True]}},
        {"terms": {"r.household_size": [3]}},
    ]
