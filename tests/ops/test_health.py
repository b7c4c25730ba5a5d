"""/healthz says the process is alive without touching anything; /readyz checks the database
and the broker and names what failed with a 503."""

import json
from unittest import mock

import pytest
from django.db import connection

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_healthz_is_alive_without_the_database(client):
    """No db fixture: pytest-django makes any database access here an error."""
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_checks_the_database(client, db, settings):
    settings.CELERY_BROKER_URL = None

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_names_an_unreachable_broker(client, db, settings):
    settings.CELERY_BROKER_URL = UNREACHABLE_BROKER

    response = client.get("/readyz")

    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "unavailable"
    assert body["failed"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unreachable")
    assert UNREACHABLE_BROKER not in response.content.decode()  # no address leaked


def test_readyz_names_a_failed_database(client, db, settings):
    settings.CELERY_BROKER_URL = None

    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    with mock.patch.object(connection, "cursor", broken_cursor):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert response.json()["checks"]["database"] == "unreachable (OperationalError)"


@pytest.mark.celery_worker
def test_readyz_reaches_the_configured_redis(client, db, settings):
    import os

    settings.CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]

    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_probes_work_on_any_host_and_over_plain_http(client, db, settings):
    """Orchestrators probe the container's own address over HTTP: neither ALLOWED_HOSTS
    nor the HTTPS redirect may turn the probe away."""
    settings.ALLOWED_HOSTS = ["scorecard.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    settings.CELERY_BROKER_URL = None

    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    # Everything else still gets both protections.
    assert client.get("/", HTTP_HOST="10.1.2.3:8000").status_code == 400
    assert client.get("/", HTTP_HOST="scorecard.example.org").status_code == 301


def test_the_probe_paths_are_in_the_url_configuration():
    from django.urls import resolve

    assert resolve("/healthz").url_name == "healthz"
    assert resolve("/readyz").url_name == "readyz"
