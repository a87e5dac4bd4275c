"""Booking benchmark: concurrent sockets sending appointment.create, closed loop."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt

from hub.realtime.channel_log import _APPEND_EACH
from hub.storage.appointments import _INSERT, _NEARBY
from hub.storage.users import _CURRENT
from tests.bench.common import (
    cpu_seconds,
    header,
    raise_fd_limit,
    running_hub,
    slot,
    socket_session,
    summary_ms,
)
from tests.wsclient import HubClient

MODES = {
    "separate": "one calendar per client, successive slots",
    "contended": "one shared calendar, distinct slots per request (row-lock contention)",
    "race": "one shared calendar, every client tries the same slots in turn (slot_taken)",
}
BARE = (
    "bare asyncpg: the hub's booking statements in the same transaction shape, "
    "no hub (no socket, no Python service layer, no publish)"
)


@dataclass
class Stats:
    """Answers by code and request round trips (send -> answer), in seconds."""

    codes: Counter[str] = field(default_factory=Counter)
    round_trips: list[float] = field(default_factory=list)
    last_answer: float = 0.0


async def client_loop(
    client: HubClient, calendar_id: str, slots: Iterator[int], deadline: float, stats: Stats
) -> None:
    """Book one slot after another until the deadline, one request in flight."""
    while time.perf_counter() < deadline:
        starts_at, ends_at = slot(next(slots))
        data = {
            "calendar_id": calendar_id,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "title": "bench",
        }
        sent = time.perf_counter()
        try:
            answer = await client.request("appointment.create", data, timeout=30)
        except TimeoutError:
            stats.codes["no answer in 30 s"] += 1
            continue
        stats.last_answer = time.perf_counter()
        stats.round_trips.append(stats.last_answer - sent)
        stats.codes["ok" if answer["type"] == "ok" else answer["error"]["code"]] += 1


async def run_mode(
    mode: str, clients: list[HubClient], calendars: list[str], seconds: float, pid: int
) -> float:
    """One fixed-duration run of ``mode`` and its figures."""
    n = len(clients)
    print(f"-- {mode}: {n} clients, {MODES[mode]}, {seconds:g} s")
    stats = Stats()
    cpu, started = cpu_seconds(pid), time.perf_counter()
    deadline = started + seconds
    loops = []
    for i, client in enumerate(clients):
        calendar_id = calendars[i] if mode == "separate" else calendars[0]
        slots = itertools.count(i, n) if mode == "contended" else itertools.count()
        loops.append(client_loop(client, calendar_id, slots, deadline, stats))
    await asyncio.gather(*loops)
    wall = stats.last_answer - started
    busy = (cpu_seconds(pid) - cpu) / (time.perf_counter() - started)
    total = sum(stats.codes.values())
    print(f"   answers: {dict(stats.codes.most_common())} in {wall:.2f} s")
    print(f"   bookings (ok) {stats.codes['ok'] / wall:.1f}/s, answers {total / wall:.1f}/s")
    print(f"   latency request->answer: {summary_ms(stats.round_trips)}")
    print(f"   hub process CPU: {busy * 100:.0f}% of one core")
    return float(stats.codes["ok"] / wall)


async def bare_loop(
    pool: Any,
    booker: tuple[str, str],
    calendar_id: str,
    slots: Iterator[int],
    deadline: float,
    stats: Stats,
) -> None:
    """What one booking costs PostgreSQL alone: the hub's statements, one transaction each."""
    user_id, sign_in_id = booker
    lock = "SELECT * FROM calendars WHERE id = $1 FOR UPDATE"
    channels = [f"calendar:{calendar_id}", f"user:{user_id}"]
    while time.perf_counter() < deadline:
        starts_at, ends_at = (datetime.fromisoformat(t) for t in slot(next(slots)))
        stamp = datetime.now(UTC)
        sent = time.perf_counter()
        async with pool.acquire() as conn, conn.transaction():
            await conn.fetchrow(_CURRENT.postgres, user_id, sign_in_id)
            await conn.fetchrow(lock, calendar_id)
            await conn.fetch(_NEARBY.postgres, calendar_id, ends_at, starts_at)
            row = {
                "id": str(uuid.uuid4()),
                "calendar_id": calendar_id,
                "client_id": user_id,
                "title": "bench",
                "notes": "",
                "starts_at": starts_at,
                "ends_at": ends_at,
                "status": "pending",
                "version": 1,
                "created_by": user_id,
                "created_at": stamp,
                "updated_at": stamp,
                "kind": "appointment",
                "series_id": None,
            }
            await conn.execute(_INSERT.postgres, *_INSERT.args(row))
            payload = json.dumps({k: str(v) for k, v in row.items()})
            await conn.fetch(_APPEND_EACH.postgres, channels, "appointment.created", payload, stamp)
        stats.last_answer = time.perf_counter()
        stats.round_trips.append(stats.last_answer - sent)
        stats.codes["ok"] += 1


async def run_bare(hub: Any, users: list[Any], calendars: list[str], seconds: float) -> float:
    """The bare asyncpg loop with the same concurrency; returns bookings per second."""
    print(f"-- bare: {len(users)} tasks, {BARE}, {seconds:g} s")
    bookers = [
        (u.id, jwt.decode(u.access_token, options={"verify_signature": False})["fam"])
        for u in users
    ]
    pool = await asyncpg.create_pool(hub.env["DATABASE_URL"], min_size=20, max_size=20)
    try:
        stats = Stats()
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                bare_loop(pool, booker, calendars[i], itertools.count(10_000), deadline, stats)
                for i, booker in enumerate(bookers)
            )
        )
        wall = stats.last_answer - started
        rate = stats.codes["ok"] / wall
        print(f"   bookings {rate:.1f}/s; latency: {summary_ms(stats.round_trips)}")
        return rate
    finally:
        await pool.close()


async def main(args: argparse.Namespace) -> None:
    limit = raise_fd_limit()
    modes = list(MODES) if args.mode == "all" else [args.mode]
    header(
        "booking", clients=args.clients, seconds=args.seconds, modes=",".join(modes), fd_limit=limit
    )
    async with running_hub() as hub:
        users = await hub.users(args.clients, "client")
        clients = list(
            await asyncio.gather(
                *(socket_session(hub.server.ws_url, u.access_token) for u in users)
            )
        )
        try:
            for mode in modes:
                calendars = await hub.calendars(args.clients if mode == "separate" else 1)
                rate = await run_mode(mode, clients, calendars, args.seconds, hub.pid)
                if mode == "separate" and not args.no_bare:
                    bare = await run_bare(hub, users, calendars, args.seconds)
                    print(f"   hub / bare asyncpg: {rate / bare:.2f}")
        finally:
            await asyncio.gather(*(c.close() for c in clients))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50, help="sockets, one user each")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each mode")
    parser.add_argument("--mode", choices=[*MODES, "all"], default="all")
    parser.add_argument(
        "--no-bare", action="store_true", help="skip the bare asyncpg loop after separate"
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
