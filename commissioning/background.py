"""Long work (checking an upload, generating a board pack) runs on a Celery worker when a
broker is configured. Without one (the embedded default) it runs in a background thread
of the web process, so a page can show its progress; "inline" runs it at once (tests).

If the broker cannot be reached when a task is sent ("celery" mode with Redis down), the
work is not lost: it runs in a background thread of the web process instead, as in
"thread" mode, and a warning is logged."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connections, transaction
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What sending a task raises when the broker (or the result backend) is unreachable.
BROKER_UNREACHABLE = (BrokerError, RedisConnectionError, RedisTimeoutError, OSError)


def task_mode(setting_name: str) -> str:
    """ "celery", "thread" or "inline": the setting if given, else from the broker."""
    default = (
        "thread" if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True) else "celery"
    )
    return getattr(settings, setting_name, default)


def run_after_commit(task, *args, mode: str) -> None:
    """Run a Celery task after the current transaction commits (never inside it)."""
    if mode == "celery":
        transaction.on_commit(lambda: send_or_run_here(task, args))
    elif mode == "thread":
        transaction.on_commit(lambda: _start_thread(task.run, args, task.name))
    else:
        transaction.on_commit(lambda: task.run(*args))


def send_or_run_here(task, args: tuple) -> None:
    """Send the task to the workers; if the broker cannot be reached, run it in a
    background thread of this process. The tasks given here are idempotent, so even a
    message that did reach the broker before an error costs a repeat, not a mistake.
    Nothing reads these tasks' results (they report through their rows), so none is
    kept: sending never waits on the result store."""
    try:
        task.apply_async(args, ignore_result=True)
    except BROKER_UNREACHABLE as exc:
        logger.warning(
            "The task broker is unreachable (%s: %s); running %s in the web process",
            type(exc).__name__,
            exc,
            task.name,
        )
        _start_thread(task.run, args, task.name)


def _start_thread(target: Callable, args: tuple, name: str) -> None:
    def run() -> None:
        try:
            target(*args)
        finally:
            connections.close_all()

    threading.Thread(target=run, daemon=True, name=f"{name}-{args[0]}").start()
