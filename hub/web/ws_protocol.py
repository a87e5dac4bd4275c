"""uvicorn's ``websockets-sansio`` protocol, with a failing close every client can read.

When a client breaks the protocol (above all a message over ``ws_max_size``),
websockets' sans-I/O layer queues a close frame (1009 for a message too big)
and an end of stream, then discards what the client still sends until the
client closes its side (``websockets.protocol.Protocol.fail``). uvicorn 0.54
instead closes the transport at once, while the rest of the message is still
arriving: the kernel answers unread bytes with a TCP reset, and the reset
makes most clients drop the close frame they had received (Python
``websocket-client`` saw a reset 8-10 times in 10 at 70 KB).

:class:`DrainingWebSocketsSansIOProtocol` does what the sans-I/O layer asks:
it writes the close frame, half-closes (FIN) where the transport can, and
keeps reading, dropping what arrives, until the client closes too. A client
that never does is cut off after :attr:`drain_seconds`. Everything else,
the send path the fan-out depends on included, is uvicorn's.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class DrainingWebSocketsSansIOProtocol(WebSocketsSansIOProtocol):
    """``websockets-sansio`` whose failing close is drained rather than reset."""

    # How long a failing client may keep sending before the socket is cut.
    drain_seconds = 5.0

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
