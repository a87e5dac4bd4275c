"""One Redis client per process, shared by the broker and the sign-in throttle.

Built to fail fast and to recover by itself. After a Redis restart every
pooled connection the old server closed is dead; redis-py's default (no
retry) hands each one out once more and fails, which answered 8 of 10
requests 503 with Redis already back. So a command that meets a dead
connection is retried on a fresh one (with backoff), idle connections are
health-checked before use, and the pool blocks briefly for a free connection
instead of raising at its limit (a burst of 100 hellos did).
"""

from __future__ import annotations

from typing import Any

POOL_SIZE = 64
TIMEOUT_SECONDS = 2.0
RETRIES = 3


def redis_client(url: str) -> Any:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError, TimeoutError

    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
        health_check_interval=5,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES),
        retry_on_error=[ConnectionError, TimeoutError],
    )
    # from_pool: closing the client closes the pool and every connection in it.
    return aioredis.Redis.from_pool(pool)
