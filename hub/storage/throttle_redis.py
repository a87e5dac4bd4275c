"""Failed sign-ins counted in Redis, shared by every hub process.

A Redis error becomes :class:`~hub.domain.errors.Unavailable`: sign-in fails
closed (503) while Redis is down, rather than running unthrottled.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.exceptions import RedisError

from hub.domain.errors import Unavailable


@asynccontextmanager
async def _unavailable() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError, TimeoutError) as exc:
        raise Unavailable("the sign-in throttle (Redis) is unavailable; retry") from exc


# Count one failure and start the window with the first: atomic, and one key, so it
# runs the same on one Redis and on a Redis Cluster (no MULTI across the cluster).
_ADD_FAILURE = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RedisThrottle:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix + "loginfail:"

    async def add_failure(self, key: str, window_seconds: float) -> int:
        name = self._prefix + key
        window_ms = max(1000, int(window_seconds * 1000))
        async with _unavailable():
            count = await self._redis.eval(_ADD_FAILURE, 1, name, window_ms)
        return int(count)

    async def failures(self, key: str) -> tuple[int, float]:
        name = self._prefix + key
        async with _unavailable():
            pipe = self._redis.pipeline(transaction=False)
            pipe.get(name)
            pipe.pttl(name)
            raw, pttl = await pipe.execute()
        if raw is None or pttl <= 0:
            return 0, 0.0
        return int(raw), pttl / 1000

    async def clear(self, key: str) -> None:
        async with _unavailable():
            await self._redis.delete(self._prefix + key)

    async def ping(self) -> float:
        started = time.perf_counter()
        async with _unavailable():
            await self._redis.ping()
        return (time.perf_counter() - started) * 1000
