"""Open licences a dataset may be published under (all Open Definition conformant)."""

from __future__ import annotations

LICENCES: dict[str, dict[str, str]] = {
    "CC-BY-4.0": {
        "title": "Creative Commons Attribution 4.0 International",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    },
    "CC-BY-SA-4.0": {
        "title": "Creative Commons Attribution-ShareAlike 4.0 International",
        "url": "https://creativecommons.org/licenses/by-sa/4.0/",
    },
    "CC0-1.0": {
        "title": "Creative Commons CC0 1.0 Universal (public domain dedication)",
        "url": "https://creativecommons.org/publicdomain/zero/1.0/",
    },
    "ODbL-1.0": {
        "title": "Open Data Commons Open Database License 1.0",
        "url": "https://opendatacommons.org/licenses/odbl/1-0/",
    },
    "ODC-BY-1.0": {
        "title": "Open Data Commons Attribution License 1.0",
        "url": "https://opendatacommons.org/licenses/by/1-0/",
    },
    "PDDL-1.0": {
        "title": "Open Data Commons Public Domain Dedication and License 1.0",
        "url": "https://opendatacommons.org/licenses/pddl/1-0/",
    },
}

DEFAULT_LICENCE = "CC-BY-4.0"
