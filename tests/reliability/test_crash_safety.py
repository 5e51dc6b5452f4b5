"""kill -9 of the worker in the middle of ingest and publish: what was public stays public,
unchanged, and the job is resumed or failed, never half-applied (20 rounds: bench/bench_crash.py)."""

from __future__ import annotations

import random

from tests.reliability.crash import crash_round, make_world


def test_killing_the_worker_during_ingest_and_publish_never_changes_or_mixes_what_is_public(
    tmp_path,
):
    world = make_world(tmp_path, rows=1200, finish_in_process=True)
    rng = random.Random(20261201)
    try:
        results = [
            crash_round(world, kind, rng) for kind in ("ingest", "publish", "ingest", "publish")
        ]
    finally:
        world.runtime.close()
    assert [r.final_status for r in results] == ["succeeded"] * 4, results
    mid_job = [r for r in results if r.after_kill_status == "running"]
    assert len(mid_job) >= 2, results  # most kills land while the worker holds the job
    assert all(r.recovery == "requeued" for r in mid_job), results
    assert [r.public for r in results] == ["unchanged", "switched", "unchanged", "switched"]
