"""ETag and Last-Modified for GET answers, and 304 on If-None-Match/If-Modified-Since.

The ETag is the SHA-256 of the rendered body, so it changes exactly when the answer does;
Last-Modified is given where the view knows when its data last changed."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.utils.cache import get_conditional_response
from django.utils.http import http_date


def last_modified_header(moment: datetime) -> str:
    return http_date(moment.timestamp())


def conditional(request, response, last_modified: datetime | None):
    """Set the validators on a rendered 200 and answer 304 when the client has it."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if getattr(response, "streaming", False):
        return response
    if not response.has_header("ETag"):
        response["ETag"] = '"' + hashlib.sha256(response.content).hexdigest() + '"'
    timestamp = None
    if last_modified is not None and not response.has_header("Last-Modified"):
        response["Last-Modified"] = last_modified_header(last_modified)
        timestamp = int(last_modified.timestamp())
    not_modified = get_conditional_response(
        request, etag=response["ETag"], last_modified=timestamp, response=response
    )
    return not_modified
