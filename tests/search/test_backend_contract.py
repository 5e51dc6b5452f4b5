"""Choosing a backend: names, options and capabilities are checked at start-up."""

from __future__ import annotations

import random
import sqlite3

import pytest

from indexer.search import (
    CAPABILITIES,
    SearchBackendError,
    SearchQuery,
    UnsupportedCapability,
    get_backend,
)
from indexer.search import text as fts
from indexer.search.embedded import EmbeddedBackend
from schema.errors import InvalidInput


class EmbeddedWithoutHighlights(EmbeddedBackend):
    """A real backend that declares one capability fewer (as a plugin backend might)."""

    closed = False

    def capabilities(self) -> frozenset[str]:
        return CAPABILITIES - {"highlight"}

    def close(self) -> None:
        type(self).closed = True
        super().close()


class NotABackend:
    pass


def test_an_unknown_backend_name_fails_at_start_up(tmp_path):
    with pytest.raises(SearchBackendError) as err:
        get_backend("solr", path=str(tmp_path / "x"))
    assert err.value.code == "search_backend_unknown"
    for name in ("tests.search.nope:Backend", "tests.search.test_backend_contract:NotABackend"):
        with pytest.raises(SearchBackendError) as err:
            get_backend(name)
        assert err.value.code == "search_backend_unknown"


def test_bad_options_fail_at_start_up(tmp_path):
    with pytest.raises(SearchBackendError) as err:
        get_backend("embedded", path=str(tmp_path / "x"), colour="red")
    assert err.value.code == "search_backend_config"
    with pytest.raises(SearchBackendError):
        get_backend("embedded", path=":memory:")
    with pytest.raises(SearchBackendError) as err:
        get_backend("embedded", path=str(tmp_path / "x"), require={"telepathy"})
    assert err.value.code == "search_backend_config"


def test_a_missing_capability_fails_at_start_up_by_default(tmp_path):
    name = "tests.search.test_backend_contract:EmbeddedWithoutHighlights"
    EmbeddedWithoutHighlights.closed = False
    with pytest.raises(UnsupportedCapability) as err:
        get_backend(name, path=str(tmp_path / "s.sqlite3"))
    assert err.value.code == "search_capability_missing"
    assert "highlight" in err.value.message
    assert EmbeddedWithoutHighlights.closed  # nothing left open
    # A caller that needs less may say so.
    backend = get_backend(name, path=str(tmp_path / "s.sqlite3"), require={"fulltext", "facets"})
    assert "highlight" not in backend.capabilities()
    backend.close()


def test_both_backends_report_every_capability(tmp_path):
    embedded = get_backend("embedded", path=str(tmp_path / "s.sqlite3"))
    assert embedded.capabilities() == CAPABILITIES
    embedded.close()
    from indexer.search.elasticsearch import ElasticsearchBackend

    es = ElasticsearchBackend(url="http://es.invalid:9200")
    assert es.capabilities() == CAPABILITIES
    es.close()


def test_app_start_up_fails_without_an_elasticsearch_url(make_app):
    with pytest.raises(RuntimeError, match="CGD_ELASTICSEARCH_URL"):
        make_app(SEARCH_BACKEND="elasticsearch", ELASTICSEARCH_URL=None)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (SearchQuery(lang='en"); DROP'), "bad_language"),
        (SearchQuery(offset=9_990, limit=20), "bad_offset"),
        (SearchQuery(facet_limit=5000), "bad_limit"),
    ],
)
def test_queries_every_backend_would_refuse_are_refused_before_reaching_one(query, code):
    with pytest.raises(InvalidInput) as err:
        query.validated()
    assert [p.code for p in err.value.problems] == [code]


# -- Nepali text: one tokenizer rule for the parser and for FTS5 -------------------------

NEPALI = [
    "अपाङ्गता भएका व्यक्तिहरूको पानी पहुँच",
    "काठमाडौंमा खानेपानी सर्वेक्षण।",
    "दलित महिलाको जग्गा स्वामित्व, २०८२",
    "e-mail र covid-19 बारे",
]


