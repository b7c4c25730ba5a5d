"""Plotly's JavaScript comes from the installed Python package, never from a CDN:
served by version, gzipped when the browser accepts it, cached for a year."""

from __future__ import annotations

import gzip

import plotly

from indicators.plotly_static import PLOTLY_JS, PLOTLY_VERSION

URL = f"/indicators/assets/plotly-{PLOTLY_VERSION}.min.js"


def test_the_bundle_is_the_packages_own_and_cached_for_a_year(client):
    response = client.get(URL, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(response.content) == PLOTLY_JS.read_bytes()

    plain = client.get(URL, HTTP_ACCEPT_ENCODING="identity")
    assert plain.content == PLOTLY_JS.read_bytes()
    assert not plain.has_header("Content-Encoding")


def test_other_versions_and_methods_are_refused(client):
    assert plotly.__version__ == PLOTLY_VERSION
    assert client.get("/indicators/assets/plotly-1.0.0.min.js").status_code == 404
    assert client.post(URL).status_code == 405


def test_the_indicator_page_loads_it_from_here(client, viewer, plymouth):
    indicator = plymouth.indicators.filter(observations__isnull=False).first()
    client.force_login(viewer)
    html = client.get(f"/indicators/{indicator.pk}/").content.decode()
    assert f'<script src="{URL}" defer></script>' in html
