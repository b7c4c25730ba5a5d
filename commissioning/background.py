"""Long work (checking an upload, generating a board pack) runs on a Celery worker when a
broker is configured. Without one (the embedded default) it runs in a background thread
of the web process, so a page can show its progress; "inline" runs it at once (tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connections, transaction


def task_mode(setting_name: str) -> str:
    """ "celery", "thread" or "inline": the setting if given, else from the broker."""
    default = (
        "thread" if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True) else "celery"
    )
    return getattr(settings, setting_name, default)


def run_after_commit(task, *args, mode: str) -> None:
    """Run a Celery task after the current transaction commits (never inside it)."""
    if mode == "celery":
        transaction.on_commit(lambda: task.delay(*args))
    elif mode == "thread":
        transaction.on_commit(lambda: _start_thread(task.run, args, task.name))
    else:
        transaction.on_commit(lambda: task.run(*args))


def _start_thread(target: Callable, args: tuple, name: str) -> None:
    def run() -> None:
        try:
            target(*args)
        finally:
            connections.close_all()

    threading.Thread(target=run, daemon=True, name=f"{name}-{args[0]}").start()
