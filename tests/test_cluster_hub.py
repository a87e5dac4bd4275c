"""Hub processes on a Redis Cluster: steady booking through a master's death loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.cluster import LocalCluster
from tests.conftest import REQUIRE_SERVICES, services_env, watch_everywhere
from tests.inproc import InProcessHub
from tests.test_booking import booking


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    try:
        started = LocalCluster().start()
    except (RuntimeError, OSError) as exc:
        message = f"a local Redis Cluster could not start ({exc})"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    yield started
    started.stop()


@pytest.mark.services
async def test_steady_booking_through_a_master_failover_loses_nothing(
    cluster: LocalCluster,
) -> None:
    """Two hubs on a 3-master cluster; the calendar channel's master is SIGKILLed mid-run:
    every watcher on both processes still gets seqs 1..60, once each, in order."""
    async with services_env(cluster.url) as base:
        env = {**base, "HUB_REDIS_CLUSTER": "true"}
        hubs = [await InProcessHub(env).start() for _ in range(2)]
        try:
            watched = await watch_everywhere(hubs, env)
            shard_key = env["HUB_REDIS_PREFIX"] + "ch:" + watched.channel
            for index in range(60):
                await watched.writer.ok(
                    "appointment.create", booking(watched.calendar, index * 0.5, index * 0.5 + 0.5)
                )
                if index == 20:
                    killed = await asyncio.to_thread(cluster.kill_master_of, shard_key)
                    await asyncio.to_thread(cluster.wait_failover, shard_key, killed)
                await asyncio.sleep(0.05)
            for watcher in watched.watchers:
                events = await watcher.events_until(60, timeout=20)
                assert [e["seq"] for e in events] == list(range(1, 61))
                await watcher.no_event(0.5)
            for client in (watched.writer, *watched.watchers):
                await client.close()
        finally:
            for each in hubs:
                await each.stop()
