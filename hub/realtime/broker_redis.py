"""Redis pub/sub broker: one subscriber connection per process.

Delivery promise: at most once (Redis pub/sub keeps nothing). Every channel
name is put under ``HUB_REDIS_PREFIX``. One listener task reads the
subscription; when Redis goes away it reconnects with exponential backoff
and jitter, subscribes again to every channel, and calls ``on_reconnect`` so
that fan-out catches up from the channel log. redis-py may also reconnect
silently on a short outage; a connect callback reports that as a reconnect
too, since messages may have been lost meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

from redis.exceptions import RedisError

from hub import logs
from hub.realtime.broker import MessageHandler, ReconnectHandler
from hub.tasks import spawn

BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0


class RedisBroker:
    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix + "ch:"
        self._channels: set[str] = set()
        self._confirmations: dict[str, list[asyncio.Future[None]]] = {}
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._on_message: MessageHandler | None = None
        self._on_reconnect: ReconnectHandler | None = None
        self._up = False
        self._connected_once = False

    def bind(self, on_message: MessageHandler, on_reconnect: ReconnectHandler) -> None:
        self._on_message = on_message
        self._on_reconnect = on_reconnect

    @property
    def is_up(self) -> bool:
        return self._up

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="redis-broker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()

    async def publish(self, channel: str, payload: str) -> None:
        await self._redis.publish(self._prefix + channel, payload)

    async def publish_all(self, messages: list[tuple[str, str]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for channel, payload in messages:
            pipe.publish(self._prefix + channel, payload)
        await pipe.execute()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if not self._up or self._pubsub is None:
            # Subscribed on reconnect; the caller catches up from the log.
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirmations.setdefault(channel, []).append(waiter)
        try:
            await self._pubsub.subscribe(self._prefix + channel)
            async with asyncio.timeout(5):
                await waiter
        except (RedisError, OSError, TimeoutError):
            # Down meanwhile: the reconnect resubscribes, and fan-out's
            # periodic head check covers the gap.
            pass
        finally:
            with contextlib.suppress(ValueError, KeyError):
                self._confirmations[channel].remove(waiter)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._up and self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(self._prefix + channel)

    async def _run(self) -> None:
        delay = BACKOFF_FIRST
        while True:
            try:
                await self._connect()
                delay = BACKOFF_FIRST
                await self._listen()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self._up:
                    logs.event("broker_down", error=type(exc).__name__)
                self._up = False
                with contextlib.suppress(Exception):
                    if self._pubsub is not None:
                        await self._pubsub.aclose()
                self._pubsub = None
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, BACKOFF_MAX)

    async def _connect(self) -> None:
        pubsub = self._redis.pubsub()
        names = [self._prefix + c for c in sorted(self._channels)]
        await pubsub.subscribe(*names)
        pubsub.connection.register_connect_callback(self._silent_reconnect)
        self._pubsub = pubsub
        self._up = True
        logs.event("broker_up", channels=len(names))
        if self._connected_once and self._on_reconnect is not None:
            spawn(self._on_reconnect())
        self._connected_once = True

    async def _silent_reconnect(self, connection: Any) -> None:
        if self._on_reconnect is not None:
            spawn(self._on_reconnect())

    async def _listen(self) -> None:
        while True:
            message = await self._pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            kind = message["type"]
            channel = _text(message["channel"])[len(self._prefix) :]
            if kind == "subscribe":
                for waiter in self._confirmations.get(channel, []):
                    if not waiter.done():
                        waiter.set_result(None)
            elif kind == "message" and self._on_message is not None:
                self._on_message(channel, _text(message["data"]))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
