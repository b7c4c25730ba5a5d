"""Health checks for load balancers and orchestrators.

/healthz: the process is alive and serving (touches nothing else: a slow database must not
get healthy web processes killed). /readyz: the database answers and, when a broker is
configured, so does the broker; otherwise 503 with a JSON body naming what failed.

HealthCheckMiddleware answers both paths before host validation, the HTTPS redirect and
sessions, so probes work over plain HTTP on the container's own address.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connections
from django.http import JsonResponse

log = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0
HEALTH_PATHS = {"/healthz", "/readyz"}


def _no_store(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "no-store"
    return response


def _database_problem() -> str | None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not ready"; the kind is reported
        log.warning("readiness: database unreachable", exc_info=True)
        return type(exc).__name__
    return None


def _broker_problem() -> str | None:
    broker_url = getattr(settings, "CELERY_BROKER_URL", None)
    if not broker_url:
        return None
    from kombu import Connection

    try:
        with Connection(broker_url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:  # kombu raises the transport's own errors
        log.warning("readiness: broker unreachable", exc_info=True)
        return type(exc).__name__
    return None


def healthz(request):
    return _no_store(JsonResponse({"status": "ok"}))


def readyz(request):
    checks = {"database": _database_problem()}
    if getattr(settings, "CELERY_BROKER_URL", None):
        checks["broker"] = _broker_problem()
    failed = sorted(name for name, problem in checks.items() if problem)
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {
            name: ("ok" if problem is None else f"unreachable ({problem})")
            for name, problem in checks.items()
        },
    }
    if failed:
        body["failed"] = failed
    return _no_store(JsonResponse(body, status=503 if failed else 200))


class HealthCheckMiddleware:
    """Placed just after the request id: probes are answered before anything that could
    refuse them (ALLOWED_HOSTS, SECURE_SSL_REDIRECT, login)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in {"GET", "HEAD"} and request.path in HEALTH_PATHS:
            return healthz(request) if request.path == "/healthz" else readyz(request)
        return self.get_response(request)
