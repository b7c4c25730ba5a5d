"""Fixtures of the fault tests: a Redis server of the test's own, and the processes a
test starts (workers, a web server), all stopped when the test ends."""

from collections.abc import Iterator

import pytest

from tests.faults.helpers import (
    REDIS_PORTS,
    Processes,
    RedisServer,
    free_port,
    have_redis_server,
)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    if not have_redis_server():
        pytest.fail("redis-server is not installed (the fault tests start their own)")
    server = RedisServer(free_port(REDIS_PORTS))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def processes(transactional_db) -> Iterator[Processes]:
    """Stopped before the test database is flushed (it depends on transactional_db)."""
    started = Processes()
    try:
        yield started
    finally:
        started.stop_all()
