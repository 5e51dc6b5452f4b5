"""``cgd worker`` runs at a lower CPU priority (CGD_WORKER_NICE), so readers win the CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _niceness(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of stat: nice


@pytest.mark.parametrize(("setting", "added"), [(None, 10), ("3", 3), ("0", 0)])
def test_the_worker_lowers_its_priority_as_configured(
    tmp_path, redis_url, rq_queue, setting, added
):
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to read a process's niceness")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CGD_")}
    env.update(
        CGD_INSTANCE_PATH=str(tmp_path / "instance"),
        CGD_REDIS_URL=redis_url,
        CGD_RQ_QUEUE=rq_queue,
        CGD_JOB_RUNNER="rq",
        CGD_SECRET_KEY="worker-priority-test",
    )
    if setting is not None:
        env["CGD_WORKER_NICE"] = setting
    base = os.nice(0)
    expected = min(19, base + added)
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "cgd"), "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        seen = base
        deadline = time.monotonic() + 60
        # the worker migrates the catalogue after lowering its priority: wait until it has
        while time.monotonic() < deadline and worker.poll() is None:
            seen = _niceness(worker.pid)
            if (tmp_path / "instance" / "catalog.sqlite3").exists():
                break
            time.sleep(0.1)
        assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
        assert _niceness(worker.pid) == expected, (seen, base)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
