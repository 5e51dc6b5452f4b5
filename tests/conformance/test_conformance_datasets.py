"""Dataset documents: indexing, full text in English and Nepali, highlights, filters, facets, sorting."""

from __future__ import annotations

import threading

import pytest

from indexer.search import CAPABILITIES, SearchQuery
from schema.errors import InvalidInput
from tests.conformance.conformance_data import dataset_doc


@pytest.fixture
def catalogue(backend):
    docs = [
        dataset_doc(
            1,
            title={
                "en": "Water access of people with disabilities",
                "ne": "अपाङ्गता भएका व्यक्तिहरूको पानी पहुँच",
            },
            description={
                "en": "Drinking water survey in Kathmandu.",
                "ne": "काठमाडौंमा खानेपानी सर्वेक्षण।",
            },
            topics=["water", "disability"],
            dimensions=["sex", "disability"],
            places=["NP-KTM"],
            endorsed=True,
            published_at="2024-03-01T00:00:00+00:00",
        ),
        dataset_doc(
            2,
            title={"en": "Land ownership of Dalit women", "ne": "दलित महिलाको जग्गा स्वामित्व"},
            description={
                "en": "Who owns land, and whether water reaches it.",
                "ne": "जग्गा कसको नाममा छ।",
            },
            organisation={"slug": "fedo", "name": "Feminist Dalit Organization"},
            topics=["land"],
            dimensions=["sex", "caste"],
            places=["NP-LAL", "NP-KTM"],
            licence="CC-BY-SA-4.0",
            published_at="2024-05-01T00:00:00+00:00",
        ),
        dataset_doc(
            3,
            title={"en": "Migrant workers remittances"},
            description={"en": "Remittance use by returnee migrant households."},
            organisation={"slug": "pourakhi", "name": "Pourakhi Nepal"},
            topics=["migration"],
            dimensions=["sex", "age"],
            places=["NP-MOR"],
            languages=["en"],
            source="hdx",
            published_at="2024-04-01T00:00:00+00:00",
        ),
        dataset_doc(
            4,
            title={"en": "Waterborne disease reports", "ne": "पानीजन्य रोग"},
            description={"en": "Cases reported by community health volunteers."},
            topics=["health", "water"],
            places=["NP-KTM"],
            endorsed=True,
            published_at=None,
        ),
    ]
    for doc in docs:
        backend.index_dataset(doc)
    return backend


def ids(result):
    return [h.id for h in result.hits]


def test_backend_reports_every_capability_of_the_contract(backend):
    assert backend.capabilities() == CAPABILITIES


def test_setup_can_run_twice_without_losing_data(catalogue):
    catalogue.setup()
    assert catalogue.search(SearchQuery()).total == 4


def test_document_round_trips_with_extra_keys_kept(backend):
    backend.index_dataset(dataset_doc(7, methodology_url="https://example.org/m", extra={"a": 1}))
    doc = backend.get_dataset("ds-7")
    assert doc["title"]["ne"] == "घरधुरी सर्वेक्षण 7"
    assert doc["organisation"] == {
        "slug": "nfdn",
        "name": "National Federation of the Disabled Nepal",
    }
    assert doc["extra"] == {"a": 1, "methodology_url": "https://example.org/m"}
    assert doc["endorsed"] is False and doc["record_count"] == 10
    assert backend.get_dataset("missing") is None


def test_several_documents_come_back_in_one_call_in_the_order_asked(backend):
    for n in (1, 2, 3):
        backend.index_dataset(dataset_doc(n))
    docs = backend.get_datasets(["ds-3", "missing", "ds-1", "ds-3"])
    assert [d and d["id"] for d in docs] == ["ds-3", None, "ds-1", "ds-3"]
    assert docs[0] == backend.get_dataset("ds-3")
    assert backend.get_datasets([]) == []


def test_reindexing_a_document_replaces_it(catalogue):
    catalogue.index_dataset(dataset_doc(3, title={"en": "Remittances renamed"}, topics=["finance"]))
    assert catalogue.search(SearchQuery()).total == 4
    assert ids(catalogue.search(SearchQuery(text="renamed"))) == ["ds-3"]
    assert catalogue.search(SearchQuery(text="workers")).total == 0
    facets = dict(catalogue.search(SearchQuery()).facets["topic"])
    assert facets.get("finance") == 1 and "migration" not in facets


def test_delete_removes_document_from_search(catalogue):
    catalogue.delete_dataset("ds-2")
    catalogue.delete_dataset("never-existed")
    assert "ds-2" not in ids(catalogue.search(SearchQuery(limit=10)))
    assert catalogue.get_dataset("ds-2") is None


def test_english_word_ranks_title_matches_above_description_matches(catalogue):
    result = catalogue.search(SearchQuery(text="water"))
    assert set(ids(result)) == {"ds-1", "ds-2", "ds-4"}  # ds-4 through its topic
    assert ids(result)[0] == "ds-1"
    assert result.hits[0].score >= result.hits[1].score >= result.hits[2].score


