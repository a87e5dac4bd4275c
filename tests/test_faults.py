"""Faults on purpose: Redis and PostgreSQL outages, revocation across processes, limits.

Tests that stop a service start a private one on a spare port and never
touch the shared ones.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import (
    REDIS_URL,
    SHARED_SERVER_ENV,
    Backend,
    check_redis,
    clear_redis_prefix,
    make_admin,
    make_calendar,
    services_env,
    sign_up,
    watch_everywhere,
)
from tests.servers import FreezableProxy, HubServer, PrivatePostgres, PrivateRedis
from tests.test_booking import booking
from tests.wsclient import HubClient, session


async def start_all(servers: list[HubServer]) -> None:
    for server in servers:
        server.start(wait=False)
    await asyncio.gather(*[asyncio.to_thread(s.wait_ready) for s in servers])


async def stop_all(servers: list[HubServer]) -> None:
    await asyncio.gather(*[asyncio.to_thread(s.stop) for s in servers])


@pytest.fixture
async def redis_cluster_env() -> AsyncIterator[tuple[dict[str, str], PrivateRedis]]:
    """A fresh PostgreSQL database and a private Redis that tests may stop."""
    redis_server = PrivateRedis().start()
    try:
        async with services_env(redis_server.url) as env:
            yield env, redis_server
    finally:
        redis_server.cleanup()


def assert_complete(events: list[dict[str, Any]], head: int) -> None:
    assert [e["seq"] for e in events] == list(range(1, head + 1))


async def test_redis_restart_under_three_processes_loses_nothing(
    redis_cluster_env: tuple[dict[str, str], PrivateRedis],
) -> None:
    """Redis restarted while a writer books steadily: every subscriber gets every event, in order."""
    env, redis_server = redis_cluster_env
    servers = [HubServer(env) for _ in range(3)]
    await start_all(servers)
    try:
        watched = await watch_everywhere(servers, env)
        writer, calendar, watchers = watched.writer, watched.calendar, watched.watchers

        booked = 0
        restarted_at = 0.0

        async def write_steadily() -> None:
            nonlocal booked
            for index in range(60):
                await writer.ok(
                    "appointment.create", booking(calendar, index * 0.25, index * 0.25 + 0.25)
                )
                booked += 1
                await asyncio.sleep(0.05)

        async def restart_redis() -> None:
            nonlocal restarted_at
            await asyncio.sleep(0.8)
            redis_server.stop()
            await asyncio.sleep(1.5)
            redis_server.start()
            restarted_at = time.monotonic()

        await asyncio.gather(write_steadily(), restart_redis())
        for watcher in watchers:
            events = await watcher.events_until(2 * 0 + booked, timeout=20)
            assert_complete(events, booked)
            await watcher.no_event(0.3)
        caught_up = time.monotonic() - restarted_at
        print(
            f"redis restart: {booked} events on 3 processes complete, "
            f"{caught_up:.2f}s after Redis returned"
        )
        assert any('"event": "broker_down"' in s.log() for s in servers)
        for client in [writer, *watchers]:
            await client.close()
    finally:
        await stop_all(servers)


async def test_sign_in_answers_503_while_redis_is_down(
    redis_cluster_env: tuple[dict[str, str], PrivateRedis],
) -> None:
    """The token store down: login is 503 unavailable at once, and works again afterwards."""
    env, redis_server = redis_cluster_env
    server = HubServer(env).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
            account = await sign_up(api)
            redis_server.stop()
            started = time.monotonic()
            down = await api.post(
                "/api/v1/auth/login/json",
                json={"email": account.email, "password": account.password},
            )
            assert down.status_code == 503 and down.json()["error"]["code"] == "unavailable"
            assert time.monotonic() - started < 5
            redis_server.start()
            deadline = time.monotonic() + 15
            while (
                await api.post(
                    "/api/v1/auth/login/json",
                    json={"email": account.email, "password": account.password},
                )
            ).status_code != 200:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
    finally:
        server.stop()


async def test_postgres_outage_under_traffic() -> None:
    """PostgreSQL stopped: writes answer unavailable in bounded time, sockets stay, it recovers."""
    await check_redis()
    pg = await asyncio.to_thread(PrivatePostgres().start)
    prefix = f"hubtest:{uuid.uuid4().hex[:8]}:"
    env = {
        "DATABASE_URL": pg.url,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "HUB_REDIS_PREFIX": prefix,
        "HUB_DB_TIMEOUT_SECONDS": "2",
        **SHARED_SERVER_ENV,
    }
    server = HubServer(env)
    try:
        await asyncio.to_thread(server.start)
        admin = await make_admin(server, env)
        writer = await session(server.ws_url, admin.access_token)
        watcher = await session(server.ws_url, admin.access_token)
        calendar = await make_calendar(writer)
        channel = f"calendar:{calendar['id']}"
        await watcher.ok("subscribe", {"channel": channel})
        await writer.ok("appointment.create", booking(calendar, 1, 2))
        assert (await watcher.next_event())["seq"] == 1

        await asyncio.to_thread(pg.stop)
        started = time.monotonic()
        down = await writer.error("appointment.create", booking(calendar, 3, 4))
        took = time.monotonic() - started
        assert down["code"] == "unavailable" and took < 6, (down, took)
        assert (await writer.ok("ping"))["server_time"]  # the socket stays open
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
            assert (await api.get("/health/db")).status_code == 503

        await asyncio.to_thread(pg.start)
        back = time.monotonic()
        deadline = back + 20
        while (answer := await writer.request("appointment.create", booking(calendar, 3, 4)))[
            "type"
        ] != "ok":
            assert answer["error"]["code"] in ("unavailable", "internal"), answer
            assert time.monotonic() < deadline, "no recovery"
            await asyncio.sleep(0.3)
        event = await watcher.next_event(10)
        assert event["seq"] == 2  # nothing half-applied while it was down
        print(
            f"postgres outage: unavailable after {took:.2f}s; booking again "
            f"{time.monotonic() - back:.2f}s after PostgreSQL returned"
        )
        snapshot = await writer.ok("appointments.list", {"channel": channel})
        assert snapshot["seq"] == 2 and len(snapshot["appointments"]) == 2
        await writer.close()
        await watcher.close()
    finally:
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(pg.cleanup)
        await clear_redis_prefix(prefix)


async def test_revocations_close_sockets_on_other_processes(
    redis_cluster_env: tuple[dict[str, str], PrivateRedis],
) -> None:
    """Logout and deactivation made through process A close sockets held by process B."""
    env, _ = redis_cluster_env
    first, second = HubServer(env), HubServer(env)
    await start_all([first, second])
    try:
        admin = await make_admin(first, env)
        async with httpx.AsyncClient(base_url=first.url) as api:
            leaving = await sign_up(api)
            held = await session(second.ws_url, leaving.access_token)
            assert (
                await api.post("/api/v1/auth/logout", json={}, headers=leaving.auth)
            ).status_code == 204
            assert await held.closed_with(10) == 4001

            banned = await sign_up(api)
            sockets = [await session(second.ws_url, banned.access_token) for _ in range(2)]
            desk = await session(first.ws_url, admin.access_token)
            await desk.ok("user.update", {"user_id": banned.id, "is_active": False})
            for sock in sockets:
                assert await sock.closed_with(10) == 4001
            await desk.close()
    finally:
        await stop_all([first, second])


async def test_socket_and_subscription_caps(backend: Backend) -> None:
    """Past the per-user socket cap hello is rate_limited (4029); past 2 subscriptions, refused."""
    env = {
        **backend.env,
        **SHARED_SERVER_ENV,
        "HUB_MAX_SOCKETS_PER_USER": "2",
        "HUB_MAX_SUBSCRIPTIONS": "2",
    }
    server = HubServer(env)
    await asyncio.to_thread(server.start)
    try:
        admin = await make_admin(server, backend.env)
        first = await session(server.ws_url, admin.access_token)
        second = await session(server.ws_url, admin.access_token)
        third = await HubClient.open(server.ws_url)
        refused = await third.error("hello", {"token": admin.access_token})
        assert refused["code"] == "rate_limited"
        assert await third.closed_with() == 4029
        calendars = [await make_calendar(first) for _ in range(3)]
        for calendar in calendars[:2]:
            await first.ok("subscribe", {"channel": f"calendar:{calendar['id']}"})
        over = await first.error("subscribe", {"channel": f"calendar:{calendars[2]['id']}"})
        assert over["code"] == "bad_request" and over["details"]["limit"] == 2
        await first.close()
        await second.close()
    finally:
        await asyncio.to_thread(server.stop)


async def test_logs_never_contain_secrets(hub: HubServer, api: httpx.AsyncClient) -> None:
    """After sign-ins, refreshes and sockets, no token or password appears in the server log."""
    account = await sign_up(api)
    refreshed = (
        await api.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    ).json()
    client = await session(hub.ws_url, account.access_token)
    await client.send_raw("{broken")
    await client.close()
    log = hub.log_path.read_text()
    for secret in (
        account.password,
        account.access_token,
        account.refresh_token,
        refreshed["access_token"],
        refreshed["refresh_token"],
    ):
        assert secret not in log
    assert '"event": "hub_started"' in log


async def test_a_burst_of_hellos_all_succeed(
    redis_cluster_env: tuple[dict[str, str], PrivateRedis],
) -> None:
    """300 sockets saying hello at once: none gets a spurious unavailable (Redis pool)."""
    env, _ = redis_cluster_env
    server = HubServer({**env, "HUB_MAX_SOCKETS_PER_USER": "1000"})
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as api:
            account = await sign_up(api)
        clients = await asyncio.gather(*[HubClient.open(server.ws_url) for _ in range(300)])
        answers = await asyncio.gather(
            *[c.request("hello", {"token": account.access_token}) for c in clients]
        )
        assert [a for a in answers if a["type"] != "ok"] == []
        await asyncio.gather(*[c.close() for c in clients])
    finally:
        await asyncio.to_thread(server.stop)


async def test_hung_postgres_answers_unavailable_in_bounded_time() -> None:
    """PostgreSQL that accepts but never answers: unavailable within the timeout, then recovery."""
    proxy = await FreezableProxy(5432).start()
    async with services_env() as env:
        url = env["DATABASE_URL"].replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        server = HubServer({**env, "DATABASE_URL": url, "HUB_DB_TIMEOUT_SECONDS": "1"})
        await asyncio.to_thread(server.start)
        try:
            admin = await make_admin(server, env)
            writer = await session(server.ws_url, admin.access_token)
            calendar = await make_calendar(writer)
            await writer.ok("appointment.create", booking(calendar, 1, 2))
            proxy.frozen = True
            started = time.monotonic()
            hung = await writer.error("appointment.create", booking(calendar, 3, 4))
            took = time.monotonic() - started
            assert hung["code"] == "unavailable" and took < 4, (hung, took)
            started = time.monotonic()
            read = await writer.error(
                "availability.get",
                {
                    "calendar_id": calendar["id"],
                    "from": "2030-01-01T00:00:00Z",
                    "to": "2030-01-02T00:00:00Z",
                    "duration_minutes": 30,
                },
            )
            assert read["code"] == "unavailable" and time.monotonic() - started < 4
            assert (await writer.ok("ping"))["server_time"]
            proxy.frozen = False
            deadline = time.monotonic() + 20
            while (answer := await writer.request("appointment.create", booking(calendar, 3, 4)))[
                "type"
            ] != "ok":
                assert answer["error"]["code"] == "unavailable", answer
                assert time.monotonic() < deadline, "no recovery after the freeze"
                await asyncio.sleep(0.3)
            listed = await writer.ok("appointments.list", {"channel": f"calendar:{calendar['id']}"})
            assert len(listed["appointments"]) == 2 and listed["seq"] == 2
            print(f"hung postgres: unavailable after {took:.2f}s")
            await writer.close()
        finally:
            await asyncio.to_thread(server.stop)
            await proxy.stop()
