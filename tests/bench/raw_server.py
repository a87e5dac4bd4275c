"""The raw limit for the fan-out benchmark: a bare ``websockets`` server, one broadcast per event.

It speaks just enough of the hub's protocol for the benchmark's receivers
and writer (``hello``, ``subscribe``, ``appointment.create``), and on each
``appointment.create`` broadcasts one pre-encoded event frame of the hub's
size to every subscriber with ``websockets.broadcast``: no database, no
broker, no projection, no per-socket work beyond the library's own. Run as
its own process (``python -m tests.bench.raw_server PORT``) so that its CPU
is measured apart, like the hub's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

CHANNEL_DATA = {
    "client_id": str(uuid.uuid4()),
    "title": "bench",
    "notes": "",
    "status": "confirmed",
    "version": 1,
    "created_by": str(uuid.uuid4()),
    "kind": "appointment",
    "series_id": None,
}


class RawHub:
    def __init__(self) -> None:
        self.subscribers: set[ServerConnection] = set()
        self.seq = 0

    async def handle(self, ws: ServerConnection) -> None:
        try:
            async for text in ws:
                request = json.loads(text)
                await ws.send(json.dumps(self.answer(ws, request)))
        except ConnectionClosed:
            pass  # the benchmark drops its sockets without a closing handshake
        finally:
            self.subscribers.discard(ws)

    def answer(self, ws: ServerConnection, request: dict[str, Any]) -> dict[str, Any]:
        kind, data = request["type"], request.get("data") or {}
        reply: dict[str, Any] = {"type": "ok", "id": request.get("id"), "data": {}}
        if kind == "subscribe":
            self.subscribers.add(ws)
            reply["data"] = {"channel": data["channel"], "seq": self.seq}
        elif kind == "appointment.create":
            self.seq += 1
            broadcast(self.subscribers, self.event(data))
            reply["data"] = {"seqs": {f"calendar:{data['calendar_id']}": self.seq}}
        return reply

    def event(self, data: dict[str, Any]) -> str:
        """An event frame like the hub's appointment.created, encoded once for everyone."""
        at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        appointment = {
            "id": str(uuid.uuid4()),
            "calendar_id": data["calendar_id"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "created_at": at,
            "updated_at": at,
            **CHANNEL_DATA,
        }
        return json.dumps(
            {
                "type": "event",
                "channel": f"calendar:{data['calendar_id']}",
                "seq": self.seq,
                "event": "appointment.created",
                "data": appointment,
                "at": at,
            },
            separators=(",", ":"),
        )


async def main(port: int) -> None:
    hub = RawHub()
    async with serve(hub.handle, "127.0.0.1", port, compression=None, max_queue=None):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
