"""Full-text query parsing shared by the backends.

Users type words, ``"quoted phrases"`` and ``prefix*`` terms.  The text is
parsed here into terms made only of word characters, so no user input ever
reaches a backend's query syntax unescaped.  Word characters are letters,
digits, private-use characters and combining marks (``L* N* Co Mn Mc``): the
vowel signs and virama of Devanagari are marks, so a Nepali word such as
``अपाङ्गता`` stays one word instead of being split at each sign.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass

#: FTS5 unicode61 categories equal to :func:`is_word_char`.
FTS5_CATEGORIES = "L* N* Co Mn Mc"

# Highlight markers used inside the backends before HTML escaping; stripped from indexed text.
MARK_OPEN = "\x02"
MARK_CLOSE = "\x03"
# Separates the languages of one multilingual field in the embedded index.
LANG_SEPARATOR = "\u2029"

_QUOTED = re.compile(r'"([^"]*)"?')


def is_word_char(ch: str) -> bool:
    """True for characters that belong to a word (see module docstring)."""
    cat = unicodedata.category(ch)
    return cat[0] in "LN" or cat in ("Co", "Mn", "Mc")


def words(text: str) -> list[str]:
    """The words of ``text`` in order (maximal runs of word characters)."""
    out, current = [], []
    for ch in text:
        if is_word_char(ch):
            current.append(ch)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


@dataclass(frozen=True)
class Term:
    """One query term: a word, a phrase (several words in order), or a prefix."""

    words: tuple[str, ...]
    prefix: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


def parse(text: str) -> list[Term]:
    """Parse user text into terms; all terms must match (AND)."""
    terms: list[Term] = []
    pos = 0
    text = unicodedata.normalize("NFC", text or "")
    for m in _QUOTED.finditer(text):
        terms.extend(_bare_terms(text[pos : m.start()]))
        phrase = tuple(words(m.group(1)))
        if phrase:
            terms.append(Term(phrase))
        pos = m.end()
    terms.extend(_bare_terms(text[pos:]))
    return terms


def _bare_terms(chunk: str) -> list[Term]:
    terms = []
    for token in chunk.split():
        parts = words(token)
        if not parts:
            continue
        prefix = token.rstrip().endswith("*")
        if len(parts) == 1:
            terms.append(Term((parts[0],), prefix=prefix))
        else:
            # "e-mail" or "covid-19": the tokenizer splits it, so match the parts in order.
            terms.append(Term(tuple(parts), prefix=prefix))
    return terms


def fts5_query(terms: list[Term]) -> str:
    """An FTS5 MATCH expression for terms: each a quoted string, prefixes starred."""
    out = []
    for term in terms:
        expr = '"' + " ".join(term.words) + '"'
        out.append(expr + "*" if term.prefix else expr)
    return " AND ".join(out)


def simple_query_string(terms: list[Term]) -> str:
    """An Elasticsearch ``simple_query_string`` for terms (operators never come from users)."""
    out = []
    for term in terms:
        if term.is_phrase and not term.prefix:
            out.append('"' + " ".join(term.words) + '"')
        elif term.is_phrase:
            # simple_query_string has no phrase-prefix: require the words, the last as prefix.
            out.append(" ".join(term.words[:-1]) + " " + term.words[-1] + "*")
        else:
            out.append(term.words[0] + ("*" if term.prefix else ""))
    return " ".join(out)


def clean(text: str) -> str:
    """Text as indexed: NFC, without the characters the backends use as markers."""
    text = unicodedata.normalize("NFC", text or "")
    return text.replace(MARK_OPEN, "").replace(MARK_CLOSE, "").replace(LANG_SEPARATOR, " ")


def marked_to_html(marked: str) -> str:
    """HTML-escape text carrying MARK_OPEN/MARK_CLOSE and turn the markers into <mark> tags."""
    # Balance markers first: a marked run may have been cut by splitting or trimming.
    depth, fixed = 0, []
    for ch in marked:
        if ch == MARK_OPEN:
            if depth:
                continue
            depth = 1
        elif ch == MARK_CLOSE:
            if not depth:
                continue
            depth = 0
        fixed.append(ch)
    if depth:
        fixed.append(MARK_CLOSE)
    escaped = html.escape("".join(fixed), quote=True)
    return escaped.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")


def has_mark(marked: str) -> bool:
    """True when marked text carries at least one highlight."""
    return MARK_OPEN in marked


def snippet_window(marked: str, width: int = 240) -> str:
    """Cut long marked text to about ``width`` characters around its first highlight."""
    if len(marked) <= width:
        return marked
    first = marked.find(MARK_OPEN)
    start = max(0, first - width // 3) if first >= 0 else 0
    # Start and end on a word boundary.
    while 0 < start < len(marked) and not marked[start - 1].isspace():
        start -= 1
    end = min(len(marked), start + width)
    while end < len(marked) and not marked[end].isspace():
        end += 1
    piece = marked[start:end]
    return ("…" if start > 0 else "") + piece + ("…" if end < len(marked) else "")


# -- highlighting in Python, by the tokenizer's own rule ---------------------------------
#
# Hits are highlighted from their stored text rather than by a second FTS5 query
# (``highlight()`` re-tokenises whole columns of every hit): the words are found
# with the same categories and folded as unicode61 folds them (case, and the
# diacritics of Latin letters), so exactly the indexed tokens that matched are marked.


def _mark_ranges() -> str:
    """A regex class body of the marks (Mn Mc) and private-use characters (Co) of the BMP."""
    ranges: list[list[int]] = []
    for cp in range(0x10000):
        if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Co"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    ranges += [[0xF0000, 0xFFFFD], [0x100000, 0x10FFFD]]  # the private-use planes
    return "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


# Letters and digits (L* N*) are what ``str.isalnum`` and so ``[^\W_]`` accept;
# the marks are added explicitly (Python's \w leaves out Devanagari vowel signs).
# Marks outside the BMP (historic scripts) are left out of highlighting only.
@functools.cache
def _word_re() -> re.Pattern[str]:
    return re.compile(f"(?:[^\\W_]|[{_mark_ranges()}])+")


_LATIN_EXTENDED = re.compile("[\u0080-\u024f\u1e00-\u1eff]")


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every word of ``text``, as :func:`words` finds them (BMP marks)."""
    return [m.span() for m in _word_re().finditer(text)]


