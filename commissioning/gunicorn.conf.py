"""gunicorn settings for the web container (all overridable from the environment)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sized for 2 cores (benchmarks/load.py measures it and says why): the app is CPU-bound
# Python (the ORM, templates, DRF) with short waits on PostgreSQL. Processes give the
# parallelism (the GIL lets one thread a process run Python), one more than the cores
# so that a process waiting on the database leaves no core idle; two threads each let a
# quick page through beside a slow one, keep connections alive (sync workers cannot)
# and share the process's page cache. More threads only queue on the GIL; more
# processes cost memory (~250 MB each) and a cold page cache apiece.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# gthread (threads > 1 turn sync into gthread anyway); "sync" for one request a process.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never takes a container down. Not often:
# a new worker spends ~3 s of CPU importing (pandas, SciPy, Plotly) and starts with an
# empty page cache; at 2000 a busy worker (~15 requests/s) restarted every 2 minutes.
max_requests = 10000
max_requests_jitter = 1000
# The app writes its own JSON access log with the request id (commissioning/logging.py).
accesslog = None
errorlog = "-"
# The reverse proxy's address(es), whose X-Forwarded-* headers gunicorn may believe.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Import every view (Django loads the URLconf lazily, on a worker's first request)
    before the worker takes traffic, so that no user waits seconds for pandas, SciPy
    and Plotly to import."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the import is the point)
