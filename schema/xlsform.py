"""The CGD XLSForm template: standard disaggregation questions in English and Nepali.

KoboToolbox and ODK load it as is, so CSOs collect data that maps onto the
standard's vocabularies from the start. :func:`xlsform_sheets` builds the
sheets as data (no I/O); :func:`build_xlsform` writes them as XLSX.
"""

from __future__ import annotations

import os
from typing import IO, Any

from .vocabularies import (
    CASTE_ETHNICITY,
    DISABILITY,
    DISTRICT,
    LANGUAGE,
    MIGRATION_STATUS,
    MUNICIPALITY,
    PROVINCE,
    SEX,
    SOGI,
    URBAN_RURAL,
    WG_ANSWERS,
    WG_DIMENSIONS,
    Dimension,
)

FORM_ID = "cgd_standard_template"
FORM_VERSION = "1"
_LANGUAGE_NAMES = {"en": "English", "ne": "Nepali"}

_YES_NO = [("yes", {"en": "Yes", "ne": "हो"}), ("no", {"en": "No", "ne": "होइन"})]


def _label_col(lang: str, kind: str = "label") -> str:
    return f"{kind}::{_LANGUAGE_NAMES.get(lang, lang)} ({lang})"


def _labels(
    texts: dict[str, str], languages: tuple[str, ...], kind: str = "label"
) -> dict[str, str]:
    return {_label_col(lang, kind): texts.get(lang) or texts.get("en", "") for lang in languages}


def _question(
    qtype: str, name: str, label: dict[str, str], languages: tuple[str, ...], **extra: Any
) -> dict:
    row = {"type": qtype, "name": name, **_labels(label, languages)}
    for kind in ("hint", "constraint_message"):
        if kind in extra:
            row.update(_labels(extra.pop(kind), languages, kind))
    row.update({k: v for k, v in extra.items() if v is not None})
    return row


def _choices(
    list_name: str, dim: Dimension, languages: tuple[str, ...], parent_col: str | None = None
) -> list[dict]:
    rows = []
    for c in dim.codes:
        row = {"list_name": list_name, "name": c.code, **_labels(dict(c.labels), languages)}
        if parent_col:
            row[parent_col] = c.parent or ""
        rows.append(row)
    return rows


