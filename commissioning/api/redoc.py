"""Redoc's standalone bundle from drf-spectacular-sidecar, served with one change: its
"API docs by Redocly" footer draws a logo from cdn.redoc.ly, which these networks block
and our content security policy forbids. With an empty source the image fails to load
and Redoc drops it, so the page makes no outside request."""

from __future__ import annotations

import functools
from pathlib import Path

import drf_spectacular_sidecar
from django.http import Http404
from django.urls import reverse
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView

from commissioning.bundles import gzipped, javascript_response

REDOC_JS = (
    Path(drf_spectacular_sidecar.__file__).resolve().parent
    / "static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
)
REDOC_LOGO = b'"https://cdn.redoc.ly/redoc/logo-mini.svg"'
VERSION = getattr(drf_spectacular_sidecar, "__version__", "sidecar")


@functools.cache
def redoc_js_bytes() -> tuple[bytes, bytes]:
    return gzipped(REDOC_JS.read_bytes().replace(REDOC_LOGO, b'""'))


@require_GET
def redoc_js(request, version: str):
    if version != VERSION:
        raise Http404("No such Redoc bundle.")
    return javascript_response(request, *redoc_js_bytes())


class LocalRedocView(SpectacularRedocView):
    """Redoc with the bundle above instead of the sidecar's file."""

    template_name = "api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.data["redoc_js"] = reverse("api:redoc-js", args=[VERSION])
        return response
