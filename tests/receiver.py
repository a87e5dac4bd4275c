"""A real HTTP receiver for webhook tests: records every request, answers as told.

Also :func:`in_process_admin`, which both webhook and feed tests use to make
an admin on a private in-process hub without a ``hub create-admin`` process.

A small HTTP/1.1 server on asyncio streams, in the test's own event loop, on a
port the kernel picks (or a given one, to come back on after :meth:`stop`).
It records each request (headers, body, arrival time, what it answered) and
answers 200 unless told otherwise: fail an event's first attempts, answer
every request with one status, redirect, or stall (hold the answer back).
Stopping closes the listening socket and every connection at once, so a
stopped receiver refuses connections like a dead one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import Account, sign_in, sign_up
from tests.inproc import InProcessHub

REASONS = {200: "OK", 204: "No Content", 302: "Found", 500: "Internal Server Error"}


@dataclass
class Received:
    """One request as it arrived, and the status it was answered with."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival
    wall: float  # time.time() on arrival (to compare with the hub's timestamps)
    status: int = 0

    @property
    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.body)
        return body

    @property
    def seq(self) -> int:
        return int(self.payload["data"]["seq"])

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Receiver:
    """Tell it how to answer through its attributes; read what came in ``requests``."""

    port: int = 0
    status: int = 200
    stall_seconds: float = 0.0
    redirect_to: str | None = None
    fail_first: dict[int, int] = field(default_factory=dict)  # seq -> failures still to give
    fail_new_messages: bool = False  # answer 500 to the first attempt of every webhook-id
    requests: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _serving: set[asyncio.Task[Any]] = field(default_factory=set)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _seen: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> Receiver:
        self._stopping.clear()
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._stopping.set()  # ends every stall
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await self._server.wait_closed()
            self._server = None
            # Let each connection's handler see its connection go, so none is left pending.
            if self._serving:
                await asyncio.wait(list(self._serving), timeout=5)

    def successes(self) -> list[Received]:
        return [r for r in self.requests if r.ok]

    async def wait_until(self, check: Callable[[], bool], timeout: float = 15) -> None:
        """Return once ``check()`` holds; fail the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                seen = [(r.seq, r.status) for r in self.requests]
                raise AssertionError(f"receiver: condition not met in {timeout} s; got {seen}")
            await asyncio.sleep(0.02)

    def _answer(self, request: Received) -> tuple[int, str]:
        if self.redirect_to is not None:
            return 302, f"location: {self.redirect_to}\r\n"
        if self.fail_new_messages and request.message_id not in self._seen:
            self._seen.add(request.message_id)
            return 500, ""
        with contextlib.suppress(ValueError, KeyError, TypeError):
            left = self.fail_first.get(request.seq, 0)
            if left > 0:
                self.fail_first[request.seq] = left - 1
                return 500, ""
        return self.status, ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._serving.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Received(method, path, headers, body, time.monotonic(), time.time())
                request.status, extra = self._answer(request)
                self.requests.append(request)
                if self.stall_seconds:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self.stall_seconds)
                reason = REASONS.get(request.status, "Status")
                writer.write(
                    f"HTTP/1.1 {request.status} {reason}\r\ncontent-length: 0\r\n{extra}\r\n".encode()
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._serving.discard(task)
            writer.close()


async def in_process_admin(server: InProcessHub, api: httpx.AsyncClient) -> Account:
    """A new admin on a private in-process hub, promoted through its own services."""
    account = await sign_up(api, "admin")
    await server.runtime.accounts.create_admin(account.email, None, "Admin")
    return await sign_in(api, account)
