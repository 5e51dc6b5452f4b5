"""Readers: bring an uploaded file into an all-string polars frame.

:func:`read_table` detects the format (CSV/TSV, XLSX, JSON, KoboToolbox
exports), applies the :class:`Limits`, and returns a frame whose columns are
all strings (no type inference; empty cells are null; CSV columns the caller
names in ``categorical`` come as pl.Categorical instead, and those named in
``numeric`` as Float64 when all their cells are numbers) with stripped, unique,
non-empty names. Every problem is an :class:`~schema.errors.InvalidInput`
naming file, row (the header is row 1) and column; nothing is returned half
read.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import BinaryIO

import polars as pl

from .delimited import read_delimited, read_delimited_file
from .jsonfile import read_json
from .kobo import flatten_kobo_names, looks_like_kobo, pull_submissions
from .limits import DEFAULT_LIMITS, Limits, ProblemList, fail
from .spreadsheet import read_xlsx

Source = str | os.PathLike | bytes | BinaryIO

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
}


def _read_bytes(source: Source, filename: str, limits: Limits) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        try:
            size = os.path.getsize(source)
            if size > limits.max_bytes:
                raise fail(
                    filename,
                    "file_too_large",
                    f"The file is {size:,} bytes; the limit is {limits.max_bytes:,}.",
                )
            with open(source, "rb") as fh:
                data = fh.read(limits.max_bytes + 1)
        except OSError as exc:
            raise fail(
                filename, "unreadable_file", f"The file cannot be opened ({exc.strerror})."
            ) from None
    else:
        data = source.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise fail(
            filename,
            "file_too_large",
            f"The file is larger than the limit of {limits.max_bytes:,} bytes.",
        )
    return data


def detect_format(data: bytes, filename: str) -> str:
    """``csv``, ``tsv``, ``xlsx`` or ``json`` from the content, then the name."""
    ext = Path(filename).suffix.lower()
    if data.startswith(b"PK\x03\x04"):
        return (
            "xlsx" if ext not in (".csv", ".tsv", ".txt", ".json") else _EXTENSIONS.get(ext, "xlsx")
        )
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if ext == ".json" or (ext not in _EXTENSIONS and head[:1] in (b"[", b"{")):
        return "json"
    if ext in (".xls",):
        raise fail(
            filename,
            "unsupported_format",
            "Old .xls workbooks are not supported; save as .xlsx or CSV.",
        )
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if ext in (".ods", ".xml", ".sav", ".dta", ".zip", ".pdf", ".docx"):
        raise fail(
            filename,
            "unsupported_format",
            f"{ext} files are not supported; upload CSV, TSV, XLSX or JSON.",
        )
    return "csv"


def finish_frame(
    df: pl.DataFrame, header: list[str], filename: str, limits: Limits
) -> pl.DataFrame:
    """Name the columns from ``header`` after checking it; enforce row and cell limits."""
    names = [("" if h is None else str(h)).strip() for h in header]
    # Spreadsheets often carry trailing unnamed, empty columns: drop those quietly.
    keep = [
        i for i, n in enumerate(names) if n or df.get_column(df.columns[i]).null_count() < df.height
    ]
    if len(keep) != len(names):
        df = df.select([df.columns[i] for i in keep])
        names = [names[i] for i in keep]
    if looks_like_kobo(names):
        names = flatten_kobo_names(names)
    problems = ProblemList(filename, limits.max_problems)
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if not n:
            problems.add(
                "empty_header",
                f"Column {i + 1} has no name in the header.",
                row=1,
                column=f"#{i + 1}",
            )
        elif len(n) > limits.max_header_chars:
            problems.add(
                "header_too_long",
                f"The column name is longer than {limits.max_header_chars} characters.",
                row=1,
                column=n[:40] + "...",
            )
        elif n in seen:
            problems.add(
                "duplicate_header",
                f"The column name {n!r} appears twice (columns {seen[n] + 1} and {i + 1}).",
                row=1,
                column=n,
            )
        else:
            seen[n] = i
    problems.raise_if_any("The header row is not usable")
    if df.height > limits.max_rows:
        raise fail(
            filename,
            "too_many_rows",
            f"The file has more than {limits.max_rows:,} data rows; the limit is {limits.max_rows:,}.",
        )
    df = df.rename(dict(zip(df.columns, names, strict=True)))
    if df.height:
        text = [n for n in names if df.schema[n] == pl.String]
        # The shortest and longest cell of every text column, in one pass (named by
        # position: a column's own name could be another's "min:" name).
        bounds = (
            df.select(
                *(pl.col(n).str.len_bytes().min().alias(f"min{i}") for i, n in enumerate(text)),
                *(pl.col(n).str.len_bytes().max().alias(f"max{i}") for i, n in enumerate(text)),
            ).row(0)
            if text
            else ()
        )
        longest_of = dict(zip(text, bounds[len(text) :], strict=True))
        empty = [n for n, shortest in zip(text, bounds[: len(text)], strict=True) if shortest == 0]
        for n in names:
            if isinstance(df.schema[n], pl.Categorical):
                # A categorical column's cells are bounded by its categories' (one each).
                lengths = df.schema[n].categories.to_series().str.len_bytes()
                longest_of[n] = lengths.max()
                if lengths.min() == 0:
                    empty.append(n)
        if empty:
            # An empty cell is null, whatever the reader made of it (a quoted "" in a CSV).
            df = df.with_columns(pl.when(pl.col(n) != "").then(pl.col(n)).alias(n) for n in empty)
        # A column parsed as numbers (``numeric``) holds no text to measure.
        lengths = [longest_of.get(n) for n in names]
        for name, longest in zip(names, lengths, strict=True):
            # Bytes bound characters from above: count characters only when needed.
            if longest is not None and longest > limits.max_cell_chars:
                over = (
                    df.select(pl.col(name).cast(pl.String).str.len_chars() > limits.max_cell_chars)
                    .to_series()
                    .arg_true()
                )
                for idx in over.head(limits.max_problems).to_list():
                    problems.add(
                        "cell_too_long",
                        f"The cell is longer than {limits.max_cell_chars:,} characters.",
                        row=idx + 2,
                        column=name,
                    )
    problems.raise_if_any("Some cells are too long")
    return df


@contextlib.contextmanager
def _within_limits(filename: str) -> Iterator[None]:
    """A reader that runs out of memory or recursion depth is an InvalidInput."""
    try:
        yield
    except (MemoryError, RecursionError):
        raise fail(
            filename,
            "file_too_complex",
            "The file is too large or complex to read within the limits.",
        ) from None


def _read_csv_file(
    path: str | os.PathLike,
    filename: str,
    limits: Limits,
    categorical: Collection[str],
    numeric: Collection[str],
) -> pl.DataFrame | None:
    """A large UTF-8 CSV/TSV file read where it lies (see ``read_delimited_file``), else None."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return None  # _read_bytes reports it
    if size > limits.max_bytes:
        return None
    fmt = detect_format(head, filename)
    if fmt not in ("csv", "tsv"):
        return None
    with _within_limits(filename):
        found = read_delimited_file(
            path,
            filename,
            limits,
            delimiter="\t" if fmt == "tsv" else None,
            categorical=categorical,
            numeric=numeric,
        )
        return None if found is None else finish_frame(*found, filename, limits)


