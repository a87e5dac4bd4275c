"""The node: the parts of one hub process, opened and closed together.

Backends are chosen from the settings (SQLite or PostgreSQL; in-process or
Redis), with the Redis import deferred until it is needed, and any part can
be injected for tests.
"""

from __future__ import annotations

from typing import Any

from hub.accounts import Accounts
from hub.database import Store
from hub.security import AccessClaims
from hub.settings import Settings
from hub.tokens import MemoryTokenStore, RedisTokenStore, TokenStore


class Node:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings)
        self.redis: Any = None
        self.tokens: TokenStore = MemoryTokenStore()
        if settings.redis_url:
            self.redis = redis_client(settings.redis_url)
            self.tokens = RedisTokenStore(self.redis, settings.redis_prefix)
        self.accounts = Accounts(settings, self.store, self.tokens)

    async def start(self) -> None:
        await self.store.connect()

    async def on_access_revoked(self, claims: AccessClaims) -> None:
        """A token was revoked by logout: sessions holding it must close."""
        return None

    async def on_user_deactivated(self, user_id: str) -> None:
        """A user was deactivated: their sessions must close, on every process."""
        return None

    async def stop(self) -> None:
        await self.store.disconnect()
        if self.redis is not None:
            await self.redis.aclose()


def redis_client(url: str) -> Any:
    """A Redis client that fails fast instead of hanging when Redis is down."""
    import redis.asyncio as aioredis

    return aioredis.from_url(
        url,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=15,
    )