def test_all_words_must_match(catalogue):
    assert ids(catalogue.search(SearchQuery(text="water Kathmandu"))) == ["ds-1"]
    assert catalogue.search(SearchQuery(text="water remittance")).total == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("पानी", {"ds-1"}),
        ("अपाङ्गता", {"ds-1"}),
        ("दलित महिलाको", {"ds-2"}),
        ('"पानी पहुँच"', {"ds-1"}),
        ("पानी*", {"ds-1", "ds-4"}),
        ("सर्वेक्षण", {"ds-1"}),
    ],
)
def test_nepali_words_phrases_and_prefixes_are_found(catalogue, text, expected):
    assert set(ids(catalogue.search(SearchQuery(text=text, lang="ne")))) == expected


def test_phrase_matches_words_in_order_only(catalogue):
    assert ids(catalogue.search(SearchQuery(text='"water access"'))) == ["ds-1"]
    assert catalogue.search(SearchQuery(text='"access water"')).total == 0
    assert catalogue.search(SearchQuery(text='"पहुँच पानी"')).total == 0


def test_prefix_query_matches_word_starts(catalogue):
    assert set(ids(catalogue.search(SearchQuery(text="remitt*")))) == {"ds-3"}
    assert set(ids(catalogue.search(SearchQuery(text="wat*")))) == {"ds-1", "ds-2", "ds-4"}
    assert catalogue.search(SearchQuery(text="remitt")).total == 0


def test_organisation_name_topics_and_places_are_searchable(catalogue):
    assert ids(catalogue.search(SearchQuery(text="Pourakhi"))) == ["ds-3"]
    assert set(ids(catalogue.search(SearchQuery(text="migration")))) == {"ds-3"}


def test_user_text_never_breaks_the_query_syntax(catalogue):
    for text in [
        '"',
        "AND",
        "(water",
        "water OR",
        "-water",
        "title:water",
        "NEAR(a b)",
        "*",
        "+",
        "\\",
        "'",
    ]:
        result = catalogue.search(SearchQuery(text=text))
        # Syntax characters are read as plain text: the word beside them still finds its datasets.
        if text in ("(water", "-water"):
            assert result.total > 0, text


def test_highlights_mark_terms_and_escape_html(backend):
    backend.index_dataset(
        dataset_doc(
            9,
            title={"en": "<script>alert(1)</script> water & sanitation", "ne": "पानी र सरसफाइ"},
            description={"en": "Access to <b>water</b> in schools."},
        )
    )
    hit = backend.search(SearchQuery(text="water")).hits[0]
    assert "<mark>" in hit.highlights["title"]
    assert "<script>" not in hit.highlights["title"]
    assert "&lt;script&gt;" in hit.highlights["title"]
    assert "&amp;" in hit.highlights["title"]
    assert "<b>" not in hit.highlights["description"]
    assert "<mark>water</mark>" in hit.highlights["description"]
    nepali = backend.search(SearchQuery(text="पानी", lang="ne")).hits[0]
    assert nepali.highlights["title"] == "<mark>पानी</mark> र सरसफाइ"


def test_filters_or_within_a_field_and_across_fields(catalogue):
    assert set(ids(catalogue.search(SearchQuery(filters={"topic": ["water"]})))) == {"ds-1", "ds-4"}
    assert set(ids(catalogue.search(SearchQuery(filters={"topic": ["land", "migration"]})))) == {
        "ds-2",
        "ds-3",
    }
    both = catalogue.search(
        SearchQuery(filters={"topic": ["water"], "place": ["NP-KTM"], "endorsed": ["true"]})
    )
    assert set(ids(both)) == {"ds-1", "ds-4"}
    assert ids(catalogue.search(SearchQuery(filters={"organisation": ["fedo"]}))) == ["ds-2"]
    assert ids(catalogue.search(SearchQuery(filters={"source": ["hdx"]}))) == ["ds-3"]
    assert ids(catalogue.search(SearchQuery(filters={"licence": ["CC-BY-SA-4.0"]}))) == ["ds-2"]
    assert set(
        ids(catalogue.search(SearchQuery(filters={"dimension": ["caste", "disability"]})))
    ) == {"ds-1", "ds-2"}
    assert set(ids(catalogue.search(SearchQuery(filters={"language": ["ne"]})))) == {
        "ds-1",
        "ds-2",
        "ds-4",
    }
    assert set(ids(catalogue.search(SearchQuery(filters={"endorsed": ["false"]})))) == {
        "ds-2",
        "ds-3",
    }
    assert set(
        ids(catalogue.search(SearchQuery(text="water", filters={"endorsed": ["false"]})))
    ) == {"ds-2"}


