"""Shared set-up for the hand-run benchmarks: services, a real hub, accounts, sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import resource
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import (
    Account,
    make_admin,
    make_calendar,
    make_staff,
    services_env,
    sign_up,
)
from tests.servers import HubServer
from tests.wsclient import HubClient

CAVEAT = (
    f"note: this machine has {os.cpu_count()} cores; the load generator (this process and any "
    "client workers) competes with the hub, PostgreSQL, Redis and anything else running here "
    "for CPU, so figures understate the hub alone"
)


# Sockets opened at once (hello + subscribe in flight together).
BATCH = 200


def raise_fd_limit() -> int:
    """Raise RLIMIT_NOFILE to the hard limit (inherited by the hub subprocess); returns it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def header(title: str, **params: Any) -> None:
    """Print what runs, with which parameters, and the shared-CPU caveat."""
    print(f"== {title}")
    print("   " + " ".join(f"{k}={v}" for k, v in params.items()))
    print("   " + CAVEAT)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of ``values``; nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(values: Sequence[float]) -> str:
    """p50/p95/p99/max of values given in seconds, as milliseconds."""
    parts = [f"p{p}={percentile(values, p) * 1000:.1f}" for p in (50, 95, 99)]
    return " ".join(parts) + f" max={max(values, default=math.nan) * 1000:.1f} ms"


def parse_at(text: str) -> float:
    """An RFC 3339 UTC time as epoch seconds."""
    return datetime.fromisoformat(text).timestamp()


def rss_kb(pid: int) -> int:
    """VmRSS of a process, in KB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slot(index: int, minutes: int = 30) -> tuple[str, str]:
    """The ``index``-th non-overlapping slot from tomorrow 00:00 UTC, as RFC 3339 strings."""
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = day + timedelta(days=1, minutes=index * minutes)
    end = start + timedelta(minutes=minutes)
    return start.isoformat().replace("+00:00", "Z"), end.isoformat().replace("+00:00", "Z")


@dataclass
class Hub:
    """A running hub on a fresh PostgreSQL database and Redis prefix, with an admin."""

    server: HubServer
    api: httpx.AsyncClient
    admin: Account
    env: dict[str, str]

    @property
    def pid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid

    async def users(self, count: int, name: str = "user") -> list[Account]:
        """``count`` new accounts of role user."""
        return list(await asyncio.gather(*(sign_up(self.api, name) for _ in range(count))))

    async def staff(self, count: int) -> list[Account]:
        """``count`` new staff accounts."""
        made = [make_staff(self.api, self.admin, f"staff{i}") for i in range(count)]
        return list(await asyncio.gather(*made))

    async def calendars(self, count: int) -> list[str]:
        """Ids of ``count`` new calendars open all week (UTC), made by the admin."""
        client = await socket_session(self.server.ws_url, self.admin.access_token)
        try:
            return [(await make_calendar(client))["id"] for _ in range(count)]
        finally:
            await client.close()


@contextlib.asynccontextmanager
async def running_hub(extra_env: Mapping[str, str] | None = None) -> AsyncIterator[Hub]:
    """Start a hub on PostgreSQL + Redis; on exit stop it, drop the database, clear Redis."""
    async with services_env() as base:
        env = {
            **base,
            "HUB_MAX_SOCKETS_PER_USER": "100000",
            "HUB_RATE_LIMIT_PER_SECOND": "100000",
            "HUB_RATE_LIMIT_BURST": "100000",
            "HUB_LOG_JSON": "false",
            **(extra_env or {}),
        }
        server = HubServer(env)
        try:
            await asyncio.to_thread(server.start)
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
                admin = await make_admin(server, env)
                yield Hub(server, api, admin, env)
        except BaseException:
            print("---- hub server log tail ----\n" + server.log())
            raise
        finally:
            await asyncio.to_thread(server.stop)
            server.log_path.unlink(missing_ok=True)


async def socket_session(url: str, token: str) -> HubClient:
    """A test-helper socket (answers matched by id), uncompressed, that has said hello."""
    client = await HubClient.open(url, compression=None, ping_interval=None)
    await client.ok("hello", {"token": token})
    return client


async def _call(ws: ClientConnection, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """One request on a raw socket that is not yet receiving events; returns the ok data."""
    await ws.send(json.dumps({"id": kind, "type": kind, "data": data}))
    answer = json.loads(await ws.recv())
    if answer.get("type") != "ok":
        raise RuntimeError(f"{kind}: {answer}")
    result: dict[str, Any] = answer["data"]
    return result


async def open_subscribed(url: str, token: str, channel: str) -> tuple[ClientConnection, int]:
    """A raw socket, hello'd and subscribed to ``channel``; returns it and the head seq."""
    ws = await connect(url, compression=None, ping_interval=None, open_timeout=60, close_timeout=1)
    try:
        await _call(ws, "hello", {"token": token})
        head = (await _call(ws, "subscribe", {"channel": channel}))["seq"]
    except BaseException:
        ws.transport.abort()
        raise
    return ws, int(head)


async def open_many(
    url: str, tokens: Sequence[str], channel: str, count: int, batch: int = BATCH
) -> tuple[list[tuple[ClientConnection, int]], list[str]]:
    """Open ``count`` subscribed sockets in batches, tokens round-robin; (sockets, errors)."""
    opened: list[tuple[ClientConnection, int]] = []
    errors: list[str] = []
    for first in range(0, count, batch):
        size = min(batch, count - first)
        tasks = [
            open_subscribed(url, tokens[(first + i) % len(tokens)], channel) for i in range(size)
        ]
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, BaseException):
                errors.append(f"{type(result).__name__}: {result}"[:300])
            else:
                opened.append(result)
    return opened, errors


def report_errors(errors: Iterable[str], what: str) -> None:
    """Print a count of failures and the distinct messages (first few)."""
    errors = list(errors)
    if errors:
        distinct = sorted(set(errors))
        print(f"   {len(errors)} {what} failed; distinct errors ({len(distinct)}):")
        for message in distinct[:5]:
            print(f"     {message}")


def abort_all(sockets: Iterable[ClientConnection]) -> None:
    """Drop client sockets at once (no closing handshake)."""
    for ws in sockets:
        ws.transport.abort()


def now() -> float:
    """Wall-clock time, comparable with the hub's ``at`` stamps on this machine."""
    return time.time()
