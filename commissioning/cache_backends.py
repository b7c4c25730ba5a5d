"""A Redis cache that the site can live without.

The cache only speeds pages up (scorecard/cache.py) and counts API calls (DRF's
throttles): when Redis cannot be reached, Django's RedisCache raises on every call and
every page fails with it. `ResilientRedisCache` treats an unreachable Redis as an empty
cache instead: a read is a miss, a write does nothing, and a warning is logged (at most
once every `WARN_EVERY` seconds). Connections time out quickly, and after a failure the
cache is not tried again for `RETRY_AFTER` seconds, so a Redis that does not answer
costs a page one short timeout, not one per cache call. While Redis is away the pages
are computed afresh and API throttling lets calls through (it has nothing to count in).
"""

from __future__ import annotations

import functools
import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Connection timeouts, in seconds (OPTIONS in CACHES overrides them).
SOCKET_CONNECT_TIMEOUT = 0.5
SOCKET_TIMEOUT = 1.0
RETRY_AFTER = 5.0  # seconds without trying Redis after a failure
WARN_EVERY = 60.0  # seconds between two warnings about the same server

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

_state_lock = threading.Lock()
_down_until: dict[str, float] = {}  # per server: when to try it again
_warned_at: dict[str, float] = {}


class CacheUnavailable(Exception):
    """Redis did not answer (or is resting after a failure)."""


def _clock() -> float:
    return time.monotonic()


def _resilient(on_failure):
    """Run the RedisCache operation; if Redis cannot be reached, return what
    `on_failure(self, *args, **kwargs)` gives (a miss or a no-op) instead."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                self._check_available()
                return method(self, *args, **kwargs)
            except (CacheUnavailable, *UNREACHABLE) as exc:
                self._failed(exc)
                return on_failure(self, *args, **kwargs)

        return wrapper

    return decorate


def _none(self, *args, **kwargs):
    return None


def _false(self, *args, **kwargs):
    return False


def _default(self, key, default=None, *args, **kwargs):
    return default


def _empty_dict(self, *args, **kwargs):
    return {}


def _all_keys_failed(self, data, *args, **kwargs):
    return list(data)


def _missing(self, key, *args, **kwargs):
    # incr()'s answer for a key that is not there: what a cache without the key does.
    raise ValueError(f"Key '{key}' not found (the cache is unreachable).")


class ResilientRedisCache(RedisCache):
    """Django's RedisCache, but an unreachable Redis is an empty cache, not an error."""

    def __init__(self, server, params):
        options = {
            "socket_connect_timeout": SOCKET_CONNECT_TIMEOUT,
            "socket_timeout": SOCKET_TIMEOUT,
            **params.get("OPTIONS", {}),
        }
        super().__init__(server, {**params, "OPTIONS": options})
        self._server_name = ",".join(self._servers)

    def _check_available(self) -> None:
        if _down_until.get(self._server_name, 0.0) > _clock():
            raise CacheUnavailable("resting after a failure")

    def _failed(self, exc: Exception) -> None:
        now = _clock()
        with _state_lock:
            if not isinstance(exc, CacheUnavailable):
                _down_until[self._server_name] = now + RETRY_AFTER
            last = _warned_at.get(self._server_name)
            if last is not None and now - last < WARN_EVERY:
                return
            _warned_at[self._server_name] = now
        logger.warning(
            "The cache (Redis) is unreachable (%s); carrying on without it",
            type(exc).__name__,
        )

    @_resilient(_false)
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return super().add(key, value, timeout, version)

    @_resilient(_default)
    def get(self, key, default=None, version=None):
        return super().get(key, default, version)

    @_resilient(_none)
    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return super().set(key, value, timeout, version)

    @_resilient(_false)
    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return super().touch(key, timeout, version)

    @_resilient(_false)
    def delete(self, key, version=None):
        return super().delete(key, version)

    @_resilient(_empty_dict)
    def get_many(self, keys, version=None):
        return super().get_many(keys, version)

    @_resilient(_false)
    def has_key(self, key, version=None):
        return super().has_key(key, version)

    @_resilient(_missing)
    def incr(self, key, delta=1, version=None):
        return super().incr(key, delta, version)

    @_resilient(_all_keys_failed)
    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return super().set_many(data, timeout, version)

    @_resilient(_none)
    def delete_many(self, keys, version=None):
        return super().delete_many(keys, version)

    @_resilient(_false)
    def clear(self):
        return super().clear()