def test_facet_counts_cover_all_matches_not_just_the_page(catalogue):
    result = catalogue.search(SearchQuery(limit=1))
    assert result.total == 4 and len(result.hits) == 1
    assert result.facets["place"] == [("NP-KTM", 3), ("NP-LAL", 1), ("NP-MOR", 1)]
    assert result.facets["endorsed"] == [("false", 2), ("true", 2)]
    assert dict(result.facets["organisation"]) == {"nfdn": 2, "fedo": 1, "pourakhi": 1}
    assert dict(result.facets["source"]) == {"local": 3, "hdx": 1}
    assert set(result.facets) == {
        "organisation",
        "topic",
        "dimension",
        "place",
        "licence",
        "language",
        "endorsed",
        "source",
    }


def test_facets_count_the_filtered_and_searched_set(catalogue):
    result = catalogue.search(SearchQuery(text="water", facets=("topic", "place")))
    assert set(result.facets) == {"topic", "place"}
    assert dict(result.facets["topic"]) == {"water": 2, "disability": 1, "land": 1, "health": 1}
    filtered = catalogue.search(
        SearchQuery(filters={"place": ["NP-KTM"]}, facets=("organisation",))
    )
    assert dict(filtered.facets["organisation"]) == {"nfdn": 2, "fedo": 1}


def test_sort_by_recent_puts_undated_last(catalogue):
    assert ids(catalogue.search(SearchQuery(sort="recent"))) == ["ds-2", "ds-3", "ds-1", "ds-4"]
    # Without text, relevance falls back to recent.
    assert ids(catalogue.search(SearchQuery())) == ["ds-2", "ds-3", "ds-1", "ds-4"]


def test_sort_by_title_in_the_asked_language(catalogue):
    assert ids(catalogue.search(SearchQuery(sort="title"))) == ["ds-2", "ds-3", "ds-1", "ds-4"]
    nepali = ids(catalogue.search(SearchQuery(sort="title", lang="ne")))
    assert nepali[-1] == "ds-3"  # no Nepali title: after those that have one


def test_limit_and_offset_page_through_hits(catalogue):
    pages = [
        ids(catalogue.search(SearchQuery(sort="recent", limit=2, offset=o))) for o in (0, 2, 4)
    ]
    assert pages == [["ds-2", "ds-3"], ["ds-1", "ds-4"], []]


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(filters={"colour": ["red"]}),
        SearchQuery(facets=("colour",)),
        SearchQuery(sort="random"),
        SearchQuery(limit=-1),
        SearchQuery(offset=-5),
        SearchQuery(offset=9_999, limit=2),
        SearchQuery(lang="ne'; --"),
    ],
)
def test_invalid_queries_are_refused(backend, query):
    with pytest.raises(InvalidInput):
        backend.search(query)


def test_concurrent_searches_from_many_threads(catalogue):
    errors = []

    def worker(n):
        try:
            for i in range(20):
                assert catalogue.search(SearchQuery(text="water" if i % 2 else "पानी")).total >= 1
                if n == 0:
                    catalogue.index_dataset(dataset_doc(100 + i))
        except Exception as exc:  # noqa: BLE001 - collect for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert catalogue.search(SearchQuery()).total == 24


def test_facet_counts_follow_every_replace_and_delete(catalogue):
    catalogue.index_dataset(dataset_doc(2, topics=["land", "water"], places=["NP-LAL"]))
    catalogue.index_dataset(dataset_doc(5, topics=["water"], source="hdx"))
    catalogue.delete_dataset("ds-4")
    catalogue.delete_dataset("ds-4")
    everything = catalogue.search(SearchQuery())
    assert everything.total == 4
    assert dict(everything.facets["topic"]) == {
        "water": 3,
        "disability": 1,
        "land": 1,
        "migration": 1,
    }
    assert dict(everything.facets["place"]) == {"NP-KTM": 2, "NP-LAL": 1, "NP-MOR": 1}
    assert dict(everything.facets["source"]) == {"local": 2, "hdx": 2}
    # The same counts as over an explicit filter that every document passes.
    all_filtered = catalogue.search(SearchQuery(filters={"endorsed": ["true", "false"]}))
    assert all_filtered.facets == everything.facets and all_filtered.total == 4


def test_facet_limit_keeps_the_most_frequent_values(catalogue):
    result = catalogue.search(SearchQuery(facet_limit=1, facets=("place", "topic")))
    assert result.facets == {"place": [("NP-KTM", 3)], "topic": [("water", 2)]}
    filtered = catalogue.search(SearchQuery(text="water", facet_limit=2, facets=("topic",)))
    assert filtered.facets["topic"] == [("water", 2), ("disability", 1)]


def test_zero_facet_limit_counts_no_values(catalogue):
    result = catalogue.search(SearchQuery(facet_limit=0, facets=("topic",)))
    assert result.total == 4 and result.facets == {"topic": []}
