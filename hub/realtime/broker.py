"""The broker: carries published changes to every hub process.

:class:`Broker` is the interface; :class:`MemoryBroker` serves the embedded
single process and :mod:`hub.broker_redis` serves many processes. Delivery
promise of every broker: **at most once**, in publish order per channel from
one publisher; messages published while a process is disconnected are lost.
The hub builds its stronger promise on top: every event is first committed
to the channel log, and :mod:`hub.fanout` reads the log to fill any gap (a
skipped seq, a reconnect, or a periodic head check), so a lost message costs
latency, never an event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

MessageHandler = Callable[[str, str], None]
ReconnectHandler = Callable[[], Coroutine[Any, Any, None]]


class Broker(Protocol):
    """Publish/subscribe between hub processes."""

    def bind(self, on_message: MessageHandler, on_reconnect: ReconnectHandler) -> None:
        """Set the callbacks: one listener task calls ``on_message(channel, payload)``."""
        ...

    async def start(self) -> None:
        """Connect (in the background) and subscribe what was asked for so far."""
        ...

    async def stop(self) -> None: ...

    async def publish(self, channel: str, payload: str) -> None:
        """Publish; raises on failure (the caller logs: the log still has it)."""
        ...

    async def publish_all(self, messages: list[tuple[str, str]]) -> None:
        """Publish (channel, payload) pairs in order, in one round trip where possible."""
        ...

    async def subscribe(self, channel: str) -> None:
        """Returns once messages published from now on will be delivered."""
        ...

    async def unsubscribe(self, channel: str) -> None: ...

    @property
    def is_up(self) -> bool: ...


class MemoryBroker:
    """In-process broker for the embedded mode (one process, exact order)."""

    def __init__(self) -> None:
        self._channels: set[str] = set()
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._on_message: MessageHandler | None = None
        self._task: asyncio.Task[None] | None = None

    def bind(self, on_message: MessageHandler, on_reconnect: ReconnectHandler) -> None:
        self._on_message = on_message

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="memory-broker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def publish(self, channel: str, payload: str) -> None:
        if channel in self._channels:
            self._queue.put_nowait((channel, payload))

    async def publish_all(self, messages: list[tuple[str, str]]) -> None:
        for channel, payload in messages:
            await self.publish(channel, payload)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    @property
    def is_up(self) -> bool:
        return True

    async def _listen(self) -> None:
        while True:
            channel, payload = await self._queue.get()
            if self._on_message is not None and channel in self._channels:
                self._on_message(channel, payload)