def xlsform_sheets(
    languages: tuple[str, ...] = ("en", "ne"), *, include_sogi: bool = False
) -> dict[str, list[dict]]:
    """The ``survey``, ``choices`` and ``settings`` sheets as lists of row dicts.

    ``include_sogi`` adds the optional sexual orientation and gender identity
    question; it is off by default because it makes the dataset sensitive.
    """
    L = languages
    survey: list[dict] = [
        _question("start", "start", {"en": "Start time", "ne": "सुरु समय"}, L),
        _question("end", "end", {"en": "End time", "ne": "अन्त्य समय"}, L),
        _question(
            "select_one yes_no",
            "consent",
            {
                "en": "Has the participant given informed consent to take part?",
                "ne": "के सहभागीले सुसूचित सहमति दिनुभएको छ?",
            },
            L,
            required="yes",
        ),
        _question(
            "begin_group",
            "respondent",
            {"en": "About the respondent", "ne": "उत्तरदाताबारे"},
            L,
            relevant="${consent} = 'yes'",
        ),
        _question("select_one sex", "sex", {"en": "Sex", "ne": "लिङ्ग"}, L, required="yes"),
        _question(
            "integer",
            "age",
            {"en": "Age in completed years", "ne": "पूरा भएको उमेर (वर्षमा)"},
            L,
            required="yes",
            constraint=". >= 0 and . <= 120",
            constraint_message={
                "en": "Age must be between 0 and 120.",
                "ne": "उमेर ० देखि १२० बीच हुनुपर्छ।",
            },
        ),
        _question(
            "select_one caste_ethnicity",
            "caste_ethnicity",
            {"en": "Caste/ethnicity", "ne": "जात/जातीयता"},
            L,
        ),
        _question("select_one language", "language", {"en": "Mother tongue", "ne": "मातृभाषा"}, L),
        _question(
            "select_one migration_status",
            "migration_status",
            {"en": "Migration status", "ne": "बसाइँसराइ स्थिति"},
            L,
        ),
        _question("end_group", "", {}, L),
        _question(
            "begin_group", "place", {"en": "Place", "ne": "स्थान"}, L, relevant="${consent} = 'yes'"
        ),
        _question(
            "select_one province", "province", {"en": "Province", "ne": "प्रदेश"}, L, required="yes"
        ),
        _question(
            "select_one district",
            "district",
            {"en": "District", "ne": "जिल्ला"},
            L,
            required="yes",
            choice_filter="province = ${province}",
        ),
        _question(
            "select_one municipality",
            "municipality",
            {"en": "Municipality (if listed)", "ne": "स्थानीय तह (सूचीमा भए)"},
            L,
            choice_filter="district = ${district}",
        ),
        _question(
            "select_one urban_rural",
            "urban_rural",
            {"en": "Urban or rural municipality", "ne": "नगरपालिका वा गाउँपालिका"},
            L,
        ),
        _question("end_group", "", {}, L),
        _question(
            "begin_group",
            "wg_ss",
            {
                "en": "Washington Group Short Set on functioning",
                "ne": "कार्यक्षमतासम्बन्धी वासिङ्टन समूहका छोटा प्रश्न",
            },
            L,
            relevant="${consent} = 'yes' and ${age} >= 5",
        ),
    ]
    for dim in WG_DIMENSIONS:
        domain = dim.code.removeprefix("disability_")
        survey.append(
            _question("select_one wg_answer", f"wg_{domain}", dict(dim.labels), L, required="yes")
        )
    # The WG disability identifier, computed on the device so every upload carries it.
    severe = " or ".join(
        f"${{wg_{d.code.removeprefix('disability_')}}} = '{answer}'"
        for d in WG_DIMENSIONS
        for answer in ("a_lot_of_difficulty", "cannot_do_at_all")
    )
    survey.append(
        _question(
            "calculate",
            "disability",
            dict(DISABILITY.labels),
            L,
            calculation=f"if({severe}, 'with_disability', 'without_disability')",
        )
    )
    survey.append(_question("end_group", "", {}, L))
    if include_sogi:
        survey.append(
            _question(
                "select_one sogi",
                "sogi",
                dict(SOGI.labels),
                L,
                relevant="${consent} = 'yes' and ${age} >= 18",
            )
        )
    # Strip empty end_group labels (pyxform rejects none, but keep the sheet tidy).
    for row in survey:
        if row["type"] == "end_group":
            for lang in L:
                row.pop(_label_col(lang), None)

    choices: list[dict] = [
        {"list_name": "yes_no", "name": n, **_labels(lbl, L)} for n, lbl in _YES_NO
    ]
    choices += _choices("sex", SEX, L)
    choices += _choices("caste_ethnicity", CASTE_ETHNICITY, L)
    choices += _choices("language", LANGUAGE, L)
    choices += _choices("migration_status", MIGRATION_STATUS, L)
    choices += _choices("province", PROVINCE, L)
    choices += _choices("district", DISTRICT, L, parent_col="province")
    choices += _choices("municipality", MUNICIPALITY, L, parent_col="district")
    choices += _choices("urban_rural", URBAN_RURAL, L)
    choices += [
        {"list_name": "wg_answer", "name": c.code, **_labels(dict(c.labels), L)} for c in WG_ANSWERS
    ]
    if include_sogi:
        choices += _choices("sogi", SOGI, L)
    settings = [
        {
            "form_title": "CGD standard questions",
            "form_id": FORM_ID,
            "version": FORM_VERSION,
            "default_language": f"{_LANGUAGE_NAMES.get(L[0], L[0])} ({L[0]})",
        }
    ]
    return {"survey": survey, "choices": choices, "settings": settings}


def build_xlsform(
    path_or_buffer: str | os.PathLike | IO[bytes],
    languages: tuple[str, ...] = ("en", "ne"),
    *,
    include_sogi: bool = False,
) -> None:
    """Write the XLSForm template as an XLSX file (for ``cgd template``)."""
    from openpyxl import Workbook  # only this writer needs it

    wb = Workbook()
    wb.remove(wb.active)
    for sheet_name, rows in xlsform_sheets(tuple(languages), include_sogi=include_sogi).items():
        ws = wb.create_sheet(sheet_name)
        header: list[str] = []
        for row in rows:
            for key in row:
                if key not in header:
                    header.append(key)
        ws.append(header)
        for row in rows:
            ws.append([row.get(k, "") for k in header])
    wb.save(path_or_buffer)


__all__ = ["FORM_ID", "build_xlsform", "xlsform_sheets"]
