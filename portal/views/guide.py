"""About and methodology guide pages, and the XLSForm template download."""

from __future__ import annotations

import functools
import io
from typing import Any

import polars as pl
from flask import Blueprint, Response, render_template
from flask_babel import gettext as _

from api.context import runtime
from indexer import pipeline
from indexer.disclosure import cube
from portal.i18n import current_language
from schema import metadata
from schema.metadata import COLLECTION_METHODS, SELECTION_METHODS
from schema.vocabularies import people
from schema.xlsform import build_xlsform

bp = Blueprint("guide", __name__)


@bp.route("/about")
def about():
    return render_template("about.html")


@bp.route("/guide")
def methodology():
    from portal.views import labels

    return render_template(
        "guide.html",
        selection=[(c, labels.selection_method_label(c)) for c in SELECTION_METHODS],
        collection=[(c, labels.collection_method_label(c)) for c in COLLECTION_METHODS],
    )


@bp.route("/guide/cgd-xlsform-template.xlsx")
def xlsform_template():
    """The XLSForm questionnaire template (English and Nepali labels) for KoboToolbox or ODK."""
    buf = io.BytesIO()
    build_xlsform(buf, ("en", "ne"))
    return Response(
        buf.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": 'attachment; filename="cgd-xlsform-template.xlsx"',
            "Cache-Control": "public, max-age=86400",
        },
    )


@functools.lru_cache(maxsize=8)
def _perturbation(threshold: int) -> tuple[int, int]:
    """(largest change to a published count, smallest published count) in the
    perturbation table the cube uses at ``threshold``."""
    table = cube.make_ptable(threshold).filter(pl.col("pcv") >= threshold)
    largest = int(table.get_column("pvalue").abs().max() or 0)
    smallest = int((table.get_column("pcv") + table.get_column("pvalue")).min() or threshold)
    return largest, smallest


def protection_settings() -> dict[str, Any]:
    """What disclosure control is set to do, read from the code that does it: the
    :class:`~indexer.disclosure.DisclosureConfig` ingestion uses
    (``indexer.pipeline.disclosure_config``, without building the optional
    recogniser), the default and lowest cube threshold, the cube's perturbation
    table and its largest table, and the standard's narrowest age bands."""
    settings = dict(runtime().ctx.settings)
    ner = str(settings.get("DISCLOSURE_NER") or "").strip().lower()
    config = pipeline.disclosure_config({**settings, "DISCLOSURE_NER": ""})
    threshold = int(metadata.DEFAULT_CUBE_THRESHOLD)
    noise, smallest = _perturbation(threshold)
    first, last = people.FIVE_YEAR_BANDS[0], people.FIVE_YEAR_BANDS[-1]
    return {
        "k": config.effective_k(()),
        "k_sensitive": config.effective_k(("gbv",)),
        "l": config.l,
        "place_level": config.place_level,
        "date_level": config.date_level,
        "age_band_width": first[1] - first[0] + 1,
        "age_top": last[0],
        "rare_category_min": config.rare_category_min,
        "other_code": config.other_code,
        "max_suppression_share": config.max_suppression_share,
        "risk_threshold": config.risk_threshold,
        "threshold": threshold,
        "min_threshold": cube.MIN_THRESHOLD,
        "max_threshold": cube.MAX_THRESHOLD,
        "max_dims": cube.MAX_DIMS,
        "noise": noise,
        "smallest_count": smallest,
        "recogniser": ner == "presidio",
    }


def _level_label(level: str) -> str:
    return {
        "municipality": _("municipality"),
        "district": _("district"),
        "province": _("province"),
        "month": _("month and year"),
        "year": _("year"),
    }.get(level, level)


@bp.route("/guide/protection")
def protection():
    """How figures and people are protected: the method in plain language, with the settings."""
    lang = current_language()
    s = protection_settings()
    return render_template(
        "protection.html",
        s=s,
        place_level=_level_label(s["place_level"]),
        date_level=_level_label(s["date_level"]),
        sensitive=[t.get(lang) or t["en"] for t in metadata.SENSITIVE_TOPICS.values()],
    )
