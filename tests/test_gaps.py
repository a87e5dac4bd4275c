"""The channel log covers what the broker loses, and pruning is honest about it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.conftest import Account, Backend, make_calendar, run_sql, sign_in, sign_up
from tests.servers import HubServer, run_hub
from tests.test_booking import booking
from tests.wsclient import HubClient, session


async def append_silently(backend_env: dict[str, str], channel: str, data: dict[str, Any]) -> int:
    """Commit a log entry as a process whose publish was lost would: no broker message."""
    url = backend_env["DATABASE_URL"]
    stamp: Any = datetime.now(UTC)
    if url.startswith("sqlite"):
        stamp = stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = await run_sql(
        url,
        [
            ("UPDATE channel_heads SET seq = seq + 1 WHERE channel = $1 RETURNING seq", (channel,)),
        ],
    )
    seq = int(rows[0][0])
    await run_sql(
        url,
        [
            (
                "INSERT INTO channel_log (channel, seq, event, payload, created_at) "
                "VALUES ($1, $2, $3, $4, $5)",
                (channel, seq, "appointment.updated", json.dumps(data), stamp),
            )
        ],
    )
    return seq


async def watched_booking(
    hub: HubServer, admin: Account, admin_ws: HubClient, calendar: dict[str, Any]
) -> tuple[HubClient, dict[str, Any]]:
    """A socket watching the calendar, which has seen its first booking (returned)."""
    watcher = await session(hub.ws_url, admin.access_token)
    await watcher.ok("subscribe", {"channel": f"calendar:{calendar['id']}"})
    made = (await admin_ws.ok("appointment.create", booking(calendar, 1, 2)))["appointment"]
    assert (await watcher.next_event())["seq"] == 1
    return watcher, made


async def test_lost_publish_is_filled_before_the_next_event(
    hub: HubServer,
    backend: Backend,
    admin_ws: HubClient,
    calendar: dict[str, Any],
    admin: Account,
) -> None:
    """An event whose publish was lost arrives, in order, before the one that follows it."""
    channel = f"calendar:{calendar['id']}"
    watcher, made = await watched_booking(hub, admin, admin_ws, calendar)
    silent = await append_silently(backend.env, channel, {**made, "title": "silent"})
    await admin_ws.ok("appointment.create", booking(calendar, 3, 4))
    first, second = await watcher.events_until(2)
    assert (first["seq"], first["data"]["title"]) == (silent, "silent")
    assert second["seq"] == silent + 1
    await watcher.close()


async def test_lost_last_publish_arrives_by_itself(
    hub: HubServer,
    backend: Backend,
    admin_ws: HubClient,
    calendar: dict[str, Any],
    admin: Account,
) -> None:
    """With nothing after it, a lost event still arrives (periodic head check, ~2 s)."""
    channel = f"calendar:{calendar['id']}"
    watcher, made = await watched_booking(hub, admin, admin_ws, calendar)
    silent = await append_silently(backend.env, channel, {**made, "title": "late"})
    event = await watcher.next_event(timeout=8)
    assert (event["seq"], event["data"]["title"]) == (silent, "late")
    await watcher.close()


async def test_pruned_log_makes_old_since_resync_required(private_env: dict[str, str]) -> None:
    """After `hub prune` past the retention, an old since is resync_required, a recent one works."""
    server = HubServer(private_env)
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as api:
            account = await sign_up(api, "admin")
            run_hub(["create-admin", "--email", account.email], private_env)
            admin = await sign_in(api, account)
        writer = await session(server.ws_url, admin.access_token)
        calendar = await make_calendar(writer)
        channel = f"calendar:{calendar['id']}"
        for hour in range(3):
            await writer.ok("appointment.create", booking(calendar, hour, hour + 1))
        await asyncio.sleep(1.2)
        pruned = await asyncio.to_thread(
            run_hub, ["prune"], {**private_env, "HUB_LOG_RETENTION_DAYS": "0.00001"}
        )
        # 6 booking rows, and the account news of the admin's promotion.
        assert pruned.returncode == 0 and "pruned 7 channel-log rows" in pruned.stdout
        await writer.ok("appointment.create", booking(calendar, 5, 6))
        old = await writer.error("subscribe", {"channel": channel, "since": 1})
        assert old["code"] == "resync_required"
        assert (await writer.ok("subscribe", {"channel": channel, "since": 3}))["seq"] == 4
        assert (await writer.next_event())["seq"] == 4
        await writer.close()
    finally:
        await asyncio.to_thread(server.stop)