def read_table(
    path: Source,
    *,
    filename: str | None = None,
    sheet: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    categorical: Collection[str] = (),
    numeric: Collection[str] = (),
) -> pl.DataFrame:
    """Read a CSV/TSV, XLSX, JSON or KoboToolbox export into an all-string frame.

    ``path`` is a file path, bytes or a binary file object; ``filename`` (used
    in messages and to pick the format) defaults to the path's name. ``sheet``
    names the XLSX sheet (default: the first). Raises InvalidInput with every
    problem found (capped at ``limits.max_problems``).

    ``categorical`` names columns (when the roles are known before reading,
    e.g. the dimension columns) that a CSV/TSV hands over as ``pl.Categorical``
    with their own categories, built while parsing, so that
    :func:`indexer.validate.validate_table` matches each distinct value once
    without hashing the column again. ``numeric`` names columns (e.g. the
    declared measures) that a CSV/TSV hands over as ``Float64`` when every
    cell of every such column is empty or parses as a number (polars parses
    them with the rest of the file), and as strings otherwise, so that the
    validator still reports each bad cell with its text. Other formats return
    strings throughout.
    """
    if filename is None:
        filename = Path(path).name if isinstance(path, str | os.PathLike) else "upload"
    if isinstance(path, str | os.PathLike):
        found = _read_csv_file(path, filename, limits, categorical, numeric)
        if found is not None:
            return found
    data = _read_bytes(path, filename, limits)
    with _within_limits(filename):
        fmt = detect_format(data, filename)
        if fmt == "xlsx":
            df, header = read_xlsx(data, filename, limits, sheet=sheet)
        elif fmt == "json":
            df, header = read_json(data, filename, limits)
        else:
            df, header = read_delimited(
                data,
                filename,
                limits,
                delimiter="\t" if fmt == "tsv" else None,
                categorical=categorical,
                numeric=numeric,
            )
        return finish_frame(df, header, filename, limits)


__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "detect_format",
    "finish_frame",
    "flatten_kobo_names",
    "pull_submissions",
    "read_table",
]
