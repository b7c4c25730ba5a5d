"""Errors as RFC 9457 problem details (`application/problem+json`).

Every error the API returns has `type`, `title`, `status`, `detail` and `instance`;
validation errors add `errors` (every field problem at once) and a return with problems
adds `problems` (every problem with sheet, row, column, value and code, as the page)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/api/problems/"

TITLES = {
    400: "The request is not valid",
    401: "Authentication needed",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported media type",
    422: "The return has problems",
    429: "Too many requests",
    500: "Server error",
}
TYPES = {
    400: "invalid-request",
    401: "not-authenticated",
    403: "permission-denied",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "return-has-problems",
    429: "throttled",
    500: "server-error",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PreviewOutOfDate(Conflict):
    default_code = "preview-out-of-date"


class InvalidReturn(exceptions.APIException):
    """A return with problems: nothing was written. Carries every problem."""

    status_code = 422
    default_code = "return-has-problems"

    def __init__(self, detail: str, *, problems: list[dict], upload: dict | None):
        super().__init__(detail)
        self.problems = problems
        self.upload = upload


def problem_body(
    type_slug: str,
    *,
    status_code: int,
    detail: str,
    instance: str,
    title: str | None = None,
    **extensions,
) -> dict:
    return {
        "type": PROBLEM_BASE + type_slug,
        "title": title or TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "instance": instance,
        **extensions,
    }


def _field_errors(data, prefix: str = "") -> list[dict]:
    """Flatten DRF's nested validation errors into [{field, code, message}]."""
    out: list[dict] = []
    if isinstance(data, dict):
        for key, value in data.items():
            name = key if key != "non_field_errors" else ""
            out.extend(_field_errors(value, f"{prefix}.{name}" if prefix else name))
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict | list):
                out.extend(_field_errors(item, prefix))
            else:
                out.append(
                    {
                        "field": prefix,
                        "code": getattr(item, "code", "invalid"),
                        "message": str(item),
                    }
                )
    else:
        out.append(
            {
                "field": prefix,
                "code": getattr(data, "code", "invalid"),
                "message": str(data),
            }
        )
    return out


def problem_exception_handler(exc, context):
    """DRF's handler, then its answer reshaped as a problem."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    instance = request.get_full_path() if request is not None else ""
    code = response.status_code
    extensions: dict = {}
    if isinstance(exc, exceptions.ValidationError):
        extensions["errors"] = _field_errors(exc.detail)
        detail = "; ".join(
            f"{e['field']}: {e['message']}" if e["field"] else e["message"]
            for e in extensions["errors"]
        )
        type_slug = TYPES[400]
    elif isinstance(exc, InvalidReturn):
        extensions["problems"] = exc.problems
        if exc.upload is not None:
            extensions["upload"] = exc.upload
        detail = str(exc.detail)
        type_slug = TYPES[422]
    else:
        raw = getattr(exc, "detail", "")
        detail = str(raw)
        type_slug = (
            getattr(exc, "default_code", "") if isinstance(exc, Conflict) else ""
        )
        type_slug = type_slug or TYPES.get(code, "error")
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extensions["retry_after_seconds"] = int(exc.wait)
    body = problem_body(
        type_slug, status_code=code, detail=detail, instance=instance, **extensions
    )
    return Response(
        body,
        status=code,
        headers=dict(response.items()),
        content_type=PROBLEM_MEDIA_TYPE,
    )
