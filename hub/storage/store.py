"""The database handle: one ``databases.Database`` plus what differs by dialect.

PostgreSQL and SQLite share every query; what truly differs lives here:
SQLite cannot run two write transactions at once (``databases`` issues a
deferred ``BEGIN`` and drops ``FOR UPDATE``), so the embedded mode, which is
one process, serialises its write transactions with one ``asyncio.Lock``;
SQLite also returns naive datetimes, which :func:`~hub.domain.times.utc`
normalises. Driver errors are translated here and nowhere else: "the
database is unreachable" becomes :class:`~hub.domain.errors.Unavailable`, a
refused overlap :class:`Overlap`, a broken unique index :class:`Duplicate`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from databases import Database

from hub.domain.errors import Unavailable
from hub.settings import Settings, sqlite_path
from hub.storage.pooler import behind_transaction_pooler

T = TypeVar("T")


class Conflict(Exception):
    """The database refused a write that breaks one of its constraints."""


class Overlap(Conflict):
    """Two pending or confirmed time ranges of one calendar would overlap."""


class Duplicate(Conflict):
    """A unique index refused a second row with the same key."""


class Store:
    """The shared database of the hub."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.is_sqlite = settings.is_embedded_db
        self._write_lock = asyncio.Lock()
        self.timeout = settings.db_timeout_seconds
        # Called with each query's seconds (metrics); a no-op until bound.
        self.observe: Callable[[float], None] = lambda seconds: None
        # Whether a transaction pooler stands in front (decided at connect).
        self.pooled = False
        self.db = self._database(statement_cache=not self.is_sqlite)

    def _database(self, statement_cache: bool) -> Database:
        if self.is_sqlite:
            return Database(self.settings.database_url, timeout=30)
        return Database(
            _asyncpg_url(self.settings.database_url),
            min_size=1,
            max_size=20,
            timeout=self.settings.db_timeout_seconds,
            command_timeout=self.settings.db_timeout_seconds,
            # asyncpg keeps each prepared statement for the connection's life;
            # behind a transaction pooler that breaks (hub.storage.pooler).
            statement_cache_size=100 if statement_cache else 0,
        )

    async def connect(self) -> None:
        if self.is_sqlite:
            sqlite_path(self.settings.database_url).parent.mkdir(parents=True, exist_ok=True)
        else:
            url = _asyncpg_url(self.settings.database_url)
            self.pooled = await self.guard(behind_transaction_pooler(url))
            if self.pooled:
                # No prepared statement may outlive its transaction: PgBouncer in
                # transaction mode works with nothing else set (1.18 tracks none).
                self.db = self._database(statement_cache=False)
        await self.guard(self.db.connect())
        if self.is_sqlite:
            await self.db.execute("PRAGMA journal_mode=WAL")

    async def disconnect(self) -> None:
        await self.db.disconnect()

    async def guard(self, work: Awaitable[T]) -> T:
        """Run ``work`` with the database timeout; unreachable becomes Unavailable."""
        # asyncio.timeout, not wait_for: on 3.11 wait_for runs the query in a
        # new task, and `databases` keys connections (and transactions) by task.
        started = time.perf_counter()
        async with _outage(), _conflicts(), asyncio.timeout(self.timeout):
            result = await work
        self.observe(time.perf_counter() - started)
        return result

    @asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        """One write transaction; on SQLite, one at a time in this process."""
        try:
            async with _outage(), asyncio.timeout(self.timeout * 2):
                if self.is_sqlite:
                    async with self._write_lock, self.db.transaction():
                        yield
                else:
                    async with self.db.transaction():
                        yield
        except Unavailable:
            await self._discard_task_connection()
            raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[None]:
        """A consistent read: one transaction, so several queries see one snapshot."""
        try:
            async with _outage(), asyncio.timeout(self.timeout * 2):
                if self.is_sqlite:
                    # SQLite in WAL mode gives a read transaction one snapshot.
                    async with self.db.transaction():
                        yield
                else:
                    async with self.db.transaction(isolation="repeatable_read", readonly=True):
                        yield
        except Unavailable:
            await self._discard_task_connection()
            raise

    async def _discard_task_connection(self) -> None:
        """Forget this task's connection after a transaction died in an outage.

        When even the ROLLBACK fails (a hung or vanished server), ``databases``
        keeps the task's connection acquired, still inside the dead
        transaction: every later "transaction" of the task would then be a
        savepoint in it and never commit. Close that connection and hand its
        pool slot back, so the next request starts clean.
        """
        task = asyncio.current_task()
        connection = self.db._connection_map.pop(task, None) if task is not None else None
        if connection is None:
            return
        backend = connection._connection
        raw = getattr(backend, "_connection", None)
        if raw is None:
            return
        if hasattr(raw, "terminate"):  # asyncpg: close at once, no round trip
            raw.terminate()
        with contextlib.suppress(Exception):
            await backend.release()  # the pool replaces a closed connection

    async def ping(self) -> float:
        """Round-trip time of ``SELECT 1`` in milliseconds."""
        started = time.perf_counter()
        await self.guard(self.db.fetch_val("SELECT 1"))
        return (time.perf_counter() - started) * 1000

    def _raw(self) -> Any:
        """This task's asyncpg connection, when it is inside a transaction; else None."""
        if self.is_sqlite:
            return None
        task = asyncio.current_task()
        connection = self.db._connection_map.get(task) if task is not None else None
        if connection is None or not connection._transaction_stack:
            return None
        return connection.raw_connection

    async def rows(self, sql: Sql, **params: Any) -> list[Any]:
        raw = self._raw()
        if raw is None:
            return await self.fetch_all(sql.clause.bindparams(**params))
        return list(await self.guard(raw.fetch(sql.postgres, *sql.args(params))))

    async def row(self, sql: Sql, **params: Any) -> Any:
        raw = self._raw()
        if raw is None:
            return await self.fetch_one(sql.clause.bindparams(**params))
        return await self.guard(raw.fetchrow(sql.postgres, *sql.args(params)))

    async def value(self, sql: Sql, **params: Any) -> Any:
        raw = self._raw()
        if raw is None:
            return await self.fetch_val(sql.clause.bindparams(**params))
        return await self.guard(raw.fetchval(sql.postgres, *sql.args(params)))

    async def run(self, sql: Sql, **params: Any) -> None:
        raw = self._raw()
        if raw is None:
            await self.execute(sql.clause.bindparams(**params))
            return
        await self.guard(raw.execute(sql.postgres, *sql.args(params)))

    async def fetch_one(self, query: Any) -> Any:
        return await self.guard(self.db.fetch_one(query))

    async def fetch_all(self, query: Any) -> list[Any]:
        return list(await self.guard(self.db.fetch_all(query)))

    async def fetch_val(self, query: Any) -> Any:
        return await self.guard(self.db.fetch_val(query))

    async def execute(self, query: Any) -> Any:
        return await self.guard(self.db.execute(query))


