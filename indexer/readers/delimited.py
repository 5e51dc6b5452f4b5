"""CSV/TSV reader: encoding and delimiter detection, BOM, quoted newlines.

The fast path hands the bytes to polars with no type inference; Python's
csv module only runs to locate problems (ragged rows, bad bytes) when the
fast path has reason to doubt the file, so that errors name their row.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor, wait

import numpy as np
import polars as pl
from charset_normalizer import from_bytes

from .limits import Limits, ProblemList, fail

_DELIMITERS = (",", "\t", ";", "|")
_SNIFF_BYTES = 64 * 1024
_LEGACY_ENCODINGS = ("cp1252", "iso8859_15", "cp1250", "mac_roman", "latin_1")
_CHECK_CHUNK = 16 * 1024 * 1024
_COUNT_CHUNK = 256 * 1024
_COUNT_SPANS = 50_000
_QUOTE_POSITIONS = 4_000_000
_MAGIC = {
    b"PK\x03\x04": "a ZIP or XLSX file",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word file",
    b"\x1f\x8b": "a gzip archive",
    b"GIF8": "a GIF image",
    b"SQLite format 3": "an SQLite database",
}


def _check_binary(data: bytes, filename: str) -> None:
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise fail(filename, "binary_file", f"This is {what}, not a CSV text file.", row=1)
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise fail(filename, "binary_file", "This is a binary file, not a CSV text file.", row=1)


def _row_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def to_utf8(data: bytes, filename: str) -> tuple[bytes, str]:
    """Return ``(utf-8 bytes without BOM, detected encoding name)``."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :], "utf-8-sig"
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(enc).encode("utf-8"), enc
            except UnicodeDecodeError as exc:
                raise fail(
                    filename, "bad_encoding", f"Invalid {enc} text ({exc.reason})."
                ) from None
    _check_binary(data, filename)
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    # Valid multi-byte UTF-8 before the bad byte means a mixed or damaged file:
    # re-decoding it in a legacy code page would silently garble Nepali text.
    head = data[:bad_at]
    if any(b >= 0x80 for b in head):
        raise fail(
            filename,
            "bad_encoding",
            "The file is UTF-8 but contains bytes that are not; save it again as UTF-8.",
            row=_row_of_offset(data, bad_at),
        )
    # Only code pages CSOs' tools actually write; a free guess over every code
    # page picks exotic ones on short files.
    matches = list(from_bytes(data[: 4 * 1024 * 1024], cp_isolation=list(_LEGACY_ENCODINGS)))
    pref = {e: i for i, e in enumerate(_LEGACY_ENCODINGS)}
    matches.sort(
        key=lambda m: (round(m.chaos, 2), -round(m.coherence, 2), pref.get(m.encoding, 99))
    )
    best = matches[0] if matches else None
    if best is None or best.encoding in ("utf_8", "ascii"):
        raise fail(
            filename,
            "bad_encoding",
            "The text encoding could not be recognised; save the file as UTF-8.",
            row=_row_of_offset(data, bad_at),
        )
    try:
        return data.decode(best.encoding).encode("utf-8"), best.encoding
    except (UnicodeDecodeError, LookupError):
        raise fail(
            filename,
            "bad_encoding",
            f"The file looks like {best.encoding} but does not decode as it; save it as UTF-8.",
            row=_row_of_offset(data, bad_at),
        ) from None


def sniff_delimiter(text: str, default: str = ",") -> str:
    """The delimiter giving a consistent field count (>1) over the first lines."""
    lines = text.splitlines()[:50]
    if not lines:
        return default
    best, best_score = default, -1.0
    for delim in _DELIMITERS:
        try:
            counts = [
                len(r)
                for r in csv.reader(io.StringIO("\n".join(lines[:-1] or lines)), delimiter=delim)
            ]
        except csv.Error:
            continue
        counts = [c for c in counts if c > 0]
        if not counts or max(counts) < 2:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        score = counts.count(mode) / len(counts) + mode / 1000
        if score > best_score:
            best, best_score = delim, score
    return best


def _exact_check(
    data: bytes,
    delim: str,
    ncols: int,
    problems: ProblemList,
    limits: Limits,
    *,
    errors: str = "strict",
) -> None:
    """Field counts and cell sizes per record, with record numbers (header = 1).

    The UTF-8 ``data`` are decoded as the csv module reads them (a text
    stream over the bytes), never held as one string beside them.
    """
    old = csv.field_size_limit()
    csv.field_size_limit(max(limits.max_cell_chars + 1, 1024))
    try:
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors=errors, newline="")
        reader = csv.reader(text, delimiter=delim, strict=False)
        row = 0
        while True:
            row += 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                problems.add(
                    "cell_too_long" if "field larger" in str(exc) else "malformed_csv",
                    f"Cannot parse this row ({exc}).",
                    row=row,
                )
                break
            if record and len(record) != ncols and any(c.strip() for c in record):
                word = "more" if len(record) > ncols else "fewer"
                problems.add(
                    "ragged_row",
                    f"This row has {len(record)} fields, {word} than the {ncols} columns of the header.",
                    row=row,
                )
            if problems.full:
                break
    finally:
        csv.field_size_limit(old)


