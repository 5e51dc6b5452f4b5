"""Every string of the portal has a Nepali translation, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal.i18n import TRANSLATIONS_DIR, compile_catalogues, digits, number

PORTAL = Path(__file__).resolve().parents[2] / "portal"
PLACEHOLDER = re.compile(r"%\(\w+\)s")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def _extracted() -> set:
    method_map = [
        ("**.py", "python"),
        ("templates/**.html", "jinja2"),
    ]
    ids = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(PORTAL), method_map, keywords=KEYWORDS
    ):
        ids.add(message if isinstance(message, str) else tuple(message))
    return {m for m in ids if m and m != ("",)}


def _nepali():
    with open(TRANSLATIONS_DIR / "ne" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale="ne")


def test_every_portal_string_has_a_nepali_translation_with_the_same_placeholders():
    catalogue = _nepali()
    missing, broken = [], []
    for msgid in sorted(_extracted(), key=str):
        entry = catalogue.get(msgid)
        strings = entry.string if entry is not None else None
        strings = (strings,) if isinstance(strings, str) else tuple(strings or ())
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(msgid)
            continue
        wanted = set(PLACEHOLDER.findall(msgid if isinstance(msgid, str) else msgid[0]))
        if any(set(PLACEHOLDER.findall(s)) != wanted for s in strings):
            broken.append(msgid)
    assert not missing, f"untranslated (run pybabel extract, then translate): {missing[:10]}"
    assert not broken, f"placeholders differ: {broken[:10]}"


def test_catalogues_compile_from_a_fresh_clone(tmp_path):
    import shutil

    shutil.copytree(TRANSLATIONS_DIR, tmp_path / "t")
    for mo in (tmp_path / "t").rglob("*.mo"):
        mo.unlink()
    written = compile_catalogues(tmp_path / "t")
    assert [p.name for p in written] == ["messages.mo"]
    assert compile_catalogues(tmp_path / "t") == []  # up to date: nothing rewritten


def test_nepali_numbers_use_devanagari_digits_and_lakh_grouping(app):
    with app.test_request_context("/?lang=ne"):
        assert number(1234567) == "१२,३४,५६७"
        assert digits("2025") == "२०२५"
    with app.test_request_context("/?lang=en"):
        assert number(1234567) == "1,234,567"


def test_publisher_text_is_marked_with_its_own_language():
    from portal.i18n import script_lang

    assert script_lang("Ward selection was purposive.") == "en"
    assert script_lang("वडा छनोट उद्देश्यमूलक थियो।") == "ne"
    assert script_lang(None) == "en"
