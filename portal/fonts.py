"""The web subsets of the bundled Noto Sans Devanagari (``static/fonts/*.woff2``).

Pages need only the Devanagari block (Latin comes from the reader's system
font), so the web font is a WOFF2 subset of about 60 KB instead of a 230 KB
TTF; the PDF fact sheets and the charts use the full TTFs. The subsets are
committed; run ``python -m portal.fonts`` after changing the TTFs (needs
fontTools, installed with matplotlib, and the ``brotli`` module for WOFF2).
"""

from __future__ import annotations

from pathlib import Path

from portal.config import STATIC_DIR

FONT_DIR = STATIC_DIR / "fonts"
#: Devanagari, Vedic extensions, joiners, the dotted circle and the danda signs.
DEVANAGARI = "U+0900-097F,U+1CD0-1CFF,U+200C-200D,U+25CC,U+A8E0-A8FF"


def build_web_fonts(font_dir: Path = FONT_DIR) -> list[Path]:
    """Write ``NotoSansDevanagari-Regular.subset.woff2`` beside the bundled TTF."""
    from fontTools import subset

    written = []
    for ttf in sorted(font_dir.glob("NotoSansDevanagari-Regular.ttf")):  # bold is synthesised
        out = ttf.with_suffix(".subset.woff2")
        subset.main(
            [
                str(ttf),
                f"--unicodes={DEVANAGARI}",
                "--layout-features=*",
                "--flavor=woff2",
                f"--output-file={out}",
            ]
        )
        written.append(out)
    return written


if __name__ == "__main__":
    for path in build_web_fonts():
        print(path, path.stat().st_size)
