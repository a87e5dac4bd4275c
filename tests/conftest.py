"""Fixtures: real PostgreSQL and Redis, real hub servers, one per backend kind.

Every shared case runs twice through the ``backend`` fixture: ``embedded``
(SQLite, in-process stores) and ``services`` (PostgreSQL + Redis). The
PostgreSQL database is created for the run and dropped after; Redis keys
live under a unique prefix. When the services cannot be reached their cases
are skipped with one line saying so, unless HUB_TEST_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from tests.inproc import InProcessHub
from tests.servers import HubServer, Served, run_hub

if TYPE_CHECKING:
    from playwright.async_api import Browser

    from tests.browser_helpers import Pages

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("HUB_TEST_REQUIRE_SERVICES") == "1"


def _unreachable(what: str, exc: BaseException) -> None:
    message = f"{what} unreachable ({type(exc).__name__}): set TEST_DATABASE_URL/TEST_REDIS_URL"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (HUB_TEST_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def create_database() -> str:
    name = "hub_test_" + secrets.token_hex(4)
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        _unreachable("PostgreSQL", exc)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(PG_ADMIN_URL, name)


async def drop_database(url: str) -> None:
    name = url.rpartition("/")[2]
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def check_redis() -> None:
    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        _unreachable("Redis", exc)
    finally:
        await client.aclose()


async def clear_redis_prefix(prefix: str) -> None:
    client = aioredis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=prefix + "*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@dataclass
class Backend:
    """One kind of backend and the environment that selects it."""

    name: str
    env: dict[str, str]
    cleanups: list[Any] = field(default_factory=list)


@pytest.fixture(scope="session", params=["embedded", "services"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "embedded":
        folder = tempfile.mkdtemp(prefix="hub-embedded-")
        yield Backend("embedded", {"DATABASE_URL": f"sqlite:///{folder}/hub.db"})
        shutil.rmtree(folder, ignore_errors=True)
        return
    await check_redis()
    url = await create_database()
    prefix = f"hubtest:{uuid.uuid4().hex[:8]}:"
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "HUB_REDIS_PREFIX": prefix,
    }
    yield Backend("services", env)
    await drop_database(url)
    await clear_redis_prefix(prefix)


# The shared servers let tests write fast; the limits have tests of their own.
SHARED_SERVER_ENV = {"HUB_RATE_LIMIT_PER_SECOND": "10000", "HUB_RATE_LIMIT_BURST": "10000"}


@pytest.fixture(scope="session")
async def hub(backend: Backend) -> AsyncIterator[InProcessHub]:
    """A running hub on this backend, in this process, shared by the session."""
    server = InProcessHub({**backend.env, **SHARED_SERVER_ENV})
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
async def hubs(backend: Backend, hub: InProcessHub) -> AsyncIterator[list[InProcessHub]]:
    """Every process of the backend: one embedded; two sharing PostgreSQL and Redis."""
    if backend.name == "embedded":
        yield [hub]
        return
    second = InProcessHub({**backend.env, **SHARED_SERVER_ENV})
    await second.start()
    yield [hub, second]
    await second.stop()


@pytest.fixture
async def api(hub: HubServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=hub.url, timeout=15) as client:
        yield client


@dataclass
class Account:
    id: str
    email: str
    password: str
    role: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def sign_up(api: httpx.AsyncClient, name: str = "user") -> Account:
    email = f"{name}-{uuid.uuid4().hex[:10]}@example.test"
    password = "correct horse " + secrets.token_hex(4)
    reply = await api.post(
        "/api/v1/auth/register",
        json={"email": email, "password": password, "full_name": name.title()},
    )
    assert reply.status_code == 201, reply.text
    user = reply.json()
    tokens = await api.post("/api/v1/auth/login/json", json={"email": email, "password": password})
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    return Account(
        user["id"], email, password, user["role"], body["access_token"], body["refresh_token"]
    )


async def sign_in(api: httpx.AsyncClient, account: Account) -> Account:
    """Sign in again, e.g. after a role change, for a token carrying the new role."""
    reply = await api.post(
        "/api/v1/auth/login/json", json={"email": account.email, "password": account.password}
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    me = (
        await api.get(
            "/api/v1/auth/me", headers={"Authorization": "Bearer " + body["access_token"]}
        )
    ).json()
    return Account(
        account.id,
        account.email,
        account.password,
        me["role"],
        body["access_token"],
        body["refresh_token"],
    )


async def make_admin(server: Served, env: dict[str, str]) -> Account:
    """A new admin on a private hub, made with the real `hub create-admin`."""
    async with httpx.AsyncClient(base_url=server.url) as api:
        account = await sign_up(api, "admin")
        result = await asyncio.to_thread(run_hub, ["create-admin", "--email", account.email], env)
        assert result.returncode == 0, result.stderr
        return await sign_in(api, account)


@dataclass
class Watched:
    """An admin's writer socket and a calendar watched from a socket on every server."""

    admin: Account
    writer: Any
    calendar: dict[str, Any]
    channel: str
    watchers: list[Any]


