"""A rolling restart of two processes under steady booking traffic loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import (
    make_admin,
    make_calendar,
    services_env,
)
from tests.servers import HubServer
from tests.test_booking import booking
from tests.test_faults import start_all
from tests.wsclient import HubClient, session


class Roamer:
    """A client that, when its server goes away, reconnects to any other and resumes."""

    def __init__(self, servers: list[HubServer], token: str) -> None:
        self.servers = servers
        self.token = token
        self.client: HubClient | None = None
        self.turn = 0

    async def connect(self) -> HubClient:
        while True:
            server = self.servers[self.turn % len(self.servers)]
            self.turn += 1
            try:
                self.client = await session(server.ws_url, self.token)
                return self.client
            except Exception:
                await asyncio.sleep(0.1)


async def watch(roamer: Roamer, channel: str, until: asyncio.Event, seen: list[int]) -> None:
    """Follow the channel across reconnects, resuming with since."""
    while not (until.is_set() and roamer.client is not None and roamer.client.events.empty()):
        client = await roamer.connect()
        try:
            answer = await client.request(
                "subscribe", {"channel": channel, "since": seen[-1] if seen else 0}
            )
            assert answer["type"] == "ok", answer
            while True:
                try:
                    event = await client.next_event(timeout=0.5)
                except TimeoutError:
                    if client.ws.close_code is not None or until.is_set():
                        break
                    continue
                seen.append(event["seq"])
        except Exception:
            pass
        if until.is_set() and client.ws.close_code is None:
            return


async def write(roamer: Roamer, calendar: dict[str, Any], count: int, booked: list[str]) -> None:
    """Book steadily; on any failure, reconnect and retry with the same idempotency key."""
    client = await roamer.connect()
    for index in range(count):
        request = booking(
            calendar, index * 0.25, index * 0.25 + 0.25, idempotency_key=f"roll-{index}"
        )
        while True:
            try:
                answer = await client.request("appointment.create", request, timeout=5)
                if answer["type"] == "ok":
                    booked.append(answer["data"]["appointment"]["id"])
                    break
                assert answer["error"]["code"] == "unavailable", answer
            except (AssertionError, KeyError):
                raise
            except Exception:
                client = await roamer.connect()
        await asyncio.sleep(0.02)


@pytest.fixture
async def pair_env() -> AsyncIterator[dict[str, str]]:
    async with services_env() as env:
        yield env


async def test_rolling_restart_loses_no_booking_and_no_event(pair_env: dict[str, str]) -> None:
    """SIGTERM one process, restart it, then the other: every booking and event survives."""
    servers = [HubServer(pair_env), HubServer(pair_env)]
    await start_all(servers)
    try:
        admin = await make_admin(servers[0], pair_env)
        setup = await session(servers[0].ws_url, admin.access_token)
        calendar = await make_calendar(setup)
        channel = f"calendar:{calendar['id']}"
        watcher, writer = (
            Roamer(servers, admin.access_token),
            Roamer(servers[::-1], admin.access_token),
        )
        done = asyncio.Event()
        seen: list[int] = []
        booked: list[str] = []
        watching = asyncio.create_task(watch(watcher, channel, done, seen))
        writing = asyncio.create_task(write(writer, calendar, 120, booked))
        for server in servers:  # the rolling restart
            await asyncio.sleep(0.7)
            await asyncio.to_thread(server.stop)
            await asyncio.to_thread(server.start)
        await writing
        checker = await session(servers[0].ws_url, admin.access_token)
        final = await checker.ok("appointments.list", {"channel": channel})
        await checker.close()
        done.set()
        await asyncio.wait_for(watching, 30)
        assert len(booked) == len(set(booked)) == 120
        assert {a["id"] for a in final["appointments"]} == set(booked)
        assert seen == list(range(1, final["seq"] + 1)) and final["seq"] == 120
        for roamer in (watcher, writer):
            if roamer.client is not None:
                await roamer.client.close()
        with contextlib.suppress(Exception):
            await setup.close()
    finally:
        await asyncio.gather(*[asyncio.to_thread(s.stop) for s in servers])
