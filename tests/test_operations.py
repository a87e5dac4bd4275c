"""The command line, settings, migrations and health under outages."""

from __future__ import annotations

import asyncio
import stat
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from hub.settings import Settings, SettingsError
from hub.storage.migrate import downgrade, sqlalchemy_url, upgrade
from hub.storage.tables import metadata
from tests.conftest import REDIS_URL, check_redis, create_database, drop_database, sign_up
from tests.servers import HubServer, PrivatePostgres, PrivateRedis, run_hub


def test_settings_defaults_and_parsing(tmp_path: Path) -> None:
    """Defaults are the documented ones; decimals and origin lists parse."""
    db = f"sqlite:///{tmp_path}/hub.db"
    settings = Settings.from_env(
        {
            "DATABASE_URL": db,
            "ACCESS_TOKEN_EXPIRE_MINUTES": "0.1",
            "HUB_ALLOWED_ORIGINS": "https://a.test/, https://b.test",
        }
    )
    assert settings.access_token_expire_minutes == 0.1
    assert settings.allowed_origins == ("https://a.test", "https://b.test")
    assert settings.ws_max_bytes == 65536 and settings.send_queue_size == 1000
    assert settings.redis_url is None and settings.redis_prefix == "hub:"
    assert settings.secret_key not in repr(settings)
    for bad in (
        {"HUB_WS_MAX_BYTES": "lots"},
        {"HUB_WS_MAX_BYTES": "-1"},
        {"ACCESS_TOKEN_EXPIRE_MINUTES": "nan"},
        {"HUB_WS_PER_MESSAGE_DEFLATE": "maybe"},
        {"DATABASE_URL": "mysql://x"},
        {"SECRET_KEY": "short"},
    ):
        with pytest.raises(SettingsError):
            Settings.from_env({"DATABASE_URL": db, **bad})