async def watch_everywhere(servers: Sequence[Served], env: dict[str, str]) -> Watched:
    from tests.wsclient import session

    admin = await make_admin(servers[0], env)
    writer = await session(servers[0].ws_url, admin.access_token)
    calendar = await make_calendar(writer)
    channel = f"calendar:{calendar['id']}"
    watchers = [await session(s.ws_url, admin.access_token) for s in servers]
    for watcher in watchers:
        await watcher.ok("subscribe", {"channel": channel})
    return Watched(admin, writer, calendar, channel, watchers)


_admins: dict[str, Account] = {}


async def admin_account(backend: Backend, hub: HubServer, api: httpx.AsyncClient) -> Account:
    """One admin per backend, made with ``hub create-admin``."""
    if backend.name not in _admins:
        account = await sign_up(api, "admin")
        result = await asyncio.to_thread(
            run_hub, ["create-admin", "--email", account.email], backend.env
        )
        assert result.returncode == 0, result.stderr
        _admins[backend.name] = await sign_in(api, account)
    return _admins[backend.name]


async def make_staff(api: httpx.AsyncClient, admin: Account, name: str = "staff") -> Account:
    account = await sign_up(api, name)
    reply = await api.patch(
        f"/api/v1/users/{account.id}", json={"role": "staff"}, headers=admin.auth
    )
    assert reply.status_code == 200, reply.text
    return await sign_in(api, account)


@pytest.fixture
async def admin(backend: Backend, hub: HubServer, api: httpx.AsyncClient) -> Account:
    return await admin_account(backend, hub, api)


WEEK_ALL_DAY = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]


async def make_calendar(client: Any, **fields: Any) -> dict[str, Any]:
    """A calendar open all week (UTC) unless told otherwise, made over the socket by an admin."""
    data = {
        "name": "Room " + uuid.uuid4().hex[:6],
        "timezone": "UTC",
        "working_hours": WEEK_ALL_DAY,
        **fields,
    }
    answer = await client.ok("calendar.create", data)
    calendar: dict[str, Any] = answer["calendar"]
    return calendar


@pytest.fixture
async def admin_ws(hub: HubServer, admin: Account) -> AsyncIterator[Any]:
    from tests.wsclient import session

    client = await session(hub.ws_url, admin.access_token)
    yield client
    await client.close()


@pytest.fixture
async def calendar(admin_ws: Any) -> dict[str, Any]:
    return await make_calendar(admin_ws)


@contextlib.asynccontextmanager
async def services_env(redis_url: str = REDIS_URL) -> AsyncIterator[dict[str, str]]:
    """Settings for hub processes on a fresh PostgreSQL database and Redis prefix, removed after."""
    await check_redis()
    url = await create_database()
    prefix = f"hubtest:{uuid.uuid4().hex[:8]}:"
    try:
        yield {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "HUB_REDIS_PREFIX": prefix,
            **SHARED_SERVER_ENV,
        }
    finally:
        await drop_database(url)
        if redis_url == REDIS_URL:
            await clear_redis_prefix(prefix)


@pytest.fixture
async def private_env(backend: Backend) -> AsyncIterator[dict[str, str]]:
    """The backend's kind, with a database of its own (for tests that prune or break it)."""
    if backend.name == "embedded":
        folder = tempfile.mkdtemp(prefix="hub-private-")
        yield {"DATABASE_URL": f"sqlite:///{folder}/hub.db", **SHARED_SERVER_ENV}
        shutil.rmtree(folder, ignore_errors=True)
        return
    async with services_env() as env:
        yield env


async def run_sql(database_url: str, statements: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
    """Run statements in one transaction behind the hub's back; returns each first row."""
    results: list[Any] = []
    if database_url.startswith("sqlite"):
        import sqlite3

        path = database_url.split("///", 1)[1]
        with sqlite3.connect(path, timeout=30) as conn:
            for sql, params in statements:
                results.append(
                    conn.execute(
                        sql.replace("$", ":p"), {f"p{i + 1}": v for i, v in enumerate(params)}
                    ).fetchone()
                )
        return results
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            for sql, params in statements:
                results.append(await conn.fetchrow(sql, *params))
    finally:
        await conn.close()
    return results


# Browser tests (Debian's Chromium through playwright-core), imported only
# when a browser test asks, so the rest of the suite never loads playwright.


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium per test module."""
    from playwright.async_api import async_playwright

    from tests.browser_helpers import launch, require_chromium

    require_chromium()
    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        yield chromium
        await chromium.close()


@pytest.fixture
async def pages(browser: Browser) -> AsyncIterator[Pages]:
    """Tabs of one test; a page error in any of them fails the test."""
    from tests.browser_helpers import Pages

    opened = Pages(browser)
    yield opened
    await opened.close()
    assert not opened.errors, opened.errors
