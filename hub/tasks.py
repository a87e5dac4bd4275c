"""Fire-and-forget tasks that are neither garbage-collected nor silent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from hub import logs

_running: set[asyncio.Task[Any]] = set()


def spawn(work: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
    """Start ``work`` in the background, keep a reference, log a failure."""
    task = asyncio.create_task(work, name=name)
    _running.add(task)
    task.add_done_callback(_done)
    return task


def _done(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logs.event(
            "task_failed", logging.WARNING, task=task.get_name(), error=repr(task.exception())
        )
