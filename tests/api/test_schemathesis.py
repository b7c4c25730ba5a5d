"""Schemathesis over every operation of the live schema, authenticated with a write-scope
token of an analyst: no server errors, every response as the schema says (body and status
code). Examples are capped to keep the run to a few minutes."""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from commissioning.api.auth import api_token_create
from strategies.models import ApiToken

MAX_EXAMPLES = 20


@pytest.fixture
def _keep_the_test_connection():
    """The WSGI handler closes the database connection after each request, as a server
    should; the test's transaction lives on that connection (Django's test client
    disconnects the same signal handlers for the same reason)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_token(analyst, settings, tmp_path, _keep_the_test_connection):
    settings.MEDIA_ROOT = tmp_path
    _row, token = api_token_create(
        user=analyst, name="fuzz", scope=ApiToken.Scope.WRITE
    )
    return token


# Loaded from the running app (the schema view needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms(case, api_token):
    # The token fixture brings the database; the seed data is loaded once per session.
    case.call_and_validate(
        # The WSGI transport does not undo gzip as an HTTP client would.
        headers={"Authorization": f"Bearer {api_token}", "Accept-Encoding": "identity"},
        checks=[
            not_a_server_error,
            response_schema_conformance,
            status_code_conformance,
        ],
    )


def test_the_schema_covers_every_endpoint_with_a_description_and_example(client):
    document = client.get("/api/schema/?format=json").json()
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) >= 20
    for path, method, op in operations:
        assert op.get("description"), (path, method)
        examples = [
            content
            for response in op["responses"].values()
            for content in response.get("content", {}).values()
            if content.get("examples")
        ]
        assert examples, (path, method)
    assert "bearerAuth" in document["components"]["securitySchemes"]


def test_docs_are_served_locally(client):
    """Swagger UI and Redoc from this site's static files: no CDN, no web fonts from
    elsewhere, no inline script (the content security policy allows 'self' only)."""
    for url in ("/api/docs/", "/api/redoc/"):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "/static/drf_spectacular_sidecar/" in page or "/api/redoc/redoc-" in page
        for outside in ("https://", "http://", "//fonts.", "cdn."):
            assert outside not in page, (url, outside)
        assert "<script>" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.content
    # Redoc's bundle is served with its outside logo taken out (commissioning/api/redoc.py).
    page = client.get("/api/redoc/").content.decode()
    bundle = client.get(page.split('<script src="')[1].split('"')[0])
    assert bundle.status_code == 200
    assert b"cdn.redoc.ly" not in bundle.content
    assert b"redoc" in bundle.content.lower()
