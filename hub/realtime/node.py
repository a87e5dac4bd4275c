"""The node: the parts of one hub process, opened and closed together.

Backends are chosen from the settings (SQLite or PostgreSQL; in-process or
Redis), with the Redis import deferred until it is needed. The node also
carries what concerns every process at once: publishing committed changes,
and control messages (logout, deactivation) that must reach the sessions
of a user on whichever process holds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hub import logs
from hub.realtime import channel_log
from hub.realtime.broker import CONTROL_CHANNEL, Broker, MemoryBroker
from hub.realtime.channel_log import ChannelEvent
from hub.realtime.fanout import Fanout
from hub.service.accounts import Accounts
from hub.service.booking import Booking
from hub.service.calendars import Calendars
from hub.service.credentials import AccessClaims
from hub.settings import Settings
from hub.storage.store import Store
from hub.storage.tokens import MemoryTokenStore, RedisTokenStore, TokenStore
from hub.tasks import spawn
from hub.web.metrics import Metrics

if TYPE_CHECKING:
    from hub.web.session import Session

HEAD_CHECK_SECONDS = 2.0
PRUNE_SECONDS = 3600.0
REDIS_PING_SECONDS = 15.0


class Sessions:
    """The live sessions of this process, by user."""

    def __init__(self) -> None:
        self.by_user: dict[str, set[Session]] = {}

    def add(self, session: Session) -> None:
        self.by_user.setdefault(session.user.id, set()).add(session)

    def discard(self, session: Session) -> None:
        if session._user is None:
            return
        group = self.by_user.get(session.user.id)
        if group is not None:
            group.discard(session)
            if not group:
                self.by_user.pop(session.user.id, None)

    def count(self, user_id: str) -> int:
        return len(self.by_user.get(user_id, ()))

    def all(self) -> list[Session]:
        return [s for group in self.by_user.values() for s in group]


class Node:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings)
        self.redis: Any = None
        self.tokens: TokenStore = MemoryTokenStore()
        self.broker: Broker = MemoryBroker()
        if settings.redis_url:
            from hub.realtime.broker_redis import RedisBroker

            self.redis = redis_client(settings.redis_url)
            self.tokens = RedisTokenStore(self.redis, settings.redis_prefix)
            self.broker = RedisBroker(self.redis, settings.redis_prefix)
        self.accounts = Accounts(settings, self.store, self.tokens)
        self.calendars = Calendars(self.store)
        self.booking = Booking(settings, self.store, self.calendars)
        self.fanout = Fanout(self.store, self.broker, settings.send_queue_size)
        self.sessions = Sessions()
        self.metrics = Metrics()
        self.metrics.bind(self)
        self.store.observe = self.metrics.db_seconds.observe
        self.fanout.metrics = self.metrics
        self.broker.bind(self._on_broker_message, self.fanout.catch_up_all)
        self._loops: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.store.connect()
        await self.broker.start()
        self._loops = [
            asyncio.create_task(_every(HEAD_CHECK_SECONDS, self.fanout.check_heads)),
            asyncio.create_task(_every(PRUNE_SECONDS, self.prune)),
            asyncio.create_task(_every(REDIS_PING_SECONDS, self._ping_redis)),
        ]

    async def stop(self) -> None:
        for loop in self._loops:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        await self.fanout.stop()
        await self.broker.stop()
        await self.store.disconnect()
        if self.redis is not None:
            await self.redis.aclose()

    async def publish(self, events: list[ChannelEvent]) -> None:
        """Publish committed events. A failure costs latency only: the log has them."""
        if not events:
            return
        try:
            await self.broker.publish_all([(e.channel, e.to_json()) for e in events])
            self.metrics.events_published.inc(len(events))
        except Exception as exc:
            channels = [e.channel for e in events]
            logs.event(
                "publish_failed", logging.WARNING, channels=channels, error=type(exc).__name__
            )

    async def _ping_redis(self) -> None:
        if self.redis is not None:
            self.metrics.redis_seconds.observe(await self.tokens.ping() / 1000)

    async def prune(self) -> None:
        rows, keys = await channel_log.prune(
            self.store,
            timedelta(days=self.settings.log_retention_days),
            timedelta(hours=self.settings.idempotency_hours),
        )
        if rows or keys:
            logs.event("pruned", log_rows=rows, idempotency_keys=keys)

    # Control messages: reach the user's sessions on every process.

    async def on_access_revoked(self, claims: AccessClaims) -> None:
        await self._control({"kind": "revoke", "jti": claims.jti, "family": claims.family})

    async def on_user_deactivated(self, user_id: str) -> None:
        await self._control({"kind": "deactivate", "user_id": user_id})

    async def _control(self, message: dict[str, Any]) -> None:
        try:
            await self.broker.publish(CONTROL_CHANNEL, json.dumps(message))
        except Exception as exc:
            logs.event("control_publish_failed", logging.WARNING, error=type(exc).__name__)
            self._apply_control(message)  # at least this process

    def _on_broker_message(self, channel: str, payload: str) -> None:
        if channel == CONTROL_CHANNEL:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                self._apply_control(json.loads(payload))
            return
        self.fanout.on_message(channel, payload)

    def _apply_control(self, message: dict[str, Any]) -> None:
        for session in self.sessions.all():
            claims = session.claims
            if claims is None:
                continue
            if message.get("kind") == "deactivate" and session.user.id == message.get("user_id"):
                reason = "this account is deactivated"
            elif message.get("kind") == "revoke" and (
                claims.jti == message.get("jti")
                or (claims.family is not None and claims.family == message.get("family"))
            ):
                reason = "the access token has been revoked"
            else:
                continue
            spawn(session.close_unauthorized(reason))


async def _every(seconds: float, work: Callable[[], Awaitable[None]]) -> None:
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


REDIS_POOL_SIZE = 64


def redis_client(url: str) -> Any:
    """A Redis client that fails fast instead of hanging when Redis is down.

    The pool blocks (up to 2 s) for a free connection: redis-py's default pool
    raises at 100 concurrent commands, which turned a burst of hellos into
    spurious ``unavailable`` answers.
    """
    import redis.asyncio as aioredis

    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_POOL_SIZE,
        timeout=2.0,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=15,
    )
    return aioredis.Redis(connection_pool=pool)
