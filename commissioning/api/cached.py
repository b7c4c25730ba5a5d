"""Read-only list answers kept rendered in the scorecard pages' cache.

A list's JSON (the paginated envelope, gzipped too, with its ETag) is kept under the
pages' version (`scorecard.cache`: bumped by every write the pages show and by every
recomputation), so that a cached answer costs one cache get. The key holds what decides
the answer and nothing else:

- the absolute URL (host, path and query string: the filters, the page and the
  pagination links built from it);
- the scope the caller may see (`scope`: e.g. the sorted ids of the systems the user
  holds a role in). Users who may see the same rows share the entry; a user who may
  see other rows never meets it. The scope is asked of the database on every request,
  so a role granted or taken away counts at once.

Authentication, the token's scope, throttling and the filters' validation still run on
every request (they run before the view). Query strings with parameters the list does
not know are answered afresh and not kept (they would only fill the cache), as are
answers asked with media type parameters (`Accept: application/json; indent=4`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from scorecard.cache import cached

GZIP_ACCEPTED = re.compile(r"\bgzip\b")  # as Django's GZipMiddleware
# Every list knows these besides its filters.
PAGE_PARAMS = frozenset({"page", "page_size", "format"})


@dataclass(frozen=True)
class RenderedJson:
    """A JSON answer as served: the body, gzipped too, its ETag and (where known) when
    its data last changed. Kept whole in the pages' cache: a cached answer is one get."""

    body: bytes
    gzipped: bytes  # b"" when gzip would not make it shorter
    etag: str
    last_modified: datetime | None = None


def render_json(data, last_modified: datetime | None = None) -> RenderedJson:
    body = JSONRenderer().render(data)
    # Django's own gzip (as gzip_page would), without its random padding: the API's
    # answers hold no secret for a BREACH-style attack to find. Kept if it is shorter.
    gzipped = compress_string(body)
    return RenderedJson(
        body=body,
        gzipped=gzipped if len(gzipped) < len(body) else b"",
        etag='"' + hashlib.sha256(body).hexdigest() + '"',
        last_modified=last_modified,
    )


def json_response(request, page: RenderedJson) -> HttpResponse:
    """The answer, gzipped when the client takes it (with a weak ETag, as gzip_page
    marks a compressed answer; the conditional GET accepts either)."""
    if page.gzipped and GZIP_ACCEPTED.search(
        request.META.get("HTTP_ACCEPT_ENCODING", "")
    ):
        response = HttpResponse(page.gzipped, content_type="application/json")
        response["Content-Encoding"] = "gzip"
        response["ETag"] = "W/" + page.etag
    else:
        response = HttpResponse(page.body, content_type="application/json")
        response["ETag"] = page.etag
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


def ids_of(queryset) -> list[int]:
    """The sorted ids of what `queryset` (a visibility rule) lets through: the scope."""
    return sorted(set(queryset.order_by().values_list("pk", flat=True)))


@cache
def filter_names(serializer_class) -> frozenset[str]:
    """The query parameters a filter serializer reads (worked out once)."""
    return frozenset(serializer_class().fields)


def cached_list(
    request,
    name: str,
    scope: Iterable,
    compute: Callable[[], dict],
    *,
    params: Iterable[str],
) -> HttpResponse | Response:
    """`compute()`'s JSON for this URL and this scope, from the cache when it holds it.
    `params`: the list's own filters (beside the page parameters)."""
    if request.accepted_media_type != JSONRenderer.media_type:
        return Response(compute())
    known = PAGE_PARAMS.union(params)
    if any(key not in known for key in request.query_params):
        return json_response(request, render_json(compute()))
    page = cached(
        (
            "api-list",
            name,
            ",".join(str(s) for s in scope),
            request.build_absolute_uri(),
        ),
        lambda: render_json(compute()),
    )
    return json_response(request, page)
