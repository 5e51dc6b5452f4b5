"""gunicorn settings for the scaled deployment (environment variables override)."""

import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# The app logs every request as a JSON line (portal/views/ops.py).
accesslog = None
errorlog = "-"
# Behind the TLS proxy: trust its X-Forwarded-* headers only (set FORWARDED_ALLOW_IPS to it).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Recycle a worker after this many requests (a guard against slow leaks; 0 never recycles).
# Not every few thousand: a new worker spends ~2 s of CPU starting the app and begins with
# empty page caches (portal/page_cache.py), and at 5000 a worker serving 200 requests a
# second was replaced every ~25 s under load (bench/bench_load.py: 223 ms p95 at 5000,
# 162 ms with no recycling). The app's caches are bounded, so this is only a backstop.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "10000"))


def on_starting(server):
    """Start each run with an empty Prometheus multiprocess folder."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    """Forget the metrics files of a worker process that has exited."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
