"""About and methodology guide pages, and the XLSForm template download."""

from __future__ import annotations

import io

from flask import Blueprint, Response, render_template

from schema.metadata import COLLECTION_METHODS, SELECTION_METHODS
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
