"""Failed sign-ins per key (an email, a client address), counted in a window.

The interface and the in-process implementation for the embedded single
process; :mod:`hub.storage.throttle_redis` is the one every process of a
deployment shares. :mod:`hub.service.runtime` chooses one by the URL scheme,
the Redis import deferred until used (as encode/broadcaster chooses its
backends).

Sign-ins and their revocation are not kept here: they are rows in the
database (:mod:`hub.storage.users`), which a restarting Redis cannot lose.
"""

from __future__ import annotations

import time
from typing import Protocol


class Throttle(Protocol):
    async def add_failure(self, key: str, window_seconds: float) -> int:
        """Count one failure under ``key``; returns the count in the window."""
        ...

    async def failures(self, key: str) -> tuple[int, float]:
        """(failures in the window, seconds until the window ends)."""
        ...

    async def clear(self, key: str) -> None: ...

    async def ping(self) -> float:
        """Round-trip time in milliseconds; raises Unavailable when down."""
        ...


class MemoryThrottle:
    """In-process counters: one process, so exact."""

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, float]] = {}

    async def add_failure(self, key: str, window_seconds: float) -> int:
        count, until = self._failures.get(key, (0, 0.0))
        current = time.time()
        if until <= current:
            count, until = 0, current + window_seconds
            self._sweep(current)
        self._failures[key] = (count + 1, until)
        return count + 1

    async def failures(self, key: str) -> tuple[int, float]:
        count, until = self._failures.get(key, (0, 0.0))
        remaining = until - time.time()
        return (count, remaining) if remaining > 0 else (0, 0.0)

    async def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    async def ping(self) -> float:
        return 0.0

    def _sweep(self, current: float) -> None:
        """Forget ended windows, so memory stays bounded by recent failures."""
        for key in [k for k, (_, until) in self._failures.items() if until <= current]:
            self._failures.pop(key, None)