def test_vowel_signs_virama_and_anusvara_stay_inside_words():
    assert fts.words("अपाङ्गता भएका") == ["अपाङ्गता", "भएका"]  # ् virama (Mn), ा sign (Mc)
    assert fts.words("काठमाडौंमा, पहुँच।") == ["काठमाडौंमा", "पहुँच"]  # ं anusvara, ँ chandrabindu
    assert fts.words("२०८२ साल") == ["२०८२", "साल"]  # Devanagari digits are Nd


@pytest.mark.parametrize("text", NEPALI)
def test_fts5_tokenizer_splits_text_exactly_as_the_query_parser(text, tmp_path):
    from indexer.search.embedded import _TOKENIZE

    conn = sqlite3.connect(tmp_path / "t.sqlite3")
    conn.execute(f'CREATE VIRTUAL TABLE t USING fts5(a, tokenize="{_TOKENIZE}")')
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    conn.execute("INSERT INTO t (a) VALUES (?)", (text,))
    tokens = [row[0] for row in conn.execute("SELECT term FROM v ORDER BY offset")]
    conn.close()
    assert tokens == [w.casefold() for w in fts.words(text)]


def test_parser_makes_words_phrases_and_prefixes():
    terms = fts.parse('"पानी पहुँच" wat* covid-19 "" *')
    assert [(t.words, t.prefix) for t in terms] == [
        (("पानी", "पहुँच"), False),
        (("wat",), True),
        (("covid", "19"), False),
    ]
    assert fts.fts5_query(terms) == '"पानी पहुँच" AND "wat"* AND "covid 19"'


def test_highlight_markup_is_escaped_and_balanced():
    marked = f"<b>{fts.MARK_OPEN}water{fts.MARK_CLOSE}</b> & {fts.MARK_OPEN}more"
    assert (
        fts.marked_to_html(marked)
        == "&lt;b&gt;<mark>water</mark>&lt;/b&gt; &amp; <mark>more</mark>"
    )


def test_word_spans_find_the_words_of_the_parser():
    rng = random.Random(1)
    alphabet = "abcé अपाङ्गताभएकाव्यक्तिहरूकोंँ।,-_2०\u0301\ue000"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert [text[a:b] for a, b in fts.word_spans(text)] == fts.words(text), text


def test_highlights_found_by_search_equal_those_found_by_tokens():
    rng = random.Random(2)
    vocab = ["पानी", "पहुँच", "अपाङ्गता", "water", "Water", "wat", "access", "२०८२", "ab", "a"]
    seps = [" ", ", ", "।", " - ", "-"]
    for _ in range(3000):
        text = "".join(rng.choice(vocab) + rng.choice(seps) for _ in range(rng.randint(0, 8)))
        query = " ".join(
            rng.choice(
                [
                    f'"{rng.choice(vocab)} {rng.choice(vocab)}"',
                    rng.choice(vocab),
                    rng.choice(vocab)[:2] + "*",
                ]
            )
            for _ in range(rng.randint(1, 2))
        )
        terms = fts.parse(query)
        fast = sorted(set(fts._spans_by_search(text.casefold(), terms)))
        assert fast == sorted(set(fts._spans_by_tokens(text, terms))), (text, query)


def test_highlights_fold_case_and_latin_diacritics_as_the_index_does():
    marked = fts.mark_terms("Café Água water-borne", fts.parse("cafe AGUA borne"))
    assert fts.marked_to_html(marked) == (
        "<mark>Café</mark> <mark>Água</mark> water-<mark>borne</mark>"
    )
    assert fts.mark_terms("cafe", fts.parse("café")) == f"{fts.MARK_OPEN}cafe{fts.MARK_CLOSE}"


def test_record_filter_values_are_typed_alike_for_every_backend():
    from indexer.search.base import typed_filter_values

    assert typed_filter_values(["True", "1", "yes", "no"], "bool") == [True, False]
    assert typed_filter_values(["3", "3.0", "x", "2.5"], "int") == [3]
    assert typed_filter_values(["2.5", "x", "1e1"], "float") == [2.5, 10.0]
    assert typed_filter_values(["a", "a", "b"], "text") == ["a", "b"]
