"""Charts of the protected cube: accessible SVG, suppressed cells never drawn as zero, text escaped."""

from __future__ import annotations

import re

from portal import charts

COLUMNS = {
    "sex": {"role": "dimension", "dimension": "sex"},
    "caste_ethnicity": {"role": "dimension", "dimension": "caste_ethnicity"},
    "score": {"role": "measure", "label": "<script>alert(1)</script> score"},
}


def _cells():
    return [
        {"dims": {"sex": "female"}, "count": 40, "suppressed": False, "means": {"score": 0.25}},
        {"dims": {"sex": "male"}, "count": None, "suppressed": True, "means": {"score": None}},
        {"dims": {"sex": "other"}, "count": 12, "suppressed": False, "means": {"score": 0.5}},
    ]


def _number(v, decimals=None):
    return f"{v:.{decimals or 0}f}"


def test_suppressed_cell_is_none_and_written_suppressed_on_the_chart():
    data = charts.chart_data(_cells(), COLUMNS, ("sex",), None, lang="en", gettext=str)
    assert data.cell("male", "").value is None and data.cell("male", "").suppressed
    assert data.suppressed_count == 1
    svg = charts.render_svg(data, number=_number, gettext=str)
    assert svg.startswith('<svg role="img" aria-labelledby="chart-title chart-desc"')
    assert '<title id="chart-title">Number of people by Sex</title>' in svg
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg).group(1)
    assert "Highest: Female (40)" in desc and "1 groups are too small to publish" in desc
    assert ">suppressed<" in svg
    assert " style=" not in svg and "<style" not in svg  # CSP without unsafe-inline


def test_share_measure_is_a_percentage_and_labels_are_escaped():
    data = charts.chart_data(_cells(), COLUMNS, ("sex",), "score", lang="en", gettext=str)
    assert data.unit == "percent"
    svg = charts.render_svg(data, number=_number, gettext=str)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_nepali_labels_and_two_dimensions_keep_every_series():
    cells = [
        {"dims": {"sex": s, "caste_ethnicity": c}, "count": n, "suppressed": n is None, "means": {}}
        for s, c, n in [
            ("female", "hill_dalit", 20),
            ("male", "hill_dalit", None),
            ("female", "newar", 15),
            ("male", "newar", 30),
        ]
    ]
    data = charts.chart_data(
        cells, COLUMNS, ("caste_ethnicity", "sex"), None, lang="ne", gettext=str
    )
    assert [label for _c, label in data.series] == ["महिला", "पुरुष"]
    assert data.categories[0][1] == "पहाडी दलित"
    svg = charts.render_svg(data, number=_number, gettext=str, chart_id="two")
    assert "पहाडी दलित" in svg and 'id="two-title"' in svg
    paths = charts.render_svg(data, number=_number, gettext=str, text_as_paths=True)
    assert "पहाडी दलित" not in paths.split("<desc")[0].split("</title>")[1]  # glyphs drawn as paths
    assert "scale(0)" not in paths


def test_a_chart_is_drawn_again_when_its_version_cube_changes_in_place(app):
    """A harvested dataset's version keeps its id when its source updates the cube."""
    import polars as pl

    from api.context import runtime
    from portal.views.public import build_chart

    columns = {"sex": COLUMNS["sex"]}
    empty = pl.DataFrame({"sex": pl.Series([], dtype=pl.Utf8)})
    with app.test_request_context("/?lang=en"):
        rt = runtime()
        drawn = []
        for female in (40, 55):
            cells = [
                {"dims": {"sex": "female"}, "count": female, "suppressed": False, "means": {}},
                {"dims": {"sex": "male"}, "count": 30, "suppressed": False, "means": {}},
            ]
            rt.search.index_version("ds-chart", "v-1", empty, cells, columns)
            rt.search.activate_version("ds-chart", "v-1")
            data, svg = build_chart(rt, "ds-chart", columns, ("sex",), None, "c1")
            assert data.cell("female", "").value == female
            drawn.append(str(svg))
        assert drawn[0] != drawn[1]
        again = build_chart(rt, "ds-chart", columns, ("sex",), None, "c1")[1]
        assert str(again) == drawn[1]
