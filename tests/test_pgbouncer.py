"""The hub through a real PgBouncer in transaction pooling mode, with only DATABASE_URL set.

Two ``hub serve`` processes start together (each migrates first, under a
transaction-scoped advisory lock) against a fresh database behind a
PgBouncer whose server pool is smaller than their client pools, so server
connections change hands between transactions: a prepared statement that
outlived its transaction would fail here.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import (
    REDIS_URL,
    SHARED_SERVER_ENV,
    Account,
    _unreachable,
    check_redis,
    clear_redis_prefix,
    create_database,
    drop_database,
    make_admin,
    make_calendar,
    run_sql,
    sign_up,
)
from tests.pgbouncer import SERVER_POOL_SIZE, PrivatePgBouncer
from tests.servers import HubServer, run_hub
from tests.test_booking import booking
from tests.wsclient import HubClient, session

pytestmark = pytest.mark.services


@dataclass
class Bounced:
    """Two hub processes whose only database address is PgBouncer's."""

    bouncer: PrivatePgBouncer
    direct_url: str
    env: dict[str, str]
    servers: list[HubServer]


@pytest.fixture(scope="module")
async def bounced() -> AsyncIterator[Bounced]:
    await check_redis()
    direct_url = await create_database()
    try:
        bouncer = await asyncio.to_thread(PrivatePgBouncer().start)
    except (RuntimeError, OSError) as exc:
        await drop_database(direct_url)
        _unreachable("PgBouncer", exc)
    prefix = f"hubtest:{uuid.uuid4().hex[:8]}:"
    env = {
        "DATABASE_URL": bouncer.url_for(direct_url),
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "HUB_REDIS_PREFIX": prefix,
        **SHARED_SERVER_ENV,
    }
    servers = [HubServer(env), HubServer(env)]
    try:
        for server in servers:  # both migrate at once
            server.start(wait=False)
        await asyncio.gather(*(asyncio.to_thread(s.wait_ready) for s in servers))
        yield Bounced(bouncer, direct_url, env, servers)
    finally:
        await asyncio.gather(*(asyncio.to_thread(s.stop) for s in servers))
        for server in servers:
            server.log_path.unlink(missing_ok=True)
        await asyncio.to_thread(bouncer.cleanup)
        await drop_database(direct_url)
        await clear_redis_prefix(prefix)


@pytest.fixture(scope="module")
async def admin(bounced: Bounced) -> Account:
    """An admin made with the real `hub create-admin`, through PgBouncer."""
    return await make_admin(bounced.servers[0], bounced.env)


async def test_two_servers_migrate_at_once_through_pgbouncer(bounced: Bounced) -> None:
    """Both processes started, the schema is at one head, and PgBouncer pools in transaction mode."""
    (version,) = await run_sql(
        bounced.direct_url, [("SELECT version_num FROM alembic_version", ())]
    )
    assert version is not None and version["version_num"]
    (count,) = await run_sql(bounced.direct_url, [("SELECT count(*) FROM alembic_version", ())])
    assert count[0] == 1
    database = bounced.direct_url.rpartition("/")[2]
    pools = [p for p in bounced.bouncer.admin("SHOW POOLS") if p["database"] == database]
    assert [p["pool_mode"] for p in pools] == ["transaction"]
    for server in bounced.servers:
        async with httpx.AsyncClient(base_url=server.url) as api:
            assert (await api.get("/health")).status_code == 200
    # Later runs land on server connections earlier runs used (a restart, an
    # operator's `hub migrate`): nothing they prepared may get in the way.
    for _ in range(2):
        result = await asyncio.to_thread(run_hub, ["migrate"], bounced.env)
        assert result.returncode == 0, result.stderr


async def test_admin_sign_in_refresh_and_logout(bounced: Bounced, admin: Account) -> None:
    """create-admin, sign-in on one process, refresh on the other, logout: all through PgBouncer."""
    first, second = bounced.servers
    assert admin.role == "admin"
    async with (
        httpx.AsyncClient(base_url=first.url, timeout=15) as one,
        httpx.AsyncClient(base_url=second.url, timeout=15) as two,
    ):
        account = await sign_up(one, "client")
        refreshed = await two.post(
            "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
        )
        assert refreshed.status_code == 200, refreshed.text
        tokens = refreshed.json()
        auth = {"Authorization": "Bearer " + tokens["access_token"]}
        assert (await one.get("/api/v1/auth/me", headers=auth)).json()["id"] == account.id
        out = await one.post(
            "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=auth
        )
        assert out.status_code == 204, out.text
        assert (await two.get("/api/v1/auth/me", headers=auth)).status_code == 401
        again = await two.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert again.status_code == 401


async def _client_socket(server: HubServer) -> tuple[Account, HubClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as api:
        account = await sign_up(api, "client")
    return account, await session(server.ws_url, account.access_token)


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [event["seq"] for event in events]


async def test_bookings_race_and_catch_up_across_servers(bounced: Bounced, admin: Account) -> None:
    """Bookings over sockets, a 20-way race (one winner), live events and replay from the log."""
    first, second = bounced.servers
    writer = await session(first.ws_url, admin.access_token)
    calendar = await make_calendar(writer)
    channel = f"calendar:{calendar['id']}"
    watcher = await session(second.ws_url, admin.access_token)
    head = (await watcher.ok("subscribe", {"channel": channel}))["seq"]

    for hour in range(1, 4):
        await writer.ok("appointment.create", booking(calendar, hour, hour + 1))
    racers = [await _client_socket(bounced.servers[i % 2]) for i in range(20)]
    answers = await asyncio.gather(
        *(c.request("appointment.create", booking(calendar, 10, 11)) for _, c in racers)
    )
    assert sorted(a["type"] for a in answers) == ["error"] * 19 + ["ok"]
    assert {a["error"]["code"] for a in answers if a["type"] == "error"} == {"slot_taken"}

    live = await watcher.events_until(4)
    assert seqs(live) == list(range(head + 1, head + 5))
    assert [e["event"] for e in live] == ["appointment.created"] * 4
    await watcher.no_event()

    # A subscriber that was away resumes from the channel log, then continues live.
    late = await session(second.ws_url, admin.access_token)
    answer = await late.ok("subscribe", {"channel": channel, "since": head + 1})
    assert answer == {"channel": channel, "seq": head + 4}
    assert seqs(await late.events_until(3)) == list(range(head + 2, head + 5))
    await writer.ok("appointment.create", booking(calendar, 12, 13))
    assert (await late.next_event())["seq"] == head + 5
    assert (await watcher.next_event())["seq"] == head + 5

    database = bounced.direct_url.rpartition("/")[2]
    servers = [s for s in bounced.bouncer.admin("SHOW SERVERS") if s["database"] == database]
    assert len(servers) <= SERVER_POOL_SIZE, "PgBouncer's pool, not one server per client"
    for client in [writer, watcher, late, *(c for _, c in racers)]:
        await client.close()
