"""A child ingest process for the crash tests: indexes a version, then waits to be killed.

Usage: python -m tests.conformance.ingest_child '<json: backend, options, dataset, version, rows, stage>'
stage "after_index": index the version, print "indexed", sleep (killed before activation).
stage "during_index": print "starting", then index a large version (killed mid-write).
"""

from __future__ import annotations

import json
import sys
import time

from indexer.search import get_backend
from tests.conformance.conformance_data import COLUMNS, cube_for, survey


def main() -> None:
    spec = json.loads(sys.argv[1])
    backend = get_backend(spec["backend"], **spec["options"])
    df = survey(spec["rows"], seed=2, tag=spec["version"])
    cells = cube_for(df, [("sex",)])
    if spec["stage"] == "during_index":
        print("starting", flush=True)
    backend.index_version(spec["dataset"], spec["version"], df, cells, COLUMNS)
    print("indexed", flush=True)
    time.sleep(120)
    backend.activate_version(spec["dataset"], spec["version"])  # never reached: killed first


if __name__ == "__main__":
    main()
