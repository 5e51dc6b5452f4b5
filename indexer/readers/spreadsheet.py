"""XLSX reader on python-calamine: cached values only, formulas never evaluated.

Before calamine opens the file the zip directory is checked against
decompression bombs, and worksheet XML is scanned for formula cells, which
are refused: their cached values may be stale or absent, and we never
evaluate them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import polars as pl
from python_calamine import CalamineWorkbook

from .limits import Limits, ProblemList, fail

_FORMULA = re.compile(
    rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*>(?:(?!</(?:\w+:)?c>).){0,200}?<(?:\w+:)?f[\s>/]',
    re.S,
)
# A formula element (<f>, <f t="shared" .../>, <x:f>) cannot occur without these bytes.
_FORMULA_HINTS = (b"<f", b":f")
_CHUNK = 8 * 1024 * 1024
_BATCH_ROWS = 50_000


def check_zip(data: bytes, filename: str, limits: Limits) -> zipfile.ZipFile:
    """Open the XLSX container, refusing zip bombs and non-XLSX archives."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise fail(
            filename, "bad_xlsx", "This is not a valid XLSX file (the zip container is damaged)."
        ) from None
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > limits.max_uncompressed_bytes:
        raise fail(
            filename,
            "zip_bomb",
            f"The spreadsheet unpacks to {total:,} bytes; the limit is {limits.max_uncompressed_bytes:,}.",
        )
    for i in infos:
        if (
            i.file_size > 1024 * 1024
            and i.file_size / max(i.compress_size, 1) > limits.max_compression_ratio
        ):
            raise fail(
                filename,
                "zip_bomb",
                f"Part {i.filename!r} is compressed {i.file_size // max(i.compress_size, 1)}:1, which looks like a zip bomb.",
            )
    if total / packed > limits.max_compression_ratio and total > 16 * 1024 * 1024:
        raise fail(
            filename,
            "zip_bomb",
            "The spreadsheet is compressed too highly to be a real workbook (zip bomb).",
        )
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise fail(filename, "bad_xlsx", "This zip file is not an Excel workbook.")
    return zf


def _sheet_part(zf: zipfile.ZipFile, index: int, name: str) -> str | None:
    """The worksheet XML part for a sheet, via the workbook relationships."""
    try:
        wb = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    sheets = re.findall(rb'<(?:\w+:)?sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"', wb)
    rid = None
    for i, (sname, srid) in enumerate(sheets):
        if sname.decode("utf-8", "replace") == name or (rid is None and i == index):
            rid = srid
    if rid is None:
        return None
    for target_id, target in re.findall(
        rb'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"', rels
    ) + [
        (b, a)
        for a, b in re.findall(rb'<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"', rels)
    ]:
        if target_id == rid:
            t = target.decode()
            return t.lstrip("/") if t.startswith("/") else "xl/" + t
    return None


