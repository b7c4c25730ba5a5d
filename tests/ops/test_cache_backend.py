"""The Redis page cache the site can live without (commissioning/cache_backends.py): an
unreachable Redis is an empty cache, with one warning; after a failure it rests a few
seconds before trying again; settings choose it for a redis:// CACHE_URL; pages and API
reads answer with the cache gone."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from commissioning import cache_backends
from commissioning.api.auth import api_token_create
from commissioning.cache_backends import ResilientRedisCache
from tests.faults.helpers import (
    REDIS_PORTS,
    RedisServer,
    free_port,
    have_redis_server,
)

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch):
    monkeypatch.setattr(cache_backends, "_down_until", {})
    monkeypatch.setattr(cache_backends, "_warned_at", {})


def test_an_unreachable_redis_is_an_empty_cache_with_one_warning(caplog):
    caplog.set_level(logging.WARNING, logger="commissioning.cache_backends")
    cache = ResilientRedisCache(UNREACHABLE, {})

    assert cache.get("page") is None
    assert cache.get("page", "default") == "default"
    assert cache.get_or_set("page", lambda: "computed") == "computed"
    assert cache.set("page", "value") is None
    assert cache.add("page", "value") is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("page") is False
    assert cache.touch("page") is False
    assert cache.delete("page") is False
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.delete_many(["a", "b"]) is None
    with pytest.raises(ValueError, match="not found"):  # as for a key not there
        cache.incr("version")

    warnings = [r for r in caplog.records if r.name == "commissioning.cache_backends"]
    assert [r.getMessage() for r in warnings] == [
        "The cache (Redis) is unreachable (ConnectionError); carrying on without it"
    ]


def test_connections_time_out_quickly_unless_configured():
    cache = ResilientRedisCache(UNREACHABLE, {})
    configured = ResilientRedisCache(
        UNREACHABLE, {"OPTIONS": {"socket_connect_timeout": 3}}
    )

    assert cache._cache._pool_options["socket_connect_timeout"] == (
        cache_backends.SOCKET_CONNECT_TIMEOUT
    )
    assert cache._cache._pool_options["socket_timeout"] == cache_backends.SOCKET_TIMEOUT
    assert configured._cache._pool_options["socket_connect_timeout"] == 3


@pytest.mark.skipif(not have_redis_server(), reason="needs redis-server")
def test_after_a_failure_it_rests_then_uses_redis_again(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(cache_backends, "_clock", lambda: now[0])
    server = RedisServer(free_port(REDIS_PORTS))
    cache = ResilientRedisCache(server.url(0), {})

    assert cache.get("page") is None  # nothing listening yet: a failure
    server.start()
    try:
        now[0] += cache_backends.RETRY_AFTER / 2
        cache.set("page", "value")  # resting: Redis is not tried
        assert cache.get("page") is None

        now[0] += cache_backends.RETRY_AFTER
        cache.set("page", "value")
        assert cache.get("page") == "value"
        cache.set("version", 1)
        assert cache.incr("version") == 2
        assert cache.delete("page") is True
    finally:
        for pool in cache._cache._pools.values():
            pool.disconnect()
        server.stop()


def test_settings_use_it_for_a_redis_cache_url():
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}},
        "CACHE_URL": "redis://127.0.0.1:1/1",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c",
         "from django.conf import settings; "
         "print(settings.CACHES['default']['BACKEND'])"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "commissioning.cache_backends.ResilientRedisCache"
    )


def test_pages_and_api_reads_answer_with_the_cache_unreachable(
    client, settings, viewer, plymouth
):
    settings.CACHES = {
        "default": {
            "BACKEND": "commissioning.cache_backends.ResilientRedisCache",
            "LOCATION": UNREACHABLE,
        }
    }
    strategy = plymouth.strategies.order_by("pk").first().slug
    _row, token = api_token_create(user=viewer, name="cache gone")
    client.force_login(viewer)

    assert client.get("/scorecard/plymouth/").status_code == 200
    assert client.get(f"/scorecard/plymouth/{strategy}/").status_code == 200
    for _ in range(3):  # the throttle has nothing to count in, and lets calls through
        response = client.get(
            f"/api/v1/scorecard/plymouth/{strategy}/",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 200, response.content
