"""Helpers for tests that start the portal as a real server process."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request

import pytest


def free_port() -> int:
    """A local TCP port free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(proc: subprocess.Popen, base: str, what: str, *, timeout: float = 60) -> None:
    """Wait until ``base``/healthz answers 200; fail with the process's output if it exits
    (or with none, if it is still running) before ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as res:
                assert res.status == 200
                return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(
                    f"{what} did not start: "
                    + (proc.stdout.read() if proc.poll() is not None and proc.stdout else "")
                )
            time.sleep(0.3)
