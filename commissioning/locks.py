"""PostgreSQL advisory locks (session-level), so periodic jobs never overlap. A worker
that dies loses its connection and with it the lock, so a lock never outlives its job."""

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def advisory_lock(name: str, *, wait: bool = False) -> Iterator[bool]:
    """Yields True when this process holds the lock, False when another one does
    (with `wait`, waits for it and always yields True).
    SQLite (the single-process default) has no such locks: there it always yields True."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = zlib.crc32(name.encode())
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
            acquired = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
