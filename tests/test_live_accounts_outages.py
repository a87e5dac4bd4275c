"""Sign-ins when Redis restarts empty, and account news when its publish is lost; the last admin."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import Account, private_env, services_env, sign_in, sign_up
from tests.inproc import InProcessHub
from tests.servers import PrivateRedis, run_hub
from tests.wsclient import session

__all__ = ["private_env"]


@pytest.fixture
async def on_private_redis() -> AsyncIterator[tuple[list[InProcessHub], PrivateRedis]]:
    """Two hub processes on a fresh database and a Redis of our own that tests restart."""
    redis_server = PrivateRedis().start()
    try:
        async with services_env(redis_server.url) as env:
            hubs = [await InProcessHub(env).start() for _ in range(2)]
            try:
                yield hubs, redis_server
            finally:
                for each in hubs:
                    await each.stop()
    finally:
        redis_server.cleanup()


async def restart_empty(redis_server: PrivateRedis) -> None:
    """Stop Redis and start it again with nothing in it (no persistence)."""
    await asyncio.to_thread(redis_server.stop)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(redis_server.start)


@pytest.mark.services
async def test_revocation_survives_a_redis_that_restarts_empty(
    on_private_redis: tuple[list[InProcessHub], PrivateRedis],
) -> None:
    """A logged-out token stays refused after Redis comes back with nothing in it."""
    hubs, redis_server = on_private_redis
    async with httpx.AsyncClient(base_url=hubs[0].url, timeout=15) as api:
        account = await sign_up(api)
        assert (await api.post("/api/v1/auth/logout", headers=account.auth)).status_code == 204
        await restart_empty(redis_server)
        for each in hubs:
            me = await api.get(each.url + "/api/v1/auth/me", headers=account.auth)
            assert me.status_code == 401, me.text
        refreshed = await api.post(
            "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
        )
        assert refreshed.status_code == 401


@pytest.mark.services
async def test_no_spurious_unavailable_after_a_redis_restart(
    on_private_redis: tuple[list[InProcessHub], PrivateRedis],
) -> None:
    """Right after Redis returns, three bursts of 10 sign-ins and 10 /auth/me per process all work."""
    hubs, redis_server = on_private_redis
    async with httpx.AsyncClient(timeout=15) as api:
        accounts = [await sign_up_at(api, hubs[0].url) for _ in range(10)]
        for each in hubs:  # every pooled connection has been used before the restart
            await burst(api, each.url, accounts)
        await restart_empty(redis_server)
        statuses: list[int] = []
        for _ in range(3):
            for each in hubs:
                statuses += await burst(api, each.url, accounts)
        assert statuses.count(200) == len(statuses) == 3 * 2 * 20, sorted(set(statuses))


async def sign_up_at(api: httpx.AsyncClient, url: str) -> Account:
    async with httpx.AsyncClient(base_url=url, timeout=15) as there:
        return await sign_up(there)


async def burst(api: httpx.AsyncClient, url: str, accounts: list[Account]) -> list[int]:
    """10 concurrent sign-ins and 10 concurrent /auth/me; their statuses."""
    logins = [
        api.post(url + "/api/v1/auth/login/json", json={"email": a.email, "password": a.password})
        for a in accounts
    ]
    mes = [api.get(url + "/api/v1/auth/me", headers=a.auth) for a in accounts]
    replies = await asyncio.gather(*logins, *mes)
    return [r.status_code for r in replies]


@pytest.mark.services
async def test_account_news_arrives_when_its_publish_is_lost(
    on_private_redis: tuple[list[InProcessHub], PrivateRedis],
) -> None:
    """With Redis down, a revocation still closes the sockets on both processes, from the log."""
    hubs, redis_server = on_private_redis
    async with httpx.AsyncClient(base_url=hubs[0].url, timeout=15) as api:
        account = await sign_up(api)
        other = await sign_in(api, account)
        sockets = [await session(h.ws_url, account.access_token) for h in hubs]
        await asyncio.to_thread(redis_server.stop)
        changed = await api.patch(
            "/api/v1/users/me", json={"password": "changed while redis is down"}, headers=other.auth
        )
        started = time.monotonic()
        assert changed.status_code == 200, changed.text
        for socket in sockets:
            assert await socket.closed_with(timeout=10) == 4001
        # The safety net reads the log every second; allow it two rounds and a catch-up.
        assert time.monotonic() - started < 3.5
        await asyncio.to_thread(redis_server.start)


async def test_the_last_active_admin_stays_an_admin(private_env: dict[str, str]) -> None:
    """Demoting or deactivating the last active admin is forbidden; of two, either may go."""
    hub = await InProcessHub(private_env).start()
    try:
        async with httpx.AsyncClient(base_url=hub.url, timeout=15) as api:
            first = await made_admin(api, private_env)
            own = await api.patch(
                f"/api/v1/users/{first.id}", json={"role": "staff"}, headers=first.auth
            )
            assert own.status_code == 403 and own.json()["error"]["code"] == "forbidden"
            second = await made_admin(api, private_env)
            # Two admins demoting each other at once: exactly one of them wins.
            answers = await asyncio.gather(
                api.patch(f"/api/v1/users/{second.id}", json={"role": "user"}, headers=first.auth),
                api.patch(f"/api/v1/users/{first.id}", json={"role": "user"}, headers=second.auth),
            )
            assert sorted(a.status_code for a in answers) == [200, 403], [a.text for a in answers]
            survivor = first if answers[0].status_code == 200 else second
            gone = await api.patch(
                f"/api/v1/users/{survivor.id}", json={"is_active": False}, headers=survivor.auth
            )
            assert gone.status_code == 422  # an admin cannot deactivate themself at all
            cli = await asyncio.to_thread(
                run_hub, ["create-admin", "--email", survivor.email], private_env
            )
            assert cli.returncode == 0, cli.stderr
    finally:
        await hub.stop()


async def made_admin(api: httpx.AsyncClient, env: dict[str, str]) -> Account:
    account = await sign_up(api, "admin")
    result = await asyncio.to_thread(run_hub, ["create-admin", "--email", account.email], env)
    assert result.returncode == 0, result.stderr
    return await sign_in(api, account)
