"""Disaggregated charts of a dataset's protected cube, as accessible SVG.

:func:`chart_data` turns cube cells (``indexer.search`` ``cube()``) into a
table of categories x series; :func:`render_svg` draws it with matplotlib
(horizontal bars, values written at the end of every bar, hatching for the
second dimension so colour is never the only cue, suppressed cells written as
"suppressed", never drawn as zero). The SVG carries ``<title>`` and
``<desc>``; every page shows the same numbers as a table beside the chart.

The SVG is inlined in pages under a strict Content-Security-Policy, so the
``style`` attributes matplotlib writes are turned into presentation
attributes (which CSP does not govern) and its ``<style>`` block is dropped.
Pages keep the text as text (the CSS serves the bundled Noto Sans
Devanagari for Devanagari code points); the PDF fact sheets draw it as paths
with the same font.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from portal.config import STATIC_DIR  # noqa: E402
from schema.vocabularies import DIMENSIONS  # noqa: E402

FONT_DIR: Path = STATIC_DIR / "fonts"
FONT_FAMILY = ["Noto Sans Devanagari", "DejaVu Sans"]
UNKNOWN = "_unknown"
MAX_CATEGORIES = 30
MAX_SERIES = 8
# Colours pass 3:1 against white (WCAG 1.4.11); hatches tell series apart without colour.
SERIES_STYLE = [
    ("#1f5f99", ""),
    ("#b3541e", "///"),
    ("#2e7d32", "..."),
    ("#6a3d9a", "xx"),
    ("#8a6d00", "\\\\\\"),
    ("#c2185b", "++"),
    ("#00695c", "--"),
    ("#4e4e4e", "oo"),
]
_render_lock = threading.Lock()  # matplotlib's font cache is not thread-safe
_fonts_loaded = False


def _load_fonts() -> None:
    global _fonts_loaded
    if not _fonts_loaded:
        for ttf in sorted(FONT_DIR.glob("*.ttf")):
            font_manager.fontManager.addfont(str(ttf))
        _fonts_loaded = True


@dataclass(frozen=True)
class ChartCell:
    """One bar: its value (None when suppressed or not published) and the cell's count."""

    value: float | None
    count: int | None
    suppressed: bool


@dataclass
class ChartData:
    """A measure broken down by one or two dimensions, ready to draw and tabulate."""

    title: str
    measure: str | None  # None: number of people (count)
    measure_label: str
    unit: str  # "count", "percent" or "mean"
    dimensions: list[str]
    dimension_labels: list[str]
    categories: list[tuple[str, str]]  # (code, label) of the first dimension
    series: list[tuple[str, str]]  # (code, label) of the second dimension, or [("", measure)]
    cells: dict[tuple[str, str], ChartCell] = field(default_factory=dict)
    truncated: bool = False

    def cell(self, category: str, series: str) -> ChartCell:
        return self.cells.get((category, series), ChartCell(None, None, False))

    @property
    def suppressed_count(self) -> int:
        return sum(1 for c in self.cells.values() if c.suppressed)

    @property
    def empty(self) -> bool:
        return not any(c.value is not None for c in self.cells.values())


def dimension_of(column: str, columns: Mapping[str, Any]) -> str | None:
    spec = columns.get(column) or {}
    return spec.get("dimension") if isinstance(spec, Mapping) else getattr(spec, "dimension", None)


def value_label(column: str, code: str, columns: Mapping[str, Any], lang: str, unknown: str) -> str:
    """The label of a cube code in a column, in the language (codes without a vocabulary as they are)."""
    if code == UNKNOWN:
        return unknown
    dim = DIMENSIONS.get(dimension_of(column, columns) or "")
    return dim.label(code, lang) if dim else code


def column_label(column: str, columns: Mapping[str, Any], lang: str) -> str:
    """A column's label: its dimension's name in the language, its own label, or its name."""
    spec = columns.get(column) or {}
    dim = DIMENSIONS.get(dimension_of(column, columns) or "")
    if dim is not None and (dim.code == column or not spec.get("label")):
        return dim.labels.get(lang) or dim.labels.get("en") or column
    return spec.get("label") or column.replace("_", " ").capitalize()


def chartable_dimensions(columns: Mapping[str, Any]) -> list[str]:
    """Columns the cube is broken down by (standard dimensions and generalised quasi-identifiers)."""
    return [
        name
        for name, spec in columns.items()
        if (spec or {}).get("role") in ("dimension", "quasi_identifier")
    ]


def measures(columns: Mapping[str, Any]) -> list[str]:
    return [name for name, spec in columns.items() if (spec or {}).get("role") == "measure"]


def _order(column: str, codes: Iterable[str], columns: Mapping[str, Any]) -> list[str]:
    """Codes in vocabulary order (unknown last), else alphabetical."""
    dim = DIMENSIONS.get(dimension_of(column, columns) or "")
    rank = {c.code: i for i, c in enumerate(dim.codes)} if dim else {}
    return sorted(set(codes), key=lambda c: (c == UNKNOWN, rank.get(c, len(rank)), c))