def lock_suffix(store: Store) -> str:
    """``FOR UPDATE`` on PostgreSQL; SQLite has no row locks (the write lock serialises)."""
    return "" if store.is_sqlite else " FOR UPDATE"


def statement(sql: str, **types: Any) -> sa.TextClause:
    """Hand-written SQL with typed binds, for ``databases``.

    The bind types keep SQLite's timestamp handling (naive UTC text)
    identical to the Core queries'.
    """
    return sa.text(sql).bindparams(
        *(sa.bindparam(name, type_=kind) for name, kind in types.items())
    )


_BIND = re.compile(r"(?<![:\w]):(\w+)")


class Sql:
    """Hand-written SQL for the hot paths, prepared once instead of on every run.

    ``databases`` compiles every statement anew, even a text one (13 % of a
    booking's CPU, with the column maps of each result on top). On
    PostgreSQL inside a transaction, :meth:`Store.rows` and friends run a
    ``Sql`` straight on the task's asyncpg connection, its binds turned into
    asyncpg's ``$1, $2 …`` once, here; elsewhere (SQLite, or outside a
    transaction) it goes through ``databases`` with typed binds.
    """

    __slots__ = ("clause", "names", "postgres")

    def __init__(self, text: str, columns: dict[str, Any] | None = None, **types: Any) -> None:
        clause: Any = statement(text, **types)
        self.clause: Any = clause.columns(**columns) if columns else clause
        self.names: tuple[str, ...] = tuple(dict.fromkeys(_BIND.findall(text)))
        numbers = {name: f"${i}" for i, name in enumerate(self.names, start=1)}
        self.postgres = _BIND.sub(lambda m: numbers[m.group(1)], text)

    def args(self, params: dict[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


def _asyncpg_url(url: str) -> str:
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url


@asynccontextmanager
async def _outage() -> AsyncIterator[None]:
    """A database that is down or too slow becomes Unavailable: retry, nothing applied."""
    try:
        yield
    except (TimeoutError, OSError, ConnectionError) as exc:
        raise Unavailable("the database is unavailable; nothing was applied") from exc
    except Exception as exc:
        if _is_connection_error(exc):
            raise Unavailable("the database is unavailable; nothing was applied") from exc
        raise


@asynccontextmanager
async def _conflicts() -> AsyncIterator[None]:
    """The driver's constraint errors, as our own (callers never sniff driver names)."""
    try:
        yield
    except Exception as exc:
        name, text = type(exc).__name__, str(exc)
        if name == "ExclusionViolationError" or "_overlap" in text:
            raise Overlap(text) from exc
        if name == "UniqueViolationError" or "UNIQUE constraint failed" in text:
            raise Duplicate(text) from exc
        raise


def _is_connection_error(exc: BaseException) -> bool:
    name = type(exc).__name__
    module = type(exc).__module__
    if module.startswith("asyncpg") and (
        "Connection" in name or "CannotConnectNow" in name or "TooManyConnections" in name
    ):
        return True
    return name == "InterfaceError" and "connection" in str(exc).lower()
