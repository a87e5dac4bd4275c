"""uvicorn's ``websockets-sansio`` protocol, made for fan-out: lean, raw, and closing cleanly.

Three changes to uvicorn's protocol, everything else is uvicorn's:

- **Raw frames.** The protocol offers itself to the app as
  ``scope["extensions"]["hub.raw_socket"]`` (:class:`~hub.web.outbox.RawSocket`):
  the outbox writes a whole, already serialised frame to the transport,
  the same bytes for every socket of a fan-out, instead of one ASGI ``send``
  coroutine, one encode and one frame build per socket.
- **Lean.** A socket holds one of these for hours: the handshake's request
  and response (and their headers) are dropped once accepted, and the
  receive queue and the writable flag are minimal versions of asyncio's
  (an asyncio Queue holds three deques of about 600 bytes each).
- **A failing close every client can read** (below).

When a client breaks the protocol (above all a message over ``ws_max_size``),
websockets' sans-I/O layer queues a close frame (1009 for a message too big)
and an end of stream, then discards what the client still sends until the
client closes its side (``websockets.protocol.Protocol.fail``). uvicorn 0.54
instead closes the transport at once, while the rest of the message is still
arriving: the kernel answers unread bytes with a TCP reset, and the reset
makes most clients drop the close frame they had received (Python
``websocket-client`` saw a reset 8-10 times in 10 at 70 KB).

:class:`HubWebSocketProtocol` does what the sans-I/O layer asks:
it writes the close frame, half-closes (FIN) where the transport can, and
keeps reading, dropping what arrives, until the client closes too. A client
that never does is cut off after :attr:`drain_seconds`. Everything else,
the send path the fan-out depends on included, is uvicorn's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

RAW_SOCKET = "hub.raw_socket"


class _Inbox:
    """The ASGI receive queue uvicorn needs (put_nowait, get, empty), in a list."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class _Flag:
    """An asyncio.Event without a deque per instance (set, clear, is_set, wait)."""

    __slots__ = ("_on", "_waiters")

    def __init__(self) -> None:
        self._on = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._on

    def set(self) -> None:
        self._on = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._on = False

    async def wait(self) -> bool:
        while not self._on:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters = [*(self._waiters or ()), waiter]
            await waiter
        return True


class HubWebSocketProtocol(WebSocketsSansIOProtocol):
    """``websockets-sansio``, lean, with raw frame writes and a drained failing close."""

    # How long a failing client may keep sending before the socket is cut.
    drain_seconds = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Flag()  # type: ignore[assignment]
        self.writable.set()

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The scope has its own copy of the headers. websockets' parser keeps the
        # handshake request alive as long as the connection: keep it empty.
        event.headers.clear()
        if not self.config.ws_per_message_deflate:  # compressed frames differ per socket
            self.scope["extensions"][RAW_SOCKET] = self  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and self.response is not None:
            # Accepted: the handshake's request, response and headers are no longer needed.
            self.request = self.response = None  # type: ignore[assignment]
            self.scope["headers"] = []

    def write_frame(self, frame: bytes) -> bool:
        """Write a whole serialised frame now; False when the transport pushes back or closes."""
        if (
            self.close_sent
            or self.disconnected
            or not self.handshake_complete
            or not self.writable.is_set()
            or self.conn.state is not State.OPEN
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(frame)
        return True

    async def wait_writable(self) -> None:
        """Wait until the transport takes data again.

        Raises:
            ConnectionError: the connection is closing or gone: nothing will be written.
        """
        if self.close_sent or self.disconnected or self.conn.state is not State.OPEN:
            raise ConnectionError("the WebSocket is closing")
        await self.writable.wait()

    def handle_parser_exception(self) -> None:
        if self.close_sent:
            # Called again for every chunk that arrives while failing: the
            # sans-I/O parser already dropped it, and the close is under way.
            return
        assert self.conn.close_sent is not None
        close = self.conn.close_sent
        self.queue.put_nowait(
            {"type": "websocket.disconnect", "code": close.code, "reason": close.reason}
        )
        self.close_sent = True
        for data in self.conn.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():  # b"" is the sans-I/O layer's end of stream
                self.transport.write_eof()
        # Keep reading until the client's end of stream (eof_received then closes the
        # transport) or its close frame (handle_close): nothing is left unread.
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        # Also stops run_asgi from closing the transport when the app returns.
        self.close_timer = self.loop.call_later(self.drain_seconds, self.transport.abort)
