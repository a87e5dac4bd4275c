"""One socket's outgoing frames: sent at once when the socket can take them.

Fan-out hands one frame to thousands of sockets. Waking a writer task per
socket costs more than the send itself, so :meth:`Outbox.push` starts the
ASGI send right away, inside the caller: uvicorn's send finishes without
suspending whenever the transport is writable, which is the common case.
Only when a send would block (a slow client; the transport paused) does the
outbox keep the suspended send, queue what follows (bounded), and let one
drainer task finish them in order. A full queue means the client is too slow:
the owner is told (``on_overflow``) and closes the socket with 4008.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from starlette.types import Message, Send

_Sending = Coroutine[Any, Any, None]


class _Continue:
    """Await a coroutine that was already started by hand and is suspended on ``pending``."""

    def __init__(self, coro: _Sending, pending: Any) -> None:
        self.coro = coro
        self.pending = pending

    def __await__(self) -> Generator[Any, Any, None]:
        value = yield self.pending
        while True:
            try:
                self.pending = self.coro.send(value)
            except StopIteration:
                return
            value = yield self.pending


class Outbox:
    def __init__(self, send: Send, limit: int, on_overflow: Callable[[], None]) -> None:
        self._send = send
        self._limit = limit
        self._on_overflow = on_overflow
        self._queue: deque[Message] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._room = asyncio.Event()
        self.broken = False  # the peer is gone, or we gave up on it
        self.closing = False  # a close frame is sent or queued: nothing may follow

    def push(self, frame: str) -> bool:
        """Send or queue a text frame; False when the socket is gone or overflowed."""
        return self._put({"type": "websocket.send", "text": frame})

    def close_after(self, code: int) -> None:
        """Close once everything queued before is sent."""
        if not self.closing:
            self._put({"type": "websocket.close", "code": code}, force=True)
            self.closing = True

    async def push_wait(self, frame: str) -> None:
        """Like push, but wait for room instead of overflowing (replays)."""
        while len(self._queue) >= self._limit and not self.broken:
            self._room.clear()
            await self._room.wait()
        self.push(frame)

    async def flushed(self) -> None:
        """Wait until the drainer, if any, is done."""
        if self._drainer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._drainer

    def abort(self) -> None:
        """Drop what is queued and stop sending."""
        self.broken = True
        self._queue.clear()
        self._room.set()
        if self._drainer is not None:
            self._drainer.cancel()

    def _put(self, message: Message, force: bool = False) -> bool:
        if self.broken or self.closing:
            return False
        if self._drainer is not None:
            if len(self._queue) >= self._limit and not force:
                self._on_overflow()
                return False
            self._queue.append(message)
            return True
        self._start(message)
        return not self.broken

    def _start(self, message: Message) -> None:
        """Run the send eagerly; hand it to a drainer only if it has to wait."""
        started = self._send(message)
        if not isinstance(started, Coroutine):  # another server's awaitable: just await it
            self._drainer = asyncio.get_running_loop().create_task(self._drain(started))
            return
        coro: _Sending = started
        try:
            pending = coro.send(None)
        except StopIteration:
            return
        except Exception:  # the peer is gone (uvicorn: ClientDisconnected)
            self.broken = True
            return
        self._drainer = asyncio.get_running_loop().create_task(
            self._drain(_Continue(coro, pending))
        )

    async def _drain(self, in_flight: Awaitable[None]) -> None:
        try:
            await in_flight
            while self._queue:
                message = self._queue.popleft()
                self._room.set()
                await self._send(message)
        except Exception:
            self.broken = True
            self._queue.clear()
        finally:
            self._drainer = None
            self._room.set()