def _strip_bom(data: bytes, filename: str) -> bytes:
    """Drop a UTF-8 BOM; re-encode UTF-16/32 (which always carry one) as UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return to_utf8(data, filename)[0]
    return data


def _head_is_utf8(head: bytes) -> bool:
    """Whether ``head`` is UTF-8, allowing a character cut at its end."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data" and exc.start >= len(head) - 3
    return True


def field_counts_agree(data: bytes, delim: str, ncols: int) -> bool:
    """Whether every non-blank record has ``ncols`` fields, checked without parsing.

    Delimiters and newlines are counted over the bytes with numpy, in chunks
    (bounded memory), and those inside double-quoted fields are taken off.
    ``True`` is exact. ``False`` means some record may be ragged, a quote is
    unclosed, or blank lines sit inside quoted cells; the caller then locates
    the rows with the csv module, which has the last word.
    """
    if len(data) >= 2**31:
        return False  # beyond int32 positions: let the csv module decide
    arr = np.frombuffer(data, dtype=np.uint8)
    d_byte, quote, newline = ord(delim), ord('"'), ord("\n")
    quoted = b'"' in data
    delims = newlines = quotes = 0
    # Cache-sized chunks compared into one reused buffer: no temporary array per chunk.
    eq_buf = np.empty(min(_COUNT_CHUNK, len(arr)), dtype=bool)
    positions: list[np.ndarray] | None = [] if quoted else None
    for start in range(0, len(arr), _COUNT_CHUNK):
        a = arr[start : start + _COUNT_CHUNK]
        eq = eq_buf[: len(a)]
        delims += int(np.count_nonzero(np.equal(a, d_byte, out=eq)))
        newlines += int(np.count_nonzero(np.equal(a, newline, out=eq)))
        if quoted:
            n = int(np.count_nonzero(np.equal(a, quote, out=eq)))
            quotes += n
            if positions is not None and n:
                # Quote positions are kept while there are few (bounded memory).
                positions.append(np.flatnonzero(eq) + start)
                if quotes > _QUOTE_POSITIONS:
                    positions = None
    records = newlines
    tail = data.rfind(b"\n") + 1
    if tail < len(data) and not data[tail:].isspace():
        records += 1  # a last record without a newline
    if quotes % 2:
        return False
    wide = None
    if quotes and positions is not None:
        q = np.concatenate(positions)
        opens, closes = q[0::2], q[1::2]
        wide = np.flatnonzero(closes - opens > 1)  # quoted spans with content ("" has none)
    if wide is not None and len(wide) <= _COUNT_SPANS:
        # Few quoted spans with content: count inside each.
        delim_b = delim.encode()
        for i in wide.tolist():
            o, c = int(opens[i]) + 1, int(closes[i])
            delims -= data.count(delim_b, o, c)
            records -= data.count(b"\n", o, c)
    elif quotes:  # many quoted fields (tools that quote every cell): by parity, chunk by chunk
        carry = 0
        parity_buf = np.empty(len(eq_buf), dtype=np.uint8)
        for start in range(0, len(arr), _COUNT_CHUNK):
            a = arr[start : start + _COUNT_CHUNK]
            eq, parity = eq_buf[: len(a)], parity_buf[: len(a)]
            np.equal(a, quote, out=eq)
            chunk_quotes = int(np.count_nonzero(eq))
            # Running quote count mod 2 (uint8 wraps, its low bit is the parity).
            np.cumsum(eq, dtype=np.uint8, out=parity)
            np.bitwise_and(parity, 1, out=parity)
            inside = parity.view(bool)
            if carry:
                np.logical_not(inside, out=inside)
            np.logical_and(inside, np.equal(a, d_byte, out=eq), out=eq)
            delims -= int(np.count_nonzero(eq))
            np.logical_and(inside, np.equal(a, newline, out=eq), out=eq)
            records -= int(np.count_nonzero(eq))
            carry ^= chunk_quotes & 1
    if delims == (ncols - 1) * records:
        return True
    return delims == (ncols - 1) * (records - _blank_lines(arr, quoted))


def _blank_lines(arr: np.ndarray, quoted: bool) -> int:
    """Empty lines ("\n\n", "\n\r\n", or at the start) outside quoted fields."""
    newline, cr = ord("\n"), ord("\r")
    blank = int(len(arr) > 0 and arr[0] == newline) + int(
        len(arr) > 1 and arr[0] == cr and arr[1] == newline
    )
    parity = 0
    for start in range(0, len(arr), _CHECK_CHUNK):
        a = arr[start : start + _CHECK_CHUNK + 2]  # pairs and triples starting in this chunk
        own = min(_CHECK_CHUNK, len(arr) - start)
        nl = a == newline
        if quoted:
            # A newline ends a line only outside quotes (parity of the quotes before it).
            q = a == ord('"')
            inside = (np.cumsum(q, dtype=np.uint8) & 1).astype(bool) ^ bool(parity)
            nl &= ~inside
            parity ^= int(np.count_nonzero(q[:own])) & 1
        n = min(own, len(a) - 1)
        blank += int(np.count_nonzero(nl[:n] & nl[1 : n + 1]))
        m = min(own, len(a) - 2)
        if m > 0:
            blank += int(np.count_nonzero(nl[:m] & (a[1 : m + 1] == cr) & nl[2 : m + 2]))
    return blank


