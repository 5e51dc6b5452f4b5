"""A job worker process for the crash tests: runs the queued jobs of a catalogue, then exits.

Usage: python -m tests.reliability.worker_child '<json config>'
Prints "claimed <job id> <kind>" when it holds a job (the parent kills it at a
random moment after that) and "done <job id> <status>" when the job ended.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    from catalog.services import jobs as job_service
    from indexer.jobs import execute, worker_name
    from indexer.runtime import build_runtime

    cfg = json.loads(sys.argv[1])
    rt = build_runtime(cfg, runner="inline", migrate=False)
    job_service.set_dispatcher(rt.db.engine, None)  # the parent hands jobs out
    print("ready", flush=True)
    while True:
        with rt.db.session() as session:
            job = job_service.claim_next(session, worker=worker_name())
            claimed = (job.id, job.kind) if job else None
        if claimed is None:
            break
        print("claimed", *claimed, flush=True)
        status = execute(rt.ctx, claimed[0], claimed=True)
        print("done", claimed[0], status, flush=True)
    rt.close()


if __name__ == "__main__":
    main()