def _is_latin(ch: str) -> bool:
    return ch < "\u0250" or "\u1e00" <= ch <= "\u1eff"


def fold(word: str) -> str:
    """A word as the embedded index stores it: case-folded, Latin diacritics removed."""
    word = word.casefold()
    if not _LATIN_EXTENDED.search(word):
        return word
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", word):
        if unicodedata.category(ch) == "Mn" and out and _is_latin(out[-1]):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def mark_terms(text: str, terms: list[Term]) -> str:
    """``text`` with MARK_OPEN/MARK_CLOSE around every run of words that a term matches."""
    low = text.casefold()
    if len(low) == len(text) and not _LATIN_EXTENDED.search(low):
        spans = _spans_by_search(low, terms)  # no diacritics to fold: find, then check words
    else:
        spans = _spans_by_tokens(text, terms)
    if not spans:
        return text
    spans.sort()
    merged = [spans[0]]
    for start, end in spans[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    out, pos = [], 0
    for start, end in merged:
        out += [text[pos:start], MARK_OPEN, text[start:end], MARK_CLOSE]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _spans_by_tokens(text: str, terms: list[Term]) -> list[tuple[int, int]]:
    tokens = [(m.start(), m.end(), fold(m.group())) for m in _word_re().finditer(text)]
    spans: list[tuple[int, int]] = []
    for term in terms:
        wanted = [fold(w) for w in term.words]
        n = len(wanted)
        for i in range(len(tokens) - n + 1):
            if all(tokens[i + j][2] == wanted[j] for j in range(n - 1)):
                last = tokens[i + n - 1][2]
                if last == wanted[-1] or (term.prefix and last.startswith(wanted[-1])):
                    spans.append((tokens[i][0], tokens[i + n - 1][1]))
    return spans


def _spans_by_search(low: str, terms: list[Term]) -> list[tuple[int, int]]:
    """Spans of terms in case-folded text, found by substring search and checked word by word."""
    word = _word_re()
    spans: list[tuple[int, int]] = []
    for term in terms:
        wanted = [fold(w) for w in term.words]
        start = low.find(wanted[0])
        while start >= 0:
            end = _match_at(low, start, wanted, term.prefix, word)
            if end is not None:
                spans.append((start, end))
            start = low.find(wanted[0], start + 1)
    return spans


def _match_at(
    low: str, start: int, wanted: list[str], prefix: bool, word: re.Pattern[str]
) -> int | None:
    if start > 0 and is_word_char(low[start - 1]):
        return None  # inside a word
    pos, n = start, len(wanted)
    for j, expected in enumerate(wanted):
        m = word.match(low, pos) if j == 0 else word.search(low, pos)
        if m is None:
            return None
        token = m.group()
        if not (token == expected or (j == n - 1 and prefix and token.startswith(expected))):
            return None
        pos = m.end()
    return pos
