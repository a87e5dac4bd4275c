"""Receiver sockets for the fan-out benchmark, run in worker processes (or in the parent).

A worker opens its share of subscribed sockets and answers commands from the parent over a
``multiprocessing`` pipe: ``mark`` (forget what was received), ``wait`` (until every socket got
n events since the mark, or a stall / time-out), ``collect`` (receive times and seqs per
socket, and each seq's ``at``), ``closed`` (close codes the server sent) and ``stop``.

Two kinds of receiver:

- :class:`LeanReceiver` (default): the handshake, ``hello`` and ``subscribe`` go through the
  sans-I/O ``websockets`` ``ClientProtocol``; after the ``ok`` of ``subscribe`` the bytes are no
  longer fed to it. ``data_received`` stamps ``time.time()`` once per chunk, walks the frame
  headers (server frames are unmasked; an incomplete frame waits in a tail buffer for the next
  chunk) and takes ``"seq":N`` and ``"at":"…"`` from each text frame with one regex: no JSON
  parsing, no per-frame objects. Pings are answered (masked pongs built by the protocol), so
  runs longer than the hub's ping interval + timeout keep their sockets.
- :class:`FullReceiver` (``--full-client``): a ``websockets`` asyncio connection whose task
  stores (receive time, text) per message; the JSON is parsed at ``collect``.

Events must not be published while sockets open: a lean socket stops feeding the protocol
right after the ``ok`` of ``subscribe`` and would lose an event frame cut in half there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import traceback
from array import array
from collections.abc import Awaitable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, TypeAlias

from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

# In an event frame "seq" comes before "data" and "at" is the last key (hub/protocol.py).
# ``"at":"`` cannot match inside ``"starts_at":"`` (the character before ``at`` is ``_``).
EVENT = re.compile(rb'"seq":(\d+),.*"at":"([^"]+)"', re.DOTALL)

TEXT, CLOSE, PING = int(Opcode.TEXT), int(Opcode.CLOSE), int(Opcode.PING)

# (receive times, seqs) of one socket since the last mark.
Records: TypeAlias = "tuple[array[float], array[int]]"


@dataclass
class Tally:
    """Event frames received by all of a worker's sockets since the last mark."""

    events: int = 0
    ats: dict[int, str] = field(default_factory=dict)


