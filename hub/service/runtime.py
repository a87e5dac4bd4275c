"""The parts of one hub process, built from the settings and opened together.

Backends are chosen from the settings (SQLite or PostgreSQL; in-process or
Redis), the Redis import deferred until used, and each can be injected for
tests. Both transports, the demo and the command line use the services
here; nothing else builds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol

from hub import logs
from hub.domain.times import now
from hub.realtime import channel_log
from hub.realtime.broker import Broker, MemoryBroker
from hub.realtime.node import Node
from hub.service.accounts import AccountService
from hub.service.booking import BookingService
from hub.service.calendars import CalendarService
from hub.service.deliveries import DeliveryWorker
from hub.service.feeds import FeedService
from hub.service.holds import HoldService
from hub.service.reading import ReadingService
from hub.service.webhooks import WebhookService
from hub.settings import Settings
from hub.storage.appointments import Appointments
from hub.storage.store import Store
from hub.storage.throttle import MemoryThrottle, Throttle

SAFETY_NET_SECONDS = 1.0
# A lapsed hold is announced within this (PROTOCOL.md allows 2 s past expires_at).
HOLD_SWEEP_SECONDS = 0.5
PRUNE_SECONDS = 3600.0
REDIS_PING_SECONDS = 15.0


class RuntimeObserver(Protocol):
    def redis_round_trip(self, seconds: float) -> None: ...


class Runtime:
    def __init__(self, settings: Settings, broker: Broker | None = None) -> None:
        """Build the parts; ``broker`` replaces the one the settings choose (tests)."""
        self.settings = settings
        self.store = Store(settings)
        self.redis: Any = None
        self.throttle: Throttle = MemoryThrottle()
        self._clients: list[Any] = []  # Redis clients to close at stop
        chosen: Broker = MemoryBroker()
        if settings.redis_cluster:
            chosen = self._cluster(str(settings.redis_url), settings.redis_prefix)
        elif _scheme(settings.redis_url) != "memory":
            from hub.realtime.broker_redis import RedisBroker
            from hub.storage.redis_client import redis_client
            from hub.storage.throttle_redis import RedisThrottle

            self.redis = redis_client(str(settings.redis_url))
            self._clients = [self.redis]
            self.throttle = RedisThrottle(self.redis, settings.redis_prefix)
            chosen = RedisBroker(self.redis, settings.redis_prefix)
        self.node = Node(settings, self.store, broker or chosen)
        self.accounts = AccountService(settings, self.store, self.throttle, self.node)
        self.calendars = CalendarService(self.store, self.node)
        self.booking = BookingService(settings, self.store, self.node)
        self.holds = HoldService(settings, self.store, self.node)
        self.reading = ReadingService(self.store)
        self.feeds = FeedService(settings, self.store)
        self.deliveries = DeliveryWorker(settings, self.store)
        self.webhooks = WebhookService(settings, self.store, self.deliveries)
        self.observer: RuntimeObserver | None = None
        self._loops: list[asyncio.Task[None]] = []

    def _cluster(self, url: str, prefix: str) -> Broker:
        """Redis Cluster: sharded pub/sub, and single-key throttle counters, on any node's URL."""
        from hub.realtime.broker_redis_cluster import RedisClusterBroker, cluster_client
        from hub.storage.throttle_redis import RedisThrottle

        self.redis = cluster_client(url)
        subscriber = cluster_client(url)  # the broker's own: its reconnects touch no one else
        self._clients = [self.redis, subscriber]
        self.throttle = RedisThrottle(self.redis, prefix)
        return RedisClusterBroker(subscriber, prefix)

    async def start(self, background: bool = True) -> None:
        """Open the database and the broker; ``background``: the periodic work too."""
        await self.store.connect()
        await self.node.start()
        if background:
            self._loops = [
                asyncio.create_task(_every(SAFETY_NET_SECONDS, self.node.fanout.check_recent)),
                asyncio.create_task(_every(HOLD_SWEEP_SECONDS, self.holds.end_lapsed)),
                asyncio.create_task(_every(PRUNE_SECONDS, self.prune)),
                asyncio.create_task(_every(REDIS_PING_SECONDS, self._ping_redis)),
            ]
            await self.deliveries.start()

    async def stop(self) -> None:
        await self.deliveries.stop()
        for loop in self._loops:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        await self.node.stop()
        await self.store.disconnect()
        for client in self._clients:
            await client.aclose()

    async def prune(self) -> tuple[int, int, int]:
        """Forget channel-log rows, idempotency keys and refresh tokens past retention."""
        settings = self.settings
        async with self.store.write():
            rows = await channel_log.prune(self.store, timedelta(days=settings.log_retention_days))
            cutoff = now() - timedelta(hours=settings.idempotency_hours)
            keys = await Appointments(self.store).prune_keys(cutoff)
        tokens = await self.accounts.prune()
        if rows or keys or tokens:
            logs.event("pruned", log_rows=rows, idempotency_keys=keys, refresh_tokens=tokens)
        return rows, keys, tokens

    async def _ping_redis(self) -> None:
        if self.redis is not None and self.observer is not None:
            self.observer.redis_round_trip(await self.throttle.ping() / 1000)


async def _every(seconds: float, work: Callable[[], Awaitable[Any]]) -> None:
    """Run ``work`` periodically, surviving its failures (e.g. a database outage)."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except Exception as exc:
            logs.event(
                "background_failed",
                logging.WARNING,
                work=getattr(work, "__name__", "?"),
                error=type(exc).__name__,
            )


def _scheme(url: str | None) -> str:
    """``memory`` for none: the in-process broker and throttle of the embedded mode."""
    return (url or "memory://").partition("://")[0]
