"""Large JavaScript bundles that come inside Python packages (plotly.js, Redoc), served
by a small view rather than through collectstatic: read and gzipped once per process,
cached by browsers for a year under a versioned URL."""

from __future__ import annotations

import gzip

from django.http import HttpResponse

ONE_YEAR = 365 * 24 * 60 * 60


def gzipped(data: bytes) -> tuple[bytes, bytes]:
    return data, gzip.compress(data, compresslevel=6, mtime=0)


def javascript_response(request, plain: bytes, packed: bytes) -> HttpResponse:
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(
        packed if use_gzip else plain, content_type="text/javascript; charset=utf-8"
    )
    if use_gzip:
        response["Content-Encoding"] = "gzip"
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response
