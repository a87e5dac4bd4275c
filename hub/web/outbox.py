"""One socket's outgoing frames, in order, bounded, and cheap to fan out.

Fan-out hands one frame to thousands of sockets. On the hub's own WebSocket
protocol (:mod:`hub.web.ws_protocol`) the outbox writes the frame's bytes
straight to the socket's transport: a server frame is unmasked, so the
serialised frame is the same for every socket, built once per frame
(:attr:`~hub.realtime.frames.Frame.wire`) and written as is, with no
coroutine, no task and no copy per socket. When the transport pushes back
(the client is slow), frames queue (bounded) and one drainer task writes
them when it can; a full queue means the client is too slow: the owner is
told (``on_overflow``) and closes the socket with 4008.

Under another ASGI server (no raw transport) the same outbox sends through
the ASGI ``send``, one drainer task at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Protocol

from starlette.types import Send

from hub.realtime.frames import Frame

_CLOSE = object()  # the queued close, after everything before it


class RawSocket(Protocol):
    """What the hub's WebSocket protocol offers the outbox (``scope["extensions"]``)."""

    def write_frame(self, frame: bytes) -> bool:
        """Write a whole frame now; False when the transport pushes back or is closing."""
        ...

    async def wait_writable(self) -> None: ...


def text_frame(payload: bytes) -> bytes:
    """An unmasked, unfragmented WebSocket text frame (RFC 6455 §5.2)."""
    size = len(payload)
    if size < 126:
        head = bytes((0x81, size))
    elif size < 1 << 16:
        head = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return head + payload


def wire_of(frame: Frame) -> bytes:
    """The frame's serialised bytes, built by the first socket and shared by the rest."""
    if frame.wire is None:
        frame.wire = text_frame(frame.text.encode())
    return frame.wire


class Outbox:
    __slots__ = (
        "_drainer",
        "_limit",
        "_on_overflow",
        "_queue",
        "_raw",
        "_room",
        "_send",
        "broken",
        "closing",
    )

    def __init__(self, send: Send, raw: RawSocket | None, limit: int, on_overflow: object) -> None:
        self._send = send
        self._raw = raw
        self._limit = limit
        self._on_overflow = on_overflow
        # Made only when a socket falls behind: most never need them.
        self._queue: deque[Frame | object] | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._room: asyncio.Event | None = None
        self.broken = False  # the peer is gone, or we gave up on it
        self.closing = False  # a close is sent or queued: nothing may follow

    def push(self, frame: Frame) -> bool:
        """Send or queue a frame; False when the socket is gone or overflowed."""
        if self.broken or self.closing:
            return False
        queue = self._queue
        if not queue and self._raw is not None and self._raw.write_frame(wire_of(frame)):
            return True
        if queue is not None and len(queue) >= self._limit:
            self._on_overflow()  # type: ignore[operator]
            return False
        self._enqueue(frame)
        return True

    async def push_wait(self, frame: Frame) -> None:
        """Like push, but wait for room instead of overflowing (replays)."""
        while self._queue is not None and len(self._queue) >= self._limit and not self.broken:
            if self._room is None:
                self._room = asyncio.Event()
            self._room.clear()
            await self._room.wait()
        self.push(frame)

    def close_after(self, code: int) -> None:
        """Close once everything queued before is sent."""
        if not self.closing and not self.broken:
            self._enqueue(_CLOSE, code)
            self.closing = True

    async def flushed(self) -> None:
        """Wait until the drainer, if any, is done."""
        if self._drainer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._drainer

    def abort(self) -> None:
        """Drop what is queued and stop sending."""
        self.broken = True
        if self._queue is not None:
            self._queue.clear()
        if self._room is not None:
            self._room.set()
        if self._drainer is not None:
            self._drainer.cancel()

    def _enqueue(self, item: Frame | object, code: int = 1000) -> None:
        if self._queue is None:
            self._queue = deque()
        self._queue.append(item if item is not _CLOSE else (_CLOSE, code))
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        queue = self._queue
        assert queue is not None
        try:
            while queue:
                item = queue[0]
                if isinstance(item, tuple):
                    queue.popleft()
                    await self._send({"type": "websocket.close", "code": item[1]})
                    continue
                assert isinstance(item, Frame)
                if self._raw is None:
                    await self._send({"type": "websocket.send", "text": item.text})
                elif not self._raw.write_frame(wire_of(item)):
                    await self._raw.wait_writable()
                    continue
                queue.popleft()
                if self._room is not None:
                    self._room.set()
        except Exception:
            self.broken = True
            queue.clear()
        finally:
            self._drainer = None
            if self._room is not None:
                self._room.set()
