"""CSV/TSV reader: encoding and delimiter detection, BOM, quoted newlines.

The fast path hands the bytes (or, for a large file on disk, its path, so
that Python never holds the file: polars reads it itself) to polars with no type
inference, and checks the field counts with polars' own quote-aware counter
(:func:`fields_fit`); Python's csv module only runs to locate problems
(ragged rows, bad bytes) when the fast path has reason to doubt the file,
so that errors name their row. Columns the caller names are parsed as
Categorical (``categorical``) or as numbers (``numeric``, see :func:`_parse`
and :func:`long_numbers_possible` for when they come as text instead).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor

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
_BY_PATH_MIN_BYTES = 1024 * 1024  # smaller files are read into memory, as before
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
    data: bytes | str, delim: str, limits: Limits, dtypes: list[pl.DataType] | None = None
) -> pl.DataFrame:
    """The records after the header (which polars reads, quote-aware, and skips).

    Columns typed ``Float64`` in ``dtypes`` come as strings instead (the whole
    file is parsed again, without them) when a cell does not parse as a
    number or parses as an infinite or NaN one, so that the validator reports
    each bad cell with its text.
    """
    try:
        df = _parse_once(data, delim, limits, dtypes)
    except pl.exceptions.ComputeError as exc:
        # Bad UTF-8 and too many fields stay errors as text: no parse again for those.
        if not dtypes or pl.Float64() not in dtypes or _not_about_numbers(exc):
            raise
    else:
        numbers = [n for n, d in df.schema.items() if d == pl.Float64]
        if not numbers or not _some_not_finite(df, numbers):
            return df
        del df
    return _parse_once(data, delim, limits, [_as_text(d) for d in dtypes])


def _some_not_finite(df: pl.DataFrame, numbers: list[str]) -> bool:
    """Whether a column of ``numbers`` holds an infinite or NaN value.

    One sum per column settles it when the sums are finite (an infinite or
    NaN value makes its column's sum infinite or NaN); a sum that overflows
    is no verdict, and the values are then looked at one by one.
    """
    if all(math.isfinite(total) for total in df.select(pl.col(numbers).sum()).row(0)):
        return False
    return df.select(
        pl.any_horizontal(pl.col(numbers).is_infinite().any() | pl.col(numbers).is_nan().any())
    ).item()


# Bytes that a cell polars parses as a finite number can hold: digits, sign, point,
# exponent and leading blanks (inf, infinity and nan make _parse read the column as text).
_NOT_IN_A_NUMBER = re.compile(rb"[^0-9eE+\-. \t]")


def long_numbers_possible(source: bytes | str | os.PathLike, limits: Limits) -> bool:
    """Whether ``source`` (bytes or a path) may hold a cell longer than
    ``limits.max_cell_chars`` that parses as a number: a column parsed as
    numbers keeps no text whose length could be checked.

    Such a cell is a run of more than the limit of bytes outside
    :data:`_NOT_IN_A_NUMBER`, which holds two bytes ``step`` (half the limit)
    apart at multiples of ``step``: only those sampled bytes are read, and the
    span between two that qualify. ``False`` is exact; ``True`` may be a false
    alarm (a run longer than half the limit).
    """
    step = max((limits.max_cell_chars + 1) // 2, 1)
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) <= limits.max_cell_chars:
            return False
        return _long_run(np.frombuffer(source, dtype=np.uint8)[::step], step, source.__getitem__)
    fd = os.open(source, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if size <= limits.max_cell_chars:
            return False
        sampled = b"".join(os.pread(fd, 1, offset) for offset in range(0, size, step))
        return _long_run(
            np.frombuffer(sampled, dtype=np.uint8),
            step,
            lambda span: os.pread(fd, span.stop - span.start, span.start),
        )
    finally:
        os.close(fd)


def _long_run(sampled: np.ndarray, step: int, read: Callable[[slice], bytes]) -> bool:
    """Whether two neighbouring samples ``step`` apart may be ends of one long number."""
    qualifies = _NUMBER_BYTE[sampled]
    for i in np.flatnonzero(qualifies[:-1] & qualifies[1:]).tolist():
        start, end = i * step, (i + 1) * step + 1
        # Most spans end early: their first bytes settle it.
        if _NOT_IN_A_NUMBER.search(read(slice(start, min(end, start + 64)))) is None and (
            _NOT_IN_A_NUMBER.search(read(slice(start, end))) is None
        ):
            return True
    return False


_NUMBER_BYTE = np.ones(256, dtype=bool)
_NUMBER_BYTE[[i for i in range(256) if _NOT_IN_A_NUMBER.match(bytes([i]))]] = False


def _not_about_numbers(exc: pl.exceptions.ComputeError) -> bool:
    message = str(exc).lower()
    if message.startswith("could not parse"):
        # A cell that is not a number; the message quotes it, whatever it says.
        return False
    return "utf-8" in message or "utf8" in message or "more fields" in message


def _as_text(dtype: pl.DataType) -> pl.DataType:
    return pl.String() if dtype == pl.Float64 else dtype


def _parse_once(
    data: bytes | str, delim: str, limits: Limits, dtypes: list[pl.DataType] | None
) -> pl.DataFrame:
    # every read of this parse: text as written, no inference, ragged rows refused.
    # An unquoted empty cell is null (polars' default); a quoted one ("") is an
    # empty string, which finish_frame makes null: polars' null_values=[""] would
    # compare every cell instead.
    options = {
        "infer_schema": False,
        "separator": delim,
        "quote_char": '"',
        "truncate_ragged_lines": False,
        "raise_if_empty": False,
    }

    def read(n_rows: int) -> pl.DataFrame:
        return pl.read_csv(data, has_header=True, schema_overrides=dtypes, n_rows=n_rows, **options)

    df = read(limits.max_rows + 1)
    if not df.height:
        # With a header, polars may return no rows and no error for a file whose
        # records a stray quote swallows (in a record, with ``n_rows``, or in the
        # header); read without the header, it refuses such a file or finds the
        # records. Only a table of no rows is read again (in full: ``n_rows`` hides a
        # quote in the header here too).
        probe = pl.read_csv(data, has_header=False, **options)
        if probe.height > 1:
            raise pl.exceptions.ComputeError(
                "CSV malformed: the records after the header could not be parsed"
            )
    return df


def _dtypes(
    header: list[str], categorical: Collection[str], numeric: Collection[str] = ()
) -> list[pl.DataType] | None:
    """Column types by position: Categorical (each its own categories) for ``categorical``,
    Float64 for ``numeric``, String for the rest."""
    if not categorical and not numeric:
        return None
    from .kobo import flatten_kobo_names, looks_like_kobo  # kobo imports this module

    names = [h.strip() for h in header]
    if looks_like_kobo(names):
        names = flatten_kobo_names(names)
    cats, nums = set(categorical), set(numeric) - set(categorical)
    if not (cats | nums).intersection(names):
        return None
    return [
        pl.Categorical(pl.Categories.random())
        if n in cats
        else pl.Float64()
        if n in nums
        else pl.String()
        for n in names
    ]


def _head_info(
    head: bytes, filename: str, limits: Limits, delimiter: str | None
) -> tuple[str, list[str]]:
    """The delimiter and the header, from the first (UTF-8) bytes of the file."""
    sample = head[:_SNIFF_BYTES].decode("utf-8", errors="ignore")
    delim = delimiter or sniff_delimiter(sample)
    try:
        header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delim))
    except (csv.Error, StopIteration):
        raise fail(filename, "malformed_csv", "The header row cannot be read.", row=1) from None
    if len(header) > limits.max_columns:
        raise fail(
            filename,
            "too_many_columns",
            f"The file has {len(header)} columns; the limit is {limits.max_columns}.",
            row=1,
        )
    return delim, header


def _count_delimiters(source, delim: str) -> int:
    """Delimiters outside quoted fields, counted by polars' record counter.

    The file is scanned with the delimiter as the record terminator, so that
    the counter (quote-aware and multi-threaded, as the parser's own row
    split) counts the fields: one more than the delimiters when the last
    field is not empty.
    """
    return (
        pl.scan_csv(
            source,
            has_header=False,
            separator="\n",
            eol_char=delim,
            quote_char='"',
            infer_schema=False,
            raise_if_empty=False,
        )
        .select(pl.len())
        .collect()
        .item()
    ) - 1


def _parse_and_count(
    source, delim: str, limits: Limits, dtypes: list[pl.DataType] | None
) -> tuple[pl.DataFrame | None, pl.exceptions.PolarsError | None, int, list[pl.DataType] | None]:
    """:func:`_parse` and :func:`_count_delimiters` of ``source`` (bytes or a path) at once
    (each multi-threaded, the GIL released): ``(frame, None, delimiters, dtypes)`` or
    ``(None, the parse error, delimiters, dtypes)``; ``delimiters`` is -1 when the count
    failed.

    While polars parses, the worker that counts also checks that no number is too long
    to be parsed as one (:func:`long_numbers_possible`); if one may be, the columns typed
    Float64 are parsed again as text and the ``dtypes`` returned (for any later parse)
    have them as text.
    """
    df = error = None
    numbers = dtypes is not None and pl.Float64() in dtypes

    def count_and_check() -> tuple[int, bool]:
        try:
            delimiters = _count_delimiters(source, delim)
        except pl.exceptions.PolarsError:
            delimiters = -1
        try:
            return delimiters, numbers and long_numbers_possible(source, limits)
        except OSError:
            return delimiters, True

    with ThreadPoolExecutor(1, thread_name_prefix="cgd-csv") as pool:
        counting = pool.submit(count_and_check)
        try:
            df = _parse(source, delim, limits, dtypes)
        except pl.exceptions.PolarsError as exc:
            error = exc
        delimiters, long_numbers = counting.result()
    if long_numbers:
        dtypes = [_as_text(d) for d in dtypes]
        if df is not None and pl.Float64() in df.dtypes:
            df = None
            try:
                df = _parse(source, delim, limits, dtypes)
            except pl.exceptions.PolarsError as exc:
                error = exc
    return df, error, delimiters, dtypes


def fields_fit(df: pl.DataFrame, delimiters: int, ncols: int) -> bool:
    """Whether the header and every record of the parsed ``df`` had ``ncols`` fields.

    ``delimiters`` is :func:`_count_delimiters` of the same bytes and ``df``
    the records after the header (the parser read the header, ``df.width``
    fields). The parser refuses a record with too many fields but pads a
    short one with nulls, so that ``ncols - 1`` delimiters for the header and
    for every record means none was short. ``False`` is no verdict (a blank
    line, an empty last field at the very end, ...): the caller then counts
    or parses with the csv module.
    """
    return df.width == ncols and delimiters == (ncols - 1) * (df.height + 1)


def read_delimited_file(
    path: str | os.PathLike,
    filename: str,
    limits: Limits,
    *,
    delimiter: str | None = None,
    categorical: Collection[str] = (),
    numeric: Collection[str] = (),
) -> tuple[pl.DataFrame, list[str]] | None:
    """The fast path for a UTF-8 file on disk: polars reads it from its path.

    Only the head is read in Python (BOM, binary content, delimiter, header)
    and the field counts are checked by :func:`fields_fit`. Returns ``None``
    when the file needs the careful path (a UTF-16 BOM, a head that is not
    UTF-8, a parse error, or counts that do not settle it): the caller then
    reads the bytes and calls :func:`read_delimited`, which locates every
    problem.
    """
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size < _BY_PATH_MIN_BYTES:
                return None
            head = fh.read(_SNIFF_BYTES + len(codecs.BOM_UTF8))
    except OSError:
        return None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):
        return None
    bom = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    head = head[bom : bom + _SNIFF_BYTES]
    _check_binary(head, filename)
    if not head or head.isspace() or not _head_is_utf8(head):
        return None
    delim, header = _head_info(head, filename, limits, delimiter)
    dtypes = _dtypes(header, categorical, numeric)
    df, _error, delimiters, _ = _parse_and_count(os.fspath(path), delim, limits, dtypes)
    if df is None or not fields_fit(df, delimiters, len(header)):
        return None
    return df, header


def read_delimited(
    data: bytes,
    filename: str,
    limits: Limits,
    *,
    delimiter: str | None = None,
    categorical: Collection[str] = (),
    numeric: Collection[str] = (),
) -> tuple[pl.DataFrame, list[str]]:
    """Parse CSV/TSV bytes into an all-string frame; return it and the raw header.

    Columns named in ``categorical`` (by their final names) are read as
    ``pl.Categorical``, each with its own categories, which polars builds while
    parsing. Columns named in ``numeric`` are read as ``Float64`` when every
    cell of every such column parses as a number (or is empty), and as
    strings otherwise (see :func:`_parse`).

    UTF-8 is not decoded in Python on the fast path: polars checks it while
    parsing, and only a file it refuses (or whose first 64 KiB are not UTF-8)
    goes through :func:`to_utf8` for a legacy code page or a located error.
    The field counts are checked by :func:`fields_fit` and, when that gives no
    verdict, by :func:`field_counts_agree`; the csv module locates the rows
    of a file that fails both.
    """
    data = _strip_bom(data, filename)
    _check_binary(data, filename)
    if not data or data.isspace():
        raise fail(filename, "empty_file", "The file is empty.")
    decoded = False
    if not _head_is_utf8(data[:_SNIFF_BYTES]):
        data, decoded = to_utf8(data, filename)[0], True
    delim, header = _head_info(data, filename, limits, delimiter)
    ncols = len(header)

    problems = ProblemList(filename, limits.max_problems)
    dtypes = _dtypes(header, categorical, numeric)
    df, error, delimiters, dtypes = _parse_and_count(data, delim, limits, dtypes)
    if df is not None and fields_fit(df, delimiters, ncols):
        return df, header

    if not field_counts_agree(data, delim, ncols):
        # The parse (or its error) is dropped before the rows are checked, so that
        # both never hold memory at once; the file is parsed again if they are fine.
        df = error = None
        if not decoded:
            data, decoded = to_utf8(data, filename)[0], True
        _exact_check(data, delim, ncols, problems, limits)
        problems.raise_if_any("The rows do not line up with the header")
    try:
        try:
            if error is not None:
                raise error
            if df is None:
                df = _parse(data, delim, limits, dtypes)
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
    return df, header
