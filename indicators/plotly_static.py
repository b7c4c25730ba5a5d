"""Plotly's JavaScript, served straight from the installed Python package.

The charts are drawn by the plotly.js bundled with the `plotly` package, so the figure
JSON built server-side and the script that draws it are always the same version, and no
page calls out to a CDN. It is served by a small view rather than through collectstatic,
whose Brotli compression of the 4.8 MB bundle (twice: plain and hashed names) slowed
every build (docs/adr/0003). The URL carries the version, so browsers keep it for a year;
the gzipped bytes (1.4 MB) are made once per process.
"""

from __future__ import annotations

import functools
from pathlib import Path

import plotly
from django.http import Http404
from django.views.decorators.http import require_GET

from commissioning.bundles import gzipped, javascript_response

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
PLOTLY_VERSION = plotly.__version__


@functools.cache
def plotly_js_bytes() -> tuple[bytes, bytes]:
    """The bundle as it is and gzipped (read and compressed once)."""
    return gzipped(PLOTLY_JS.read_bytes())


@require_GET
def plotly_js(request, version: str):
    if version != PLOTLY_VERSION:  # an old page's URL: it must not get another version
        raise Http404("No such plotly.js version.")
    return javascript_response(request, *plotly_js_bytes())