def chart_data(
    cells: list[Mapping[str, Any]],
    columns: Mapping[str, Any],
    by: tuple[str, ...],
    measure: str | None,
    *,
    lang: str,
    gettext: Callable[[str], str],
) -> ChartData:
    """Shape cube cells for ``by`` (one or two columns) into a chart of ``measure`` (None: count)."""
    if not 1 <= len(by) <= 2:
        raise ValueError("a chart is broken down by one or two dimensions")
    unknown = gettext("Not stated or withheld")
    first = by[0]
    second = by[1] if len(by) == 2 else None
    values: dict[tuple[str, str], ChartCell] = {}
    raw_means: list[float] = []
    for cell in cells:
        dims = cell.get("dims") or {}
        if set(dims) != set(by):
            continue
        suppressed = bool(cell.get("suppressed")) or cell.get("count") is None
        if measure is None:
            value = None if suppressed else float(cell["count"])
        else:
            mean = (cell.get("means") or {}).get(measure)
            value = None if suppressed or mean is None else float(mean)
            if value is not None:
                raw_means.append(value)
        key = (dims[first], dims[second] if second else "")
        values[key] = ChartCell(value, None if suppressed else cell.get("count"), suppressed)
    if measure is None:
        unit, measure_label = "count", gettext("Number of people")
    else:
        measure_label = column_label(measure, columns, lang)
        unit = "percent" if raw_means and all(0 <= v <= 1 for v in raw_means) else "mean"
    cat_codes = _order(first, (k[0] for k in values), columns)
    truncated = len(cat_codes) > MAX_CATEGORIES
    cat_codes = cat_codes[:MAX_CATEGORIES]
    if second:
        ser_codes = _order(second, (k[1] for k in values), columns)
        truncated = truncated or len(ser_codes) > MAX_SERIES
        ser_codes = ser_codes[:MAX_SERIES]
        series = [(c, value_label(second, c, columns, lang, unknown)) for c in ser_codes]
    else:
        series = [("", measure_label)]
    dim_labels = [column_label(c, columns, lang) for c in by]
    if unit == "percent":
        what = gettext("Share: %(measure)s") % {"measure": measure_label}
    elif unit == "mean":
        what = gettext("Average: %(measure)s") % {"measure": measure_label}
    else:
        what = measure_label
    title = gettext("%(what)s by %(dims)s") % {
        "what": what,
        "dims": gettext(" and ").join(dim_labels),
    }
    return ChartData(
        title=title,
        measure=measure,
        measure_label=measure_label,
        unit=unit,
        dimensions=list(by),
        dimension_labels=dim_labels,
        categories=[(c, value_label(first, c, columns, lang, unknown)) for c in cat_codes],
        series=series,
        cells=values,
        truncated=truncated,
    )


def format_value(value: float | None, unit: str, number: Callable[..., str]) -> str:
    """A chart value as text, with the locale's number formatter ``number(value, decimals=)``."""
    if value is None:
        return ""
    if unit == "percent":
        return number(value * 100, decimals=0) + "%"
    if unit == "mean":
        return number(value, decimals=1 if abs(value) < 100 else 0)
    return number(value, decimals=0)


def describe(chart: ChartData, number: Callable[..., str], gettext: Callable[[str], str]) -> str:
    """A one-paragraph text alternative: what is shown, highest and lowest, suppressed cells."""
    shown = [
        (cat_label, ser_label, chart.cell(cat, ser))
        for cat, cat_label in chart.categories
        for ser, ser_label in chart.series
    ]
    published = [(c, s, cell) for c, s, cell in shown if cell.value is not None]
    parts = [chart.title + "."]
    if published:
        hi = max(published, key=lambda t: t[2].value)
        lo = min(published, key=lambda t: t[2].value)

        def name(t):
            return t[0] if len(chart.series) == 1 else f"{t[0]}, {t[1]}"

        parts.append(
            gettext("Highest: %(name)s (%(value)s). Lowest: %(lname)s (%(lvalue)s).")
            % {
                "name": name(hi),
                "value": format_value(hi[2].value, chart.unit, number),
                "lname": name(lo),
                "lvalue": format_value(lo[2].value, chart.unit, number),
            }
        )
    if chart.suppressed_count:
        parts.append(
            gettext("%(n)s groups are too small to publish and are marked suppressed, not zero.")
            % {"n": number(chart.suppressed_count, decimals=0)}
        )
    return " ".join(parts)


_STYLE_ATTR = re.compile(r' style="([^"]*)"')
_ID = re.compile(r' id="([^"]+)"')
_FLOAT = re.compile(r"(?<![#\w])-?\d+\.\d{2,}")


def _style_to_attributes(match: re.Match) -> str:
    out = []
    for decl in match.group(1).split(";"):
        if ":" in decl:
            prop, value = (s.strip() for s in decl.split(":", 1))
            if prop and value:
                out.append(f' {prop}="{escape(value, {chr(34): "&quot;"})}"')
    return "".join(out)


