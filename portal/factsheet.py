"""One-page fact sheets (per dataset and per topic), as HTML and as PDF.

The figures come from the protected cube only, as on the dataset page. The
PDF is the same HTML rendered by WeasyPrint with the bundled Noto Sans
Devanagari (``static/fonts``), so Nepali is shaped properly whatever fonts
the server has; charts are drawn with their text as paths for the same
reason. WeasyPrint may only read files under ``static/``: a fact sheet never
makes a network request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal import charts
from portal.config import STATIC_DIR

FACTSHEET_CSS = STATIC_DIR / "css" / "factsheet.css"
#: Group dimensions in the order a fact sheet features them.
FEATURED_DIMENSIONS = (
    "caste_ethnicity",
    "disability",
    "sex",
    "sogi",
    "migration_status",
    "language",
    "wealth_quintile",
    "urban_rural",
    "age",
)


@dataclass
class FeaturedChart:
    data: charts.ChartData
    by: tuple[str, ...]
    measure: str | None


def featured_breakdowns(columns: Mapping[str, Any]) -> list[str]:
    """Chartable columns about groups of people, most telling first."""
    dims = charts.chartable_dimensions(columns)
    rank = {d: i for i, d in enumerate(FEATURED_DIMENSIONS)}
    people = [d for d in dims if charts.dimension_of(d, columns) in rank]
    return sorted(people, key=lambda d: rank[charts.dimension_of(d, columns)])


def featured_charts(
    cube: Callable[[tuple[str, ...]], list[dict]],
    columns: Mapping[str, Any],
    *,
    lang: str,
    gettext: Callable[[str], str],
    limit: int = 2,
) -> list[FeaturedChart]:
    """Up to ``limit`` charts: the first share measure (else the count) by the featured groups."""
    breakdowns = featured_breakdowns(columns) or charts.chartable_dimensions(columns)
    if not breakdowns:
        return []
    share = None
    for m in charts.measures(columns):
        data = charts.chart_data(
            cube((breakdowns[0],)), columns, (breakdowns[0],), m, lang=lang, gettext=gettext
        )
        if data.unit == "percent" and not data.empty:
            share = m
            break
    plan = [((b,), share) for b in breakdowns[:limit]]
    if len(plan) < limit:
        plan.append(((breakdowns[0],), None if share else (charts.measures(columns) or [None])[0]))
    out = []
    for by, measure in plan[:limit]:
        data = charts.chart_data(cube(by), columns, by, measure, lang=lang, gettext=gettext)
        if data.categories:
            out.append(FeaturedChart(data, by, measure))
    return out


def _static_only_fetcher(url: str, *args, **kwargs):
    """WeasyPrint URL fetcher that serves files under static/ and refuses everything else."""
    from weasyprint.urls import default_url_fetcher

    if not url.startswith("file://"):
        raise ValueError(f"fact sheets fetch nothing from the network ({url[:60]})")
    path = Path(url[len("file://") :].split("?", 1)[0]).resolve()
    if STATIC_DIR.resolve() not in path.parents:
        raise ValueError("fact sheets read only bundled static files")
    return default_url_fetcher(url, *args, **kwargs)


def render_pdf(html: str) -> bytes:
    """The fact sheet HTML as an A4 PDF with the bundled fonts embedded."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    css = CSS(filename=str(FACTSHEET_CSS), font_config=fonts, url_fetcher=_static_only_fetcher)
    document = HTML(
        string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=_static_only_fetcher
    )
    return document.write_pdf(stylesheets=[css], font_config=fonts)
