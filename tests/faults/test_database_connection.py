"""Fault 3: the database drops the web process's connection; the next request succeeds.

The web server is gunicorn with the production configuration, keeping its connection
between requests (CONN_MAX_AGE=60, as a busy site would): that kept connection is the one
the database drops (pg_terminate_backend, as a restart or a failover would)."""

import json
import urllib.error
import urllib.request

import pytest
from django.db import connection

from commissioning.api.auth import api_token_create
from tests.conftest import make_user
from tests.faults.helpers import WEB_PORTS, free_port, wait_for

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def _get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 (our own server, http://127.0.0.1)
        url, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _server_backends() -> set[int]:
    """The database sessions of this test database other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {row[0] for row in cursor.fetchall()}


def _terminate(pids: set[int]) -> None:
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_the_request_after_the_connection_is_dropped_succeeds(processes):
    user = make_user("api-reader", is_staff=False)
    _row, token = api_token_create(user=user, name="faults")
    port = free_port(WEB_PORTS)
    server = processes.web(port, CONN_MAX_AGE="60")
    url = f"http://127.0.0.1:{port}/api/v1/systems/"

    def first_answer():
        if server.poll() is not None:
            pytest.fail("gunicorn exited")
        try:
            return _get(url, token)
        except OSError:
            return None  # not listening yet

    status, body = wait_for(first_answer, timeout=45, interval=0.2, what="gunicorn")
    assert status == 200, body
    kept = _server_backends()
    assert kept, "the server should keep its connection between requests"

    _terminate(kept)
    wait_for(
        lambda: not (_server_backends() & kept),
        timeout=10,
        what="the terminated sessions to end",
    )

    status, body = _get(url, token)
    assert status == 200, body
    assert (
        json.loads(body)["count"] == 0
    )  # no system: the answer came from the database
    assert _server_backends() - kept, "the server should have connected again"
    assert _get(url, token)[0] == 200