def _csp_safe(svg: str, prefix: str) -> str:
    """Drop the XML prologue and <style>, move styles to attributes, prefix every id."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    svg = re.sub(r"<defs>\s*</defs>", "", svg)
    svg = _STYLE_ATTR.sub(_style_to_attributes, svg)
    svg = svg.replace(' transform="rotate(-0 ', ' data-r="').replace("\n", " ")
    svg = re.sub(r' data-r="[^"]*"', "", svg)
    # Round coordinates to 0.1 (a third of the SVG's size), but never a scale(): glyph
    # paths drawn as text are scaled by 1/64 and would vanish.
    pieces = re.split(r"(scale\([^)]*\))", svg)
    svg = "".join(
        piece
        if piece.startswith("scale(")
        else _FLOAT.sub(lambda m: f"{float(m.group(0)):.1f}".rstrip("0").rstrip("."), piece)
        for piece in pieces
    )
    svg = re.sub(r">\s+<", "><", svg)
    svg = re.sub(r"\s{2,}", " ", svg)
    referenced = set(re.findall(r"#([\w.-]+)", svg))
    svg = _ID.sub(lambda m: m.group(0) if m.group(1) in referenced else "", svg)
    ids = set(_ID.findall(svg))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{prefix}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"')
        svg = svg.replace(f'"#{old}"', f'"#{new}"').replace(f"url(#{old})", f"url(#{new})")
    return svg


def render_svg(
    chart: ChartData,
    *,
    number: Callable[..., str],
    gettext: Callable[[str], str],
    chart_id: str = "chart",
    width: float = 7.0,
    text_as_paths: bool = False,
) -> str:
    """Draw the chart as an accessible inline SVG string (role=img, <title>, <desc>).

    Text stays text (small, selectable, drawn with the page's fonts) unless
    ``text_as_paths``: PDF fact sheets draw glyphs as paths so Devanagari is
    shaped by matplotlib with the bundled font whatever the PDF renderer does.
    """
    _load_fonts()
    n_cat = max(1, len(chart.categories))
    n_ser = max(1, len(chart.series))
    bar_h = 0.8 / n_ser
    height = min(14.0, 1.1 + 0.28 * n_cat * max(1.0, n_ser * 0.75))
    suppressed_text = gettext("suppressed")
    with _render_lock:
        matplotlib.rcParams.update(
            {
                "font.family": FONT_FAMILY,
                "font.size": 10,
                "svg.fonttype": "path" if text_as_paths else "none",
                "svg.hashsalt": "cgd-portal",
                "hatch.linewidth": 0.8,
            }
        )
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.add_subplot()
        vmax = max((c.value for c in chart.cells.values() if c.value is not None), default=1.0)
        vmax = max(vmax, 1e-9)
        for j, (ser, ser_label) in enumerate(chart.series):
            colour, hatch = SERIES_STYLE[j % len(SERIES_STYLE)]
            ys, widths, labels, offs = [], [], [], []
            for i, (cat, _label) in enumerate(chart.categories):
                cell = chart.cell(cat, ser)
                y = i + (j - (n_ser - 1) / 2) * bar_h
                if cell.value is not None:
                    ys.append(y)
                    widths.append(cell.value)
                    labels.append(format_value(cell.value, chart.unit, number))
                else:
                    offs.append((y, suppressed_text if cell.suppressed else "–"))
            bars = ax.barh(
                ys,
                widths,
                height=bar_h * 0.92,
                color=colour,
                hatch=hatch or None,
                edgecolor="white" if hatch else colour,
                linewidth=0.6,
                label=ser_label if n_ser > 1 else None,
            )
            ax.bar_label(bars, labels=labels, padding=3, fontsize=8.5, color="#1b1b1b")
            for y, text in offs:
                ax.text(
                    vmax * 0.01,
                    y,
                    text,
                    va="center",
                    ha="left",
                    fontsize=8.5,
                    fontstyle="italic",
                    color="#4a4a4a",
                )
        ax.set_yticks(range(n_cat), [label for _c, label in chart.categories])
        ax.invert_yaxis()
        ax.set_xlim(0, vmax * 1.22)
        ax.set_xlabel(
            chart.measure_label + (" (%)" if chart.unit == "percent" else ""), color="#1b1b1b"
        )
        if chart.unit == "percent":
            ax.xaxis.set_major_formatter(lambda v, _p: number(v * 100, decimals=0))
        else:
            ax.xaxis.set_major_formatter(lambda v, _p: number(v, decimals=0))
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(colors="#1b1b1b")
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
        ax.set_axisbelow(True)
        if n_ser > 1:
            ax.legend(
                title=chart.dimension_labels[1],
                loc="lower right",
                fontsize=8.5,
                title_fontsize=9,
                frameon=True,
            )
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = _csp_safe(buf.getvalue(), chart_id)
    title = escape(chart.title)
    desc = escape(describe(chart, number, gettext))
    head = (
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'class="chart" focusable="false"'
    )
    svg = svg.replace("<svg", head, 1)
    svg = re.sub(r'\s(width|height)="[^"]*pt"', "", svg, count=2)
    close = svg.index(">", svg.index("<svg")) + 1
    return (
        svg[:close]
        + f'<title id="{chart_id}-title">{title}</title><desc id="{chart_id}-desc">{desc}</desc>'
        + svg[close:]
    )
