"""Long work sent to Celery after a commit (commissioning/background.py): with the broker
up, the task is sent and not run here; with the broker unreachable, it runs in a
background thread of the web process instead, and a warning says so."""

import json
import logging
import threading

import pytest
import redis
from celery import shared_task

from commissioning import background
from tests.faults.helpers import (
    REDIS_PORTS,
    RedisServer,
    celery_broker,
    free_port,
    have_redis_server,
)

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1
RAN: list[tuple[str, str]] = []


@shared_task(name="tests.ops.record_where_it_ran")
def record_where_it_ran(token: str) -> None:
    RAN.append((token, threading.current_thread().name))


@pytest.fixture(autouse=True)
def _nothing_ran_yet():
    RAN.clear()
    yield
    RAN.clear()


def _join(name: str) -> None:
    for thread in threading.enumerate():
        if thread.name == name:
            thread.join(timeout=30)


def test_with_the_broker_unreachable_the_task_runs_in_a_thread_here(
    db, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.WARNING, logger="commissioning.background")
    with (
        celery_broker(UNREACHABLE),
        django_capture_on_commit_callbacks(execute=True),
    ):
        background.run_after_commit(record_where_it_ran, "upload-7", mode="celery")
    _join("tests.ops.record_where_it_ran-upload-7")

    assert RAN == [("upload-7", "tests.ops.record_where_it_ran-upload-7")]
    assert (
        "The task broker is unreachable (OperationalError: Error 111 connecting to "
        "127.0.0.1:1. Connection refused.); running tests.ops.record_where_it_ran in "
        "the web process"
    ) in caplog.text


@pytest.mark.skipif(not have_redis_server(), reason="needs redis-server")
def test_with_the_broker_up_the_task_is_sent_and_not_run_here(
    db, django_capture_on_commit_callbacks
):
    server = RedisServer(free_port(REDIS_PORTS))
    server.start()
    client = redis.Redis(port=server.port)
    try:
        with (
            celery_broker(server.url(0)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            background.run_after_commit(record_where_it_ran, "upload-8", mode="celery")
        messages = client.lrange("celery", 0, -1)
    finally:
        client.close()
        server.stop()

    assert RAN == []
    assert len(messages) == 1
    headers = json.loads(messages[0])["headers"]
    assert headers["task"] == "tests.ops.record_where_it_ran"
    assert headers["argsrepr"] == "('upload-8',)"