class LeanReceiver(asyncio.Protocol):
    """A subscribed socket that only stamps chunks and regex-scans its event frames."""

    def __init__(self, url: str, token: str, channel: str, tally: Tally) -> None:
        self.ws = ClientProtocol(parse_uri(url), max_size=None)
        self.token, self.channel, self.tally = token, channel, tally
        self.ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.live = False
        self.tail = b""
        self.times: array[float] = array("d")
        self.seqs: array[int] = array("q")
        self.other = 0
        self.close_code: int | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.ws.send_request(self.ws.connect())
        self._flush()

    def _flush(self) -> None:
        assert self.transport is not None
        self.transport.write(b"".join(self.ws.data_to_send()))

    def _request(self, kind: str, data: dict[str, Any]) -> None:
        self.ws.send_text(json.dumps({"id": kind, "type": kind, "data": data}).encode())

    def _fail(self, exc: BaseException) -> None:
        if not self.ready.done():
            self.ready.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.live:
            self._scan(data)
            return
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                if self.ws.handshake_exc is not None:
                    return self._fail(self.ws.handshake_exc)
                self._request("hello", {"token": self.token})
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                answer = json.loads(bytes(event.data))
                if answer.get("type") != "ok":
                    return self._fail(RuntimeError(f"{answer.get('id')}: {answer}"[:300]))
                if answer["id"] == "hello":
                    self._request("subscribe", {"channel": self.channel})
                else:
                    self.live = True
                    self.ready.set_result(int(answer["data"]["seq"]))
        self._flush()

    def _scan(self, data: bytes) -> None:
        received = time.time()
        buf = self.tail + data if self.tail else data
        pos, size = 0, len(buf)
        while size - pos >= 2:
            opcode, length, start = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, pos + 2
            if length >= 126:
                width = 2 if length == 126 else 8
                if size < start + width:
                    break
                length = int.from_bytes(buf[start : start + width], "big")
                start += width
            end = start + length
            if end > size:
                break
            if opcode == TEXT:
                match = EVENT.search(buf, start, end)
                if match is None:
                    self.other += 1
                else:
                    seq = int(match[1])
                    self.times.append(received)
                    self.seqs.append(seq)
                    self.tally.events += 1
                    if seq not in self.tally.ats:
                        self.tally.ats[seq] = match[2].decode()
            elif opcode == PING:
                self.ws.send_pong(buf[start:end])
                self._flush()
            elif opcode == CLOSE:
                self.close_code = int.from_bytes(buf[start : start + 2], "big") if length else 1005
            pos = end
        self.tail = buf[pos:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._fail(ConnectionError(f"connection lost: {exc}"))

    def records(self) -> Records:
        return self.times, self.seqs

    def reset(self) -> None:
        self.times, self.seqs, self.other = array("d"), array("q"), 0

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    @property
    def closed_code(self) -> int | None:
        """The server's close code, or None while the socket is open."""
        return (self.close_code or 1006) if self.lost else None

    @staticmethod
    async def open(url: str, token: str, channel: str, tally: Tally) -> LeanReceiver:
        uri = parse_uri(url)
        loop = asyncio.get_running_loop()
        _, receiver = await loop.create_connection(
            lambda: LeanReceiver(url, token, channel, tally), uri.host, uri.port
        )
        await asyncio.wait_for(receiver.ready, 60)
        return receiver


class FullReceiver:
    """A ``websockets`` connection that stores (receive time, text) per message."""

    def __init__(self, ws: ClientConnection, tally: Tally) -> None:
        self.ws, self.tally = ws, tally
        self.got: list[tuple[float, str]] = []
        self.other = 0
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                self.got.append((time.time(), str(raw)))
                self.tally.events += 1

    def records(self) -> Records:
        times, seqs = array("d"), array("q")
        for received, raw in self.got:
            frame = json.loads(raw)
            if frame.get("type") != "event":
                self.other += 1
                continue
            times.append(received)
            seqs.append(frame["seq"])
            self.tally.ats.setdefault(frame["seq"], frame["at"])
        return times, seqs

    def reset(self) -> None:
        self.got, self.other = [], 0

    def abort(self) -> None:
        self.ws.transport.abort()

    @property
    def closed_code(self) -> int | None:
        return self.ws.close_code if self.task.done() else None

    @staticmethod
    async def open(url: str, token: str, channel: str, tally: Tally) -> FullReceiver:
        ws = await connect(url, compression=None, ping_interval=None, open_timeout=60)
        try:
            for kind, data in (("hello", {"token": token}), ("subscribe", {"channel": channel})):
                await ws.send(json.dumps({"id": kind, "type": kind, "data": data}))
                answer = json.loads(await ws.recv())
                if answer.get("type") != "ok":
                    raise RuntimeError(f"{kind}: {answer}"[:300])
        except BaseException:
            ws.transport.abort()
            raise
        return FullReceiver(ws, tally)


@dataclass
class Spec:
    """What one worker opens: ``count`` sockets, tokens round-robin, ``batch`` at a time."""

    url: str
    tokens: list[str]
    channel: str
    count: int
    batch: int
    lean: bool


class Worker:
    """One client's share of receivers, driven by commands (see the module docstring)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.tally = Tally()
        self.receivers: list[LeanReceiver | FullReceiver] = []

    async def handle(self, command: str, args: tuple[Any, ...]) -> Any:
        return await getattr(self, command)(*args)

    async def open(self) -> list[str]:
        """Open the sockets; returns the errors of those that failed."""
        spec, errors = self.spec, []
        kind = LeanReceiver if spec.lean else FullReceiver
        for first in range(0, spec.count, spec.batch):
            batch = range(first, min(first + spec.batch, spec.count))
            tokens = [spec.tokens[i % len(spec.tokens)] for i in batch]
            opening: list[Awaitable[LeanReceiver | FullReceiver]] = [
                kind.open(spec.url, t, spec.channel, self.tally) for t in tokens
            ]
            for result in await asyncio.gather(*opening, return_exceptions=True):
                if isinstance(result, BaseException):
                    errors.append(f"{type(result).__name__}: {result}"[:300])
                else:
                    self.receivers.append(result)
        return errors

    async def mark(self) -> None:
        for receiver in self.receivers:
            receiver.reset()
        self.tally = Tally()
        for receiver in self.receivers:
            receiver.tally = self.tally

    async def wait(self, per_socket: int, stall: float, timeout: float) -> int:
        """Until every socket got ``per_socket`` events, or none came for ``stall`` s."""
        target = per_socket * len(self.receivers)
        start = last_change = time.monotonic()
        last = -1
        while self.tally.events < target:
            clock = time.monotonic()
            if self.tally.events != last:
                last, last_change = self.tally.events, clock
            if clock - last_change > stall or clock - start > timeout:
                break
            await asyncio.sleep(0.005)
        return self.tally.events

    async def collect(self) -> tuple[list[Records], dict[int, str], int]:
        """Per socket (times, seqs); seq -> at; non-event frames."""
        records = [r.records() for r in self.receivers]
        return records, self.tally.ats, sum(r.other for r in self.receivers)

    async def closed(self) -> list[int | None]:
        return [r.closed_code for r in self.receivers if r.closed_code is not None]

    async def stop(self) -> None:
        for receiver in self.receivers:
            receiver.abort()
        await asyncio.sleep(0.1)


async def _serve(conn: Connection, spec: Spec) -> None:
    worker = Worker(spec)
    commands: asyncio.Queue[tuple[str, tuple[Any, ...]]] = asyncio.Queue()
    asyncio.get_running_loop().add_reader(conn.fileno(), lambda: commands.put_nowait(conn.recv()))
    while True:
        command, args = await commands.get()
        try:
            conn.send((True, await worker.handle(command, args)))
        except Exception:
            conn.send((False, traceback.format_exc()))
        if command == "stop":
            return


def worker_main(conn: Connection, spec: Spec) -> None:
    """Entry point of a worker process (multiprocessing, spawn)."""
    asyncio.run(_serve(conn, spec))
