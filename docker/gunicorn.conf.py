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
max_requests = 5000
max_requests_jitter = 500


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
