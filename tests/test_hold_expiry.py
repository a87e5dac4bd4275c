"""A lapsed hold is released exactly once, within 2 s, whatever the processes do."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from hub.domain.times import parse_wire_time
from tests.conftest import Backend, make_admin, make_calendar, services_env, sign_up
from tests.inproc import InProcessHub
from tests.servers import HubServer
from tests.test_holds import slot
from tests.wsclient import HubClient, session

LATE = timedelta(seconds=2)  # PROTOCOL.md: released no later than expires_at + 2 s


@contextlib.asynccontextmanager
async def processes(env: dict[str, str], count: int) -> AsyncIterator[list[InProcessHub]]:
    hubs = [await InProcessHub(env).start() for _ in range(count)]
    try:
        yield hubs
    finally:
        for each in hubs:
            await each.stop()


async def test_a_lapsed_hold_is_released_once_on_every_process(
    backend: Backend, private_env: dict[str, str]
) -> None:
    """Subscribers on each process see one slot.released (expired), no later than expires_at + 2 s."""
    env = {**private_env, "HUB_HOLD_SECONDS": "1"}
    count = 1 if backend.name == "embedded" else 2
    async with processes(env, count) as hubs:
        admin = await make_admin(hubs[0], env)
        writer = await session(hubs[0].ws_url, admin.access_token)
        calendar = await make_calendar(writer)
        watchers: list[HubClient] = []
        for each in hubs:
            watcher = await session(each.ws_url, admin.access_token)
            await watcher.ok("subscribe", {"channel": f"calendar:{calendar['id']}"})
            watchers.append(watcher)
        async with httpx.AsyncClient(base_url=hubs[-1].url) as api:
            client = await session(hubs[-1].ws_url, (await sign_up(api)).access_token)
        hold = (await client.ok("slot.hold", slot(calendar, 10, 11)))["hold"]
        deadline = parse_wire_time(hold["expires_at"]) + LATE
        for watcher in watchers:
            held, released = await watcher.events_until(2, timeout=6)
            assert held["event"] == "slot.held"
            assert released["event"] == "slot.released"
            assert released["data"]["reason"] == "expired"
            assert parse_wire_time(released["at"]) <= deadline, (released["at"], deadline)
        for watcher in watchers:
            await watcher.no_event(1.5)  # exactly once
        again = await client.ok("slot.hold", slot(calendar, 10, 11))  # the slot is free again
        assert again["hold"]["id"] != hold["id"]
        for socket in (writer, client, *watchers):
            await socket.close()


@pytest.mark.services
async def test_a_hold_lapses_after_the_process_that_made_it_dies() -> None:
    """SIGKILL the process that made a hold: another process releases it when it lapses."""
    async with services_env() as shared:
        await _outlived(shared)


async def _outlived(shared: dict[str, str]) -> None:
    env = {**shared, "HUB_HOLD_SECONDS": "3"}
    maker = HubServer(env)
    await asyncio.to_thread(maker.start)
    try:
        async with processes(env, 1) as (survivor,):
            admin = await make_admin(survivor, env)
            writer = await session(survivor.ws_url, admin.access_token)
            calendar = await make_calendar(writer)
            await writer.ok("subscribe", {"channel": f"calendar:{calendar['id']}"})
            async with httpx.AsyncClient(base_url=maker.url) as api:
                client = await session(maker.ws_url, (await sign_up(api)).access_token)
            hold = (await client.ok("slot.hold", slot(calendar, 10, 11)))["hold"]
            await asyncio.to_thread(maker.kill)
            held, released = await writer.events_until(2, timeout=8)
            assert (held["event"], released["event"]) == ("slot.held", "slot.released")
            assert released["data"] == {**released["data"], "id": hold["id"], "reason": "expired"}
            deadline = parse_wire_time(hold["expires_at"]) + LATE
            assert parse_wire_time(released["at"]) <= deadline
            await writer.close()
    finally:
        await asyncio.to_thread(maker.stop)


async def test_a_hold_survives_a_restart_until_it_lapses(
    backend: Backend, private_env: dict[str, str]
) -> None:
    """Restart the only process: the hold is still taken, then lapses once, on time."""
    env = {**private_env, "HUB_HOLD_SECONDS": "4"}
    first = await InProcessHub(env).start()
    admin = await make_admin(first, env)
    writer = await session(first.ws_url, admin.access_token)
    calendar = await make_calendar(writer)
    async with httpx.AsyncClient(base_url=first.url) as api:
        holder, other = await sign_up(api), await sign_up(api)
    client = await session(first.ws_url, holder.access_token)
    hold = (await client.ok("slot.hold", slot(calendar, 10, 11)))["hold"]
    seq = (await writer.ok("appointments.list", {"channel": f"calendar:{calendar['id']}"}))["seq"]
    for each in (writer, client):
        await each.close()
    await first.stop()
    second = await InProcessHub(env).start()
    try:
        rival = await session(second.ws_url, other.access_token)
        taken = await rival.error("slot.hold", slot(calendar, 10, 11))
        assert taken["code"] == "slot_taken" and taken["details"]["rule"] == "held"
        watcher = await session(second.ws_url, admin.access_token)
        await watcher.ok("subscribe", {"channel": f"calendar:{calendar['id']}", "since": seq})
        released = await watcher.next_event(timeout=8)
        assert released["event"] == "slot.released" and released["data"]["reason"] == "expired"
        deadline = parse_wire_time(hold["expires_at"]) + LATE
        assert parse_wire_time(released["at"]) <= deadline
        await watcher.no_event(1)
        for socket in (rival, watcher):
            await socket.close()
    finally:
        await second.stop()
