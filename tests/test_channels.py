"""Channels: resume with since, snapshots, many processes, slow consumers."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.client import ClientProtocol
from websockets.uri import parse_uri

from tests.conftest import (
    SHARED_SERVER_ENV,
    Account,
    Backend,
    make_admin,
    make_calendar,
    services_env,
    sign_in,
    sign_up,
    watch_everywhere,
)
from tests.servers import HubServer, run_hub
from tests.test_booking import booking
from tests.wsclient import HubClient, session


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in events]


async def test_resume_with_since_gets_exactly_the_missed_events(
    hub: HubServer, admin: Account, admin_ws: HubClient, calendar: dict[str, Any]
) -> None:
    """Disconnect, changes happen, subscribe with since: the missed events in order, then live."""
    channel = f"calendar:{calendar['id']}"
    watcher = await session(hub.ws_url, admin.access_token)
    head = (await watcher.ok("subscribe", {"channel": channel}))["seq"]
    await admin_ws.ok("appointment.create", booking(calendar, 1, 2))
    assert (await watcher.next_event())["seq"] == head + 1
    await watcher.close()
    for hour in range(3, 8):
        await admin_ws.ok("appointment.create", booking(calendar, hour, hour + 1))
    again = await session(hub.ws_url, admin.access_token)
    answer = await again.ok("subscribe", {"channel": channel, "since": head + 1})
    assert answer == {"channel": channel, "seq": head + 6}
    missed = await again.events_until(5)
    assert seqs(missed) == list(range(head + 2, head + 7))
    await admin_ws.ok("appointment.create", booking(calendar, 9, 10))
    assert (await again.next_event())["seq"] == head + 7
    await again.no_event()
    await again.close()


async def test_since_beyond_head_is_resync_required(
    admin_ws: HubClient, calendar: dict[str, Any]
) -> None:
    """since greater than the head cannot be served."""
    channel = f"calendar:{calendar['id']}"
    error = await admin_ws.error("subscribe", {"channel": channel, "since": 5})
    assert error["code"] == "resync_required"
    missing = await admin_ws.error("subscribe", {"channel": f"calendar:{uuid.uuid4()}"})
    assert missing["code"] == "not_found"


async def test_snapshot_then_subscribe_under_a_concurrent_writer(
    hub: HubServer, admin: Account, admin_ws: HubClient, calendar: dict[str, Any]
) -> None:
    """A client's reconstructed state equals the database's: no gap, no duplicate seq."""
    channel = f"calendar:{calendar['id']}"
    writer = await session(hub.ws_url, admin.access_token)
    reader = await session(hub.ws_url, admin.access_token)

    async def write(count: int) -> None:
        made: list[dict[str, Any]] = []
        for index in range(count):
            if index % 3 == 2 and made:
                target = made.pop(0)
                answer = await writer.ok("appointment.cancel", {"appointment_id": target["id"]})
            else:
                answer = await writer.ok(
                    "appointment.create",
                    booking(calendar, (index % 200) * 0.5, (index % 200) * 0.5 + 0.25),
                )
                made.append(answer["appointment"])

    writing = asyncio.create_task(write(240))
    await asyncio.sleep(0.3)
    snapshot = await reader.ok("appointments.list", {"channel": channel})
    state = {a["id"]: a for a in snapshot["appointments"]}
    await reader.ok("subscribe", {"channel": channel, "since": snapshot["seq"]})
    await writing
    final = await admin_ws.ok("appointments.list", {"channel": channel})
    received = await reader.events_until(final["seq"] - snapshot["seq"])
    assert seqs(received) == list(range(snapshot["seq"] + 1, final["seq"] + 1))
    for event in received:
        state[event["data"]["id"]] = event["data"]
    assert state == {a["id"]: a for a in final["appointments"]}
    await reader.no_event()
    await writer.close()
    await reader.close()


class StalledClient:
    """A WebSocket client on a plain socket that reads nothing until told to."""

    def __init__(self, url: str, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        self.protocol = ClientProtocol(parse_uri(url))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while not self.protocol.events_received():
            self.protocol.receive_data(self.sock.recv(4096))

    def _flush(self) -> None:
        self.sock.sendall(b"".join(self.protocol.data_to_send()))

    def send(self, message: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        self._flush()

    async def drain_until_closed(self, timeout: float = 30) -> int | None:
        """Read everything; returns the close code the server sent."""
        loop = asyncio.get_running_loop()
        self.sock.setblocking(False)
        async with asyncio.timeout(timeout):
            while self.protocol.close_rcvd is None:
                data = await loop.sock_recv(self.sock, 65536)
                if not data:
                    break
                self.protocol.receive_data(data)
                self.protocol.events_received()
        self.sock.close()
        return None if self.protocol.close_rcvd is None else int(self.protocol.close_rcvd.code)


async def test_slow_consumer_is_closed_4008_others_continue(backend: Backend) -> None:
    """A client that stops reading is closed with 4008; another subscriber gets everything."""
    server = HubServer(
        {
            **backend.env,
            **SHARED_SERVER_ENV,
            "HUB_SEND_QUEUE_SIZE": "5",
            "HUB_SOCKET_SEND_BUFFER": "16384",
        }
    )
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as api:
            account = await sign_up(api, "admin")
            run_hub(["create-admin", "--email", account.email], backend.env)
            admin = await sign_in(api, account)
        writer = await session(server.ws_url, admin.access_token)
        calendar = await make_calendar(writer)
        channel = f"calendar:{calendar['id']}"
        fast = await session(server.ws_url, admin.access_token)
        await fast.ok("subscribe", {"channel": channel})
        slow = StalledClient(server.ws_url, server.port)
        slow.send({"id": 1, "type": "hello", "data": {"token": admin.access_token}})
        slow.send({"id": 2, "type": "subscribe", "data": {"channel": channel}})
        await asyncio.sleep(0.2)
        count = 120
        for index in range(count):
            await writer.ok(
                "appointment.create",
                {**booking(calendar, index * 0.25, index * 0.25 + 0.25), "notes": "n" * 4000},
            )
        received = await fast.events_until(count)
        assert seqs(received) == list(range(1, count + 1))
        assert await slow.drain_until_closed() == 4008
        assert "slow_consumer_close" in server.log()
        await writer.ok("appointment.create", booking(calendar, 40, 41))
        assert (await fast.next_event())["seq"] == count + 1
        await writer.close()
        await fast.close()
    finally:
        await asyncio.to_thread(server.stop)


# Many processes sharing PostgreSQL + Redis.


@pytest.fixture(scope="module")
async def cluster_env() -> AsyncIterator[dict[str, str]]:
    async with services_env() as env:
        yield env


async def test_change_on_one_process_reaches_subscribers_on_all(
    cluster_env: dict[str, str],
) -> None:
    """Three hub processes: a booking made through one reaches subscribers on every one."""
    servers = [HubServer(cluster_env) for _ in range(3)]
    for server in servers:
        server.start(wait=False)
    await asyncio.gather(*[asyncio.to_thread(s.wait_ready) for s in servers])
    try:
        watched = await watch_everywhere(servers, cluster_env)
        admin, writer, calendar, watchers = (
            watched.admin,
            watched.writer,
            watched.calendar,
            watched.watchers,
        )
        for index in range(10):
            target = session(servers[index % 3].ws_url, admin.access_token)
            client = await target
            await client.ok("appointment.create", booking(calendar, index, index + 1))
            await client.close()
        for watcher in watchers:
            assert seqs(await watcher.events_until(10)) == list(range(1, 11))
            await watcher.no_event(0.3)
            await watcher.close()
        await writer.close()
    finally:
        for server in servers:
            await asyncio.to_thread(server.stop)


async def test_killed_process_clients_resume_on_another(cluster_env: dict[str, str]) -> None:
    """SIGKILL one of two processes; its client resumes on the other with since, missing nothing."""
    first, second = HubServer(cluster_env).start(), HubServer(cluster_env).start()
    try:
        admin = await make_admin(first, cluster_env)
        writer = await session(second.ws_url, admin.access_token)
        calendar = await make_calendar(writer)
        channel = f"calendar:{calendar['id']}"
        watcher = await session(first.ws_url, admin.access_token)
        await watcher.ok("subscribe", {"channel": channel})
        await writer.ok("appointment.create", booking(calendar, 1, 2))
        last = (await watcher.next_event())["seq"]
        first.kill()
        assert await watcher.closed_with(10) is not None or True
        for hour in range(3, 6):
            await writer.ok("appointment.create", booking(calendar, hour, hour + 1))
        resumed = await session(second.ws_url, admin.access_token)
        await resumed.ok("subscribe", {"channel": channel, "since": last})
        assert seqs(await resumed.events_until(3)) == [2, 3, 4]
        await resumed.close()
        await writer.close()
    finally:
        first.stop()
        second.stop()


async def test_sigterm_closes_sockets_with_1012(cluster_env: dict[str, str]) -> None:
    """Graceful shutdown closes every socket with 1012 (reconnect and resume)."""
    server = HubServer(cluster_env).start()
    admin = await make_admin(server, cluster_env)
    client = await session(server.ws_url, admin.access_token)
    stopping = asyncio.create_task(asyncio.to_thread(server.stop))
    assert await client.closed_with(15) == 1012
    # uvicorn re-raises SIGTERM after its graceful shutdown: -15, not a SIGKILL (-9).
    assert await stopping in (0, -signal.SIGTERM)
    assert '"event": "hub_stopped"' in server.log()
