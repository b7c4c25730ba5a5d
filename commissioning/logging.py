"""Structured logs: one JSON object per line, each carrying the id of the request (or of the
Celery task's originating request) it belongs to.

The request id comes from a sane X-Request-ID header (a load balancer's or a caller's), or is
generated; it is echoed in the response's X-Request-ID header, travels with every Celery task
queued during the request (as a message header) and is restored in the worker, so one
upload can be followed from the browser to the recomputation it started.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import traceback
import uuid
from datetime import UTC, datetime

REQUEST_ID_HEADER = "X-Request-ID"
CELERY_HEADER = "x_request_id"
# Letters, digits and . _ - only, at most 64 of them: anything else (spaces, newlines, a
# megabyte of text) could forge or flood log lines, so it is replaced by a fresh id.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default="-"
)

access_log = logging.getLogger("commissioning.request")
# Probes every few seconds would drown the access log.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})

# Attributes every LogRecord has; anything else was passed in `extra` and is logged too.
# (`request` is the HttpRequest django.request passes: its id is logged, not the object.)
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__
) | {"message", "asctime", "request_id", "request"}


def current_request_id() -> str:
    return _request_id.get()


def sane_request_id(candidate: str | None) -> str:
    """The caller's id when it is safe to log, otherwise a new one."""
    if candidate and SANE_REQUEST_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


def bind_request_id(request_id: str) -> contextvars.Token:
    return _request_id.set(request_id)


def unbind_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (handlers use it in their format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # django.request logs errors after the middleware has returned, but passes
            # the request along.
            request = getattr(record, "request", None)
            record.request_id = (
                getattr(request, "request_id", None) or _request_id.get()
            )
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id,
    the `extra` fields given to the call, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", _request_id.get()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class RequestIdMiddleware:
    """First in the middleware: binds the request id for everything below it, echoes it in
    the response and writes one access-log line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = sane_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = bind_request_id(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if request.path in QUIET_PATHS:
                return response
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            unbind_request_id(token)


def connect_celery_signals() -> None:
    """Carry the request id from the web process into the tasks it queues."""
    from celery import signals

    @signals.before_task_publish.connect(weak=False)
    def _stamp_request_id(headers=None, **_kwargs):
        if headers is not None and CELERY_HEADER not in headers:
            headers[CELERY_HEADER] = _request_id.get()

    @signals.task_prerun.connect(weak=False)
    def _bind_task_request_id(task=None, **_kwargs):
        # Eager tasks run inside the request and keep its id; queued ones bring it along.
        incoming = getattr(task.request, CELERY_HEADER, None) if task else None
        if incoming:
            task.request._request_id_token = bind_request_id(sane_request_id(incoming))

    @signals.task_postrun.connect(weak=False)
    def _unbind_task_request_id(task=None, **_kwargs):
        token = getattr(task.request, "_request_id_token", None) if task else None
        if token is not None:
            unbind_request_id(token)
            task.request._request_id_token = None