def _parse(
    data: bytes, delim: str, limits: Limits, dtypes: list[pl.DataType] | None = None
) -> pl.DataFrame:
    return pl.read_csv(
        data,
        has_header=False,
        infer_schema=False,
        schema_overrides=dtypes,
        separator=delim,
        quote_char='"',
        null_values=[""],
        truncate_ragged_lines=False,
        n_rows=limits.max_rows + 2,
        raise_if_empty=False,
    )


def _dtypes(header: list[str], categorical: Collection[str]) -> list[pl.DataType] | None:
    """Column types by position: Categorical (each its own categories) for ``categorical``."""
    if not categorical:
        return None
    from .kobo import flatten_kobo_names, looks_like_kobo  # kobo imports this module

    names = [h.strip() for h in header]
    if looks_like_kobo(names):
        names = flatten_kobo_names(names)
    wanted = set(categorical)
    if not wanted.intersection(names):
        return None
    return [pl.Categorical(pl.Categories.random()) if n in wanted else pl.String() for n in names]


def read_delimited(
    data: bytes,
    filename: str,
    limits: Limits,
    *,
    delimiter: str | None = None,
    categorical: Collection[str] = (),
) -> tuple[pl.DataFrame, list[str]]:
    """Parse CSV/TSV bytes into an all-string frame; return it and the raw header.

    Columns named in ``categorical`` (by their final names) are read as
    ``pl.Categorical``, each with its own categories, which polars builds while
    parsing; their categories also hold the header cell (the header is parsed
    as row 0 and sliced off).

    UTF-8 is not decoded in Python on the fast path: polars checks it while
    parsing, and only a file it refuses (or whose first 64 KiB are not UTF-8)
    goes through :func:`to_utf8` for a legacy code page or a located error.
    """
    data = _strip_bom(data, filename)
    _check_binary(data, filename)
    if not data or data.isspace():
        raise fail(filename, "empty_file", "The file is empty.")
    decoded = False
    if not _head_is_utf8(data[:_SNIFF_BYTES]):
        data, decoded = to_utf8(data, filename)[0], True
    sample = data[:_SNIFF_BYTES].decode("utf-8", errors="ignore")
    delim = delimiter or sniff_delimiter(sample)
    try:
        header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delim))
    except (csv.Error, StopIteration):
        raise fail(filename, "malformed_csv", "The header row cannot be read.", row=1) from None
    ncols = len(header)
    if ncols > limits.max_columns:
        raise fail(
            filename,
            "too_many_columns",
            f"The file has {ncols} columns; the limit is {limits.max_columns}.",
            row=1,
        )

    problems = ProblemList(filename, limits.max_problems)
    # polars parses (multi-threaded, GIL released) while numpy counts the fields, so
    # that the check costs little time; the parse is used only if the counts agree.
    with ThreadPoolExecutor(1, thread_name_prefix="cgd-csv") as pool:
        dtypes = _dtypes(header, categorical)
        parsing: Future | None = pool.submit(_parse, data, delim, limits, dtypes)
        if not field_counts_agree(data, delim, ncols):
            # The rows are checked first and the parse (or its error) set aside; it is let
            # finish and dropped before the check so that both never hold memory at once.
            if not parsing.cancel():
                wait([parsing])
            parsing = None
            if not decoded:
                data, decoded = to_utf8(data, filename)[0], True
            _exact_check(data, delim, ncols, problems, limits)
            problems.raise_if_any("The rows do not line up with the header")

        try:
            try:
                df = (
                    parsing.result() if parsing is not None else _parse(data, delim, limits, dtypes)
                )
            except pl.exceptions.ComputeError as exc:
                if decoded or "utf-8" not in str(exc):
                    raise
                # Not UTF-8 after its first 64 KiB: a located error, or a legacy code page.
                data, decoded = to_utf8(data, filename)[0], True
                df = _parse(data, delim, limits, dtypes)
        except pl.exceptions.PolarsError as exc:
            _exact_check(data, delim, ncols, problems, limits, errors="replace")
            problems.raise_if_any("The rows do not line up with the header")
            raise fail(
                filename,
                "malformed_csv",
                f"The file cannot be parsed as delimited text ({str(exc).splitlines()[0]}).",
            ) from None
        if df.width != ncols:
            raise fail(
                filename,
                "malformed_csv",
                f"The header has {ncols} fields but rows have {df.width}.",
                row=1,
            )
    return df.slice(1), header
