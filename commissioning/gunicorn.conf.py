"""gunicorn settings for the web container (all overridable from the environment)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# 2-4 per core is gunicorn's advice; pages wait on PostgreSQL, so threads help too.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never takes a container down.
max_requests = 2000
max_requests_jitter = 200
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
