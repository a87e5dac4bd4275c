"""Is the database reached through a transaction pooler (PgBouncer in transaction mode)?

asyncpg prepares each statement once per connection and keeps it. Behind a
pooler in transaction (or statement) mode, a client connection is handed a
different server connection from one transaction to the next, so a kept
statement is missing there, or clashes with another client's of the same
name; PgBouncer 1.18 (Debian 12's) does not track them. Turning the cache
off everywhere would cost every query an extra round trip (a prepare before
each execute), so the hub asks once, at start:

Client A notes its server backend's pid; client B opens a transaction and
notes its own, then A asks again while B's transaction holds its server
connection; B commits and asks again; three rounds. A direct connection is
its own backend, so every pid stays and A's and B's differ. A transaction
pooler hands out whichever server connection is free (PgBouncer takes the
most recently released, A's), so B is seen on A's backend, or A or B moves.
Session pooling keeps a client on one server connection, and prepared
statements work there: it answers no, rightly. A pool of one server
connection makes A wait for B's: a time-out also means a pooler.
"""

from __future__ import annotations

import asyncio
from typing import Any

PROBE_SECONDS = 3.0


async def behind_transaction_pooler(url: str) -> bool:
    """True when transactions of one client connection reach different server backends."""
    import asyncpg

    async def connect() -> Any:
        return await asyncpg.connect(url, statement_cache_size=0, timeout=PROBE_SECONDS)

    first, second = await connect(), await connect()
    try:
        async with asyncio.timeout(PROBE_SECONDS):
            return await _pids_move(first, second)
    except TimeoutError:
        # The second transaction waited for the first's server connection: a pool of one.
        return True
    finally:
        for connection in (first, second):
            connection.terminate()


async def _pids_move(a: Any, b: Any) -> bool:
    pid = "SELECT pg_backend_pid()"
    a_pid = await a.fetchval(pid)
    for _ in range(3):
        async with b.transaction():
            b_pid = await b.fetchval(pid)
            if b_pid == a_pid or await a.fetchval(pid) != a_pid:
                return True
        if await b.fetchval(pid) != b_pid:
            return True
    return False
