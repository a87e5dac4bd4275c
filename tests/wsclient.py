"""A protocol client for tests, on the real ``websockets`` library."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

_ids = itertools.count(1)


class HubClient:
    """One socket: answers resolved by id, events and unsolicited frames queued."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.unsolicited: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.frames: list[dict[str, Any]] = []
        self._waiting: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> HubClient:
        ws = await connect(url, open_timeout=10, **kwargs)
        return cls(ws)

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                frame = json.loads(raw)
                self.frames.append(frame)
                if frame.get("type") == "event":
                    self.events.put_nowait(frame)
                elif "id" in frame and frame["id"] in self._waiting:
                    self._waiting.pop(frame["id"]).set_result(frame)
                else:
                    self.unsolicited.put_nowait(frame)

    async def send_raw(self, text: str | bytes) -> None:
        await self.ws.send(text)

    async def request(
        self, kind: str, data: dict[str, Any] | None = None, timeout: float = 15
    ) -> dict[str, Any]:
        """Send a request and return its answer frame (ok or error)."""
        request_id = f"r{next(_ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        message: dict[str, Any] = {"id": request_id, "type": kind}
        if data is not None:
            message["data"] = data
        await self.ws.send(json.dumps(message))
        async with asyncio.timeout(timeout):
            return await future

    async def ok(self, kind: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request that must succeed; returns its data."""
        answer = await self.request(kind, data)
        assert answer["type"] == "ok", answer
        result: dict[str, Any] = answer["data"]
        return result

    async def error(self, kind: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request that must fail; returns its error object."""
        answer = await self.request(kind, data)
        assert answer["type"] == "error", answer
        result: dict[str, Any] = answer["error"]
        return result

    async def next_event(self, timeout: float = 5) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            return await self.events.get()

    async def events_until(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        return [await self.next_event(timeout) for _ in range(count)]

    async def no_event(self, wait: float = 0.5) -> None:
        with contextlib.suppress(TimeoutError):
            event = await self.next_event(wait)
            raise AssertionError(f"unexpected event {event}")

    async def closed_with(self, timeout: float = 15) -> int | None:
        """Wait for the server to close; returns the close code."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._reader
                await self.ws.wait_closed()
        return self.ws.close_code

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader


async def session(url: str, token: str) -> HubClient:
    """A socket that has said hello."""
    client = await HubClient.open(url)
    await client.ok("hello", {"token": token})
    return client
