"""Languages of the portal: English and Nepali (Flask-Babel).

The language comes from ``?lang=`` (kept in a cookie so it sticks), then the
cookie, then the browser's Accept-Language. Numbers and dates are formatted
for the locale, with Devanagari digits in Nepali. Catalogues live in
``portal/translations``; the ``.mo`` files are compiled from the ``.po``
files when the app starts if they are missing or older (they are not in git).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request
from flask_babel import Babel, format_date, format_decimal, format_percent, gettext

LANGUAGES: dict[str, str] = {"en": "English", "ne": "नेपाली"}
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
_DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")

babel = Babel()


def compile_catalogues(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Compile every ``messages.po`` whose ``.mo`` is missing or older; return those written."""
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo_path)  # atomic: concurrent app starts never read half a file
        written.append(mo_path)
    return written


def select_language() -> str:
    """The language of this request: ?lang=, then cookie, then Accept-Language."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        return wanted
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def current_language() -> str:
    if "cgd_lang" not in g:
        g.cgd_lang = select_language()
    return g.cgd_lang


def digits(text: Any, lang: str | None = None) -> str:
    """Text with ASCII digits written in the script of the language."""
    text = str(text)
    return text.translate(_DEVANAGARI) if (lang or current_language()) == "ne" else text


def number(value: Any, lang: str | None = None, *, decimals: int | None = None) -> str:
    """A number grouped for the locale (Nepali: lakh grouping and Devanagari digits)."""
    if value is None:
        return "–"
    lang = lang or current_language()
    fmt = None if decimals is None else "#,##0." + "0" * decimals if decimals else "#,##0"
    return digits(format_decimal(value, format=fmt), lang)


def percent(value: float | None, lang: str | None = None) -> str:
    if value is None:
        return "–"
    return digits(format_percent(value, format="#,##0%"), lang)


def date_text(value: Any, lang: str | None = None, fmt: str = "medium") -> str:
    """A date for the locale; accepts ISO strings, dates and datetimes."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = (
                datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value[:10])
            )
        except ValueError:
            return value
    return digits(format_date(value, format=fmt), lang)


def pick(texts: Mapping[str, str] | str | None, lang: str | None = None) -> str:
    """The text of a multilingual field in the chosen language, else English, else any."""
    if not texts:
        return ""
    if isinstance(texts, str):
        return texts
    lang = lang or current_language()
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


def script_lang(text: Any) -> str:
    """The language to mark publisher-written text with: Nepali if it is in Devanagari."""
    return "ne" if any("\u0900" <= ch <= "\u097f" for ch in str(text or "")) else "en"


def url_lang(lang: str) -> str:
    """The current URL with ``lang`` switched (keeps every other argument)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    from urllib.parse import urlencode

    return request.path + "?" + urlencode(args, doseq=True)


def init_app(app: Flask) -> None:
    """Bind Flask-Babel, compile catalogues, expose helpers to templates."""
    directory = TRANSLATIONS_DIR
    try:
        compile_catalogues()
    except OSError:
        # A read-only install: compile the catalogues into the instance folder instead.
        directory = Path(app.instance_path) / "translations"
        for po in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"):
            target = directory / po.relative_to(TRANSLATIONS_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists() or target.read_bytes() != po.read_bytes():
                target.write_bytes(po.read_bytes())
        compile_catalogues(directory)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(directory))
    babel.init_app(app, locale_selector=current_language)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES, current_language=current_language, url_lang=url_lang, pick=pick
    )
    app.jinja_env.filters.update(
        number=number,
        percent=percent,
        date_text=date_text,
        digits=digits,
        pick=pick,
        script_lang=script_lang,
    )

    @app.after_request
    def _remember_language(response):
        wanted = request.args.get("lang")
        if wanted in LANGUAGES and request.cookies.get(COOKIE) != wanted:
            response.set_cookie(
                COOKIE,
                wanted,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                httponly=True,
                secure=app.config.get("SESSION_COOKIE_SECURE", False),
            )
        vary = response.headers.get("Vary", "")
        if request.endpoint != "static" and "Cookie" not in vary:  # static files are one language
            response.headers["Vary"] = ", ".join(v for v in (vary, "Cookie, Accept-Language") if v)
        return response


__all__ = [
    "LANGUAGES",
    "babel",
    "compile_catalogues",
    "current_language",
    "date_text",
    "digits",
    "gettext",
    "init_app",
    "number",
    "percent",
    "pick",
]