def find_formulas(zf: zipfile.ZipFile, part: str, problems: ProblemList) -> None:
    """Report every formula cell of a worksheet part (streamed in chunks).

    A cheap scan for formula elements runs first; only chunks that have one
    are searched for the cells holding them.
    """
    try:
        with zf.open(part) as fh:
            tail = b""
            while not problems.full:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                buf = tail + chunk
                # Keep an overlap so a cell split across chunks is still seen.
                tail = buf[-4096:]
                if not any(hint in buf for hint in _FORMULA_HINTS):
                    continue
                last_end = 0
                for m in _FORMULA.finditer(buf):
                    problems.add(
                        "formula_cell",
                        "The cell holds a formula; formulas are never evaluated. Paste values instead.",
                        row=int(m.group(2)),
                        column=m.group(1).decode(),
                    )
                    last_end = m.end()
                tail = buf[max(last_end, len(buf) - 4096) :]
    except (KeyError, zipfile.BadZipFile, OSError, EOFError):
        return


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _column_letter(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def read_xlsx(
    data: bytes, filename: str, limits: Limits, *, sheet: str | None = None
) -> tuple[pl.DataFrame, list[str]]:
    """Read the first (or the named) sheet of an XLSX file into an all-string frame."""
    zf = check_zip(data, filename, limits)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own and builtin errors on damaged files
        raise fail(
            filename, "bad_xlsx", f"The workbook cannot be read ({type(exc).__name__})."
        ) from None
    names = wb.sheet_names
    if not names:
        raise fail(filename, "bad_xlsx", "The workbook has no sheets.")
    if sheet is not None and sheet not in names:
        raise fail(
            filename,
            "sheet_not_found",
            f"There is no sheet named {sheet!r}; sheets are: {', '.join(names)}.",
        )
    name = sheet or names[0]
    index = names.index(name)
    problems = ProblemList(filename, limits.max_problems)
    part = _sheet_part(zf, index, name)
    if part:
        find_formulas(zf, part, problems)
    problems.raise_if_any("The spreadsheet contains formulas")
    try:
        ws = wb.get_sheet_by_name(name)
        if ws.total_height > limits.max_rows + 1:
            raise fail(
                filename,
                "too_many_rows",
                f"The sheet has {ws.total_height - 1:,} rows; the limit is {limits.max_rows:,}.",
            )
        if ws.total_width > limits.max_columns:
            raise fail(
                filename,
                "too_many_columns",
                f"The sheet has {ws.total_width} columns; the limit is {limits.max_columns}.",
                row=1,
            )
        rows = ws.iter_rows()
        # calamine may start at the first non-empty row/column; skip leading empty rows.
        header_row = next((r for r in rows if any(v not in (None, "") for v in r)), None)
        if header_row is None:
            raise fail(filename, "empty_file", f"The sheet {name!r} is empty.")
        width = max(ws.total_width, len(header_row))
        header = [_cell_text(v) or "" for v in header_row] + [""] * (width - len(header_row))
        # Rows become columns a batch at a time, so Python holds one batch of cells at once.
        batches: list[pl.DataFrame] = []
        batch: list[list] = []
        for row in rows:
            batch.append(row)
            if len(batch) == _BATCH_ROWS:
                batches.append(_batch_frame(batch, width))
                batch = []
        if batch or not batches:
            batches.append(_batch_frame(batch, width))
    except Exception as exc:
        if hasattr(exc, "problems"):
            raise
        raise fail(
            filename, "bad_xlsx", f"The sheet cannot be read ({type(exc).__name__})."
        ) from None
    df = pl.concat(batches, how="vertical") if len(batches) > 1 else batches[0]
    return df, header


def _batch_frame(rows: list[list], width: int) -> pl.DataFrame:
    if any(len(r) != width for r in rows):
        rows = [r if len(r) == width else [*r, *([None] * (width - len(r)))][:width] for r in rows]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]
    return pl.DataFrame([_column_series(f"column_{j}", col) for j, col in enumerate(columns)])


def _column_series(name: str, values: tuple) -> pl.Series:
    """An all-string column from calamine values, in bulk where the types allow."""
    types = set(map(type, values))
    if types <= {str, type(None)}:
        out = pl.Series(name, values, dtype=pl.String)
        return out.replace("", None) if "" in values else out
    if types <= {float, int, str, type(None)} and all(
        v == "" for v in values if isinstance(v, str)
    ):
        nums = pl.Series(name, [None if v == "" else v for v in values], dtype=pl.Float64)
        integral = (nums == nums.round()) & (nums.abs() < 1e15)
        return pl.select(
            pl.when(integral)
            .then(nums.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(pl.lit(nums).map_batches(_float_text, return_dtype=pl.String))
            .alias(name)
        ).to_series()
    return pl.Series(name, [_cell_text(v) for v in values], dtype=pl.String)


def _float_text(nums: pl.Series) -> pl.Series:
    # Python's repr for non-integral floats, as _cell_text writes them.
    return pl.Series([None if v is None else repr(v) for v in nums.to_list()], dtype=pl.String)