def test_embedded_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    """With no SECRET_KEY the embedded hub keeps a generated one beside the database."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/hub.db"}
    first = Settings.from_env(env).secret_key
    key_file = tmp_path / "hub.db.secret"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Settings.from_env(env).secret_key == first and len(first) >= 32


def test_serve_refuses_postgres_without_secret_key() -> None:
    """On PostgreSQL without SECRET_KEY: exit 1 with one line saying how to set it."""
    result = run_hub(
        ["serve", "--port", "1"], {"DATABASE_URL": "postgresql://postgres@127.0.0.1/x"}
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0] and "export" in lines[0]


def test_unreachable_database_is_one_line() -> None:
    """An unreachable database is one clear line, not a traceback."""
    env = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none", "SECRET_KEY": "k" * 40}
    result = run_hub(["migrate"], env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hub: cannot migrate the database")


async def test_tokens_survive_an_embedded_restart(tmp_path: Path) -> None:
    """The generated key persists, so a token from before a restart still works."""
    server = HubServer({"DATABASE_URL": f"sqlite:///{tmp_path}/hub.db"})
    await asyncio.to_thread(server.start)
    async with httpx.AsyncClient(base_url=server.url) as api:
        account = await sign_up(api)
    await asyncio.to_thread(server.stop)
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as api:
            assert (await api.get("/api/v1/auth/me", headers=account.auth)).status_code == 200
    finally:
        await asyncio.to_thread(server.stop)


async def test_two_servers_start_at_once_on_a_new_postgres_database() -> None:
    """Concurrent migrations are serialised: both processes come up and serve."""
    await check_redis()
    url = await create_database()
    env = {"DATABASE_URL": url, "SECRET_KEY": "s" * 48}
    servers = [HubServer(env), HubServer(env)]
    try:
        for server in servers:
            server.start(wait=False)
        await asyncio.gather(*[asyncio.to_thread(s.wait_ready) for s in servers])
        async with httpx.AsyncClient() as api:
            for server in servers:
                assert (await api.get(server.url + "/health/db")).status_code == 200
    finally:
        for server in servers:
            await asyncio.to_thread(server.stop)
        await drop_database(url)


async def _schema_columns(database_url: str) -> dict[str, set[str]]:
    engine = create_async_engine(sqlalchemy_url(database_url))
    try:
        async with engine.connect() as conn:

            def read(sync_conn: sa.Connection) -> dict[str, set[str]]:
                inspector = sa.inspect(sync_conn)
                return {
                    t: {c["name"] for c in inspector.get_columns(t)}
                    for t in inspector.get_table_names()
                    if t != "alembic_version"
                }

            return await conn.run_sync(read)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_migrations_up_down_up_match_the_tables(kind: str, tmp_path: Path) -> None:
    """Upgrade, downgrade to base and upgrade again; the schema equals hub.tables."""
    url = f"sqlite:///{tmp_path}/m.db" if kind == "sqlite" else await create_database()
    try:
        await asyncio.to_thread(upgrade, url)
        await asyncio.to_thread(downgrade, url, "base")
        assert await _schema_columns(url) == {}
        await asyncio.to_thread(upgrade, url)
        expected = {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
        assert await _schema_columns(url) == expected
    finally:
        if kind == "postgresql":
            await drop_database(url)


async def _time_health(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=10) as api:
        reply = await api.get(url)
    return reply.status_code, time.perf_counter() - started


async def test_redis_outage_makes_health_redis_503_quickly(tmp_path: Path) -> None:
    """A stopped private Redis: /health/redis says 503 within about 2 s, then 200 again."""
    redis_server = PrivateRedis().start()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/hub.db", "REDIS_URL": redis_server.url}
    server = HubServer(env)
    await asyncio.to_thread(server.start)
    try:
        assert (await _time_health(server.url + "/health/redis"))[0] == 200
        redis_server.stop()
        status, took = await _time_health(server.url + "/health/redis")
        assert status == 503 and took < 3
        async with httpx.AsyncClient(base_url=server.url) as api:
            login = await api.post(
                "/api/v1/auth/login/json", json={"email": "x@y.io", "password": "whatever"}
            )
            assert login.status_code == 503 and login.json()["error"]["code"] == "unavailable"
        redis_server.start()
        deadline = time.monotonic() + 10
        while (await _time_health(server.url + "/health/redis"))[0] != 200:
            assert time.monotonic() < deadline, "the hub did not recover from the Redis outage"
            await asyncio.sleep(0.2)
    finally:
        await asyncio.to_thread(server.stop)
        redis_server.cleanup()


async def test_postgres_outage_makes_health_db_503_quickly() -> None:
    """A stopped private PostgreSQL: /health/db 503 within about 2 s, and back when it returns."""
    await check_redis()
    pg = await asyncio.to_thread(PrivatePostgres().start)
    server = HubServer(
        {
            "DATABASE_URL": pg.url,
            "SECRET_KEY": "p" * 48,
            "REDIS_URL": REDIS_URL,
            "HUB_REDIS_PREFIX": "hubtest:pgdown:",
        }
    )
    try:
        await asyncio.to_thread(server.start)
        assert (await _time_health(server.url + "/health/db"))[0] == 200
        await asyncio.to_thread(pg.stop)
        status, took = await _time_health(server.url + "/health/db")
        assert status == 503 and took < 3
        await asyncio.to_thread(pg.start)
        deadline = time.monotonic() + 15
        while (await _time_health(server.url + "/health/db"))[0] != 200:
            assert time.monotonic() < deadline, "the hub did not recover"
            await asyncio.sleep(0.3)
    finally:
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(pg.cleanup)


def test_settings_repr_shows_no_secret() -> None:
    """repr(settings) hides the key, the metrics token and the passwords in URLs."""
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://hub:db-password-1@db.internal:5432/hub",
            "REDIS_URL": "redis://:redis-password-2@redis.internal:6379/0",
            "SECRET_KEY": "k" * 40,
            "HUB_METRICS_TOKEN": "metrics-token-3",
        }
    )
    text = repr(settings)
    for secret in ("db-password-1", "redis-password-2", "k" * 40, "metrics-token-3"):
        assert secret not in text
    assert "postgresql://hub:***@db.internal:5432/hub" in text
    assert settings.database_url.endswith("db-password-1@db.internal:5432/hub")


def test_each_setting_is_declared_once_with_its_default() -> None:
    """Every variable the README lists is declared, with the default the README gives."""
    variables = Settings.variables()
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name in variables:
        assert f"`{name}`" in readme, f"{name} is not in README's settings table"
