"""The Redis Cluster broker against a real local cluster of 3 masters and 3 replicas."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest
from redis.asyncio.cluster import RedisCluster

from hub.realtime.account_news import ACCOUNTS_CHANNEL as CONTROL_CHANNEL
from hub.realtime.broker_redis_cluster import RedisClusterBroker, cluster_client
from tests.cluster import LocalCluster
from tests.conftest import _unreachable

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    try:
        started = LocalCluster().start()
    except (RuntimeError, OSError) as exc:
        _unreachable("A local Redis Cluster (redis-server, redis-cli)", exc)
    yield started
    started.stop()


@dataclass
class Recorder:
    """What one broker handed to its process: payloads by channel, and reconnects."""

    messages: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    reconnects: int = 0

    def on_message(self, channel: str, payload: str) -> None:
        self.messages[channel].append(payload)

    async def on_reconnect(self) -> None:
        self.reconnects += 1


@dataclass
class Running:
    broker: RedisClusterBroker
    seen: Recorder
    prefix: str

    def key(self, channel: str) -> str:
        """The channel's name in Redis."""
        return self.prefix + "ch:" + channel


Start = Callable[[str], Awaitable[Running]]


@pytest.fixture
async def start_broker(cluster: LocalCluster) -> AsyncIterator[Start]:
    """Starts brokers (each its own "process": own client, own connections); stops them after."""
    running: list[tuple[RedisClusterBroker, RedisCluster]] = []

    async def start(prefix: str) -> Running:
        client = cluster_client(cluster.url)
        broker = RedisClusterBroker(client, prefix)
        seen = Recorder()
        broker.bind(seen.on_message, seen.on_reconnect)
        running.append((broker, client))
        await broker.start()
        await until(lambda: broker.is_up, "the broker comes up")
        return Running(broker, seen, prefix)

    yield start
    for broker, client in running:
        await broker.stop()
        await client.aclose()


async def until(check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.02)


def prefix() -> str:
    return f"hubtest:{uuid.uuid4().hex[:8]}:"


def spread_channels(cluster: LocalCluster, prefix: str, per_shard: int) -> dict[int, list[str]]:
    """Calendar channels, ``per_shard`` on each master, by master port."""
    by_master: dict[int, list[str]] = {port: [] for port in cluster.master_ports()}
    while min(len(names) for names in by_master.values()) < per_shard:
        name = f"calendar:{uuid.uuid4()}"
        names = by_master[cluster.master_of(prefix + "ch:" + name)]
        if len(names) < per_shard:
            names.append(name)
    return by_master


async def test_channels_spread_over_the_three_shards(
    cluster: LocalCluster, start_broker: Start
) -> None:
    """Each channel is subscribed on the master owning its slot, so all three shards carry some."""
    sub = await start_broker(prefix())
    by_master = spread_channels(cluster, sub.prefix, per_shard=3)
    for names in by_master.values():
        for name in names:
            await sub.broker.subscribe(name)
    for port, names in by_master.items():
        on_node = cluster.shard_channels(port, sub.prefix + "ch:calendar:*")
        assert on_node == {sub.key(name) for name in names}, port
    assert len(by_master) == 3


async def test_publish_and_subscribe_across_two_brokers(
    cluster: LocalCluster, start_broker: Start
) -> None:
    """One broker's publishes reach the other on every shard, once each, account news too."""
    shared = prefix()
    pub, sub = await start_broker(shared), await start_broker(shared)
    for broker in (pub.broker, sub.broker):  # as every node follows account news
        await broker.subscribe(CONTROL_CHANNEL)
    names = [n for group in spread_channels(cluster, shared, 2).values() for n in group]
    for name in names:
        await sub.broker.subscribe(name)
    for index, name in enumerate(names):
        await pub.broker.publish(name, f"event {index}")
    await pub.broker.publish(CONTROL_CHANNEL, "logout")
    await until(lambda: all(sub.seen.messages[n] for n in names), "every channel delivers")
    await until(lambda: pub.seen.messages[CONTROL_CHANNEL] == ["logout"], "control reaches pub")
    assert {n: sub.seen.messages[n] for n in names} == {
        name: [f"event {index}"] for index, name in enumerate(names)
    }
    assert sub.seen.messages[CONTROL_CHANNEL] == ["logout"]
    assert not any(pub.seen.messages[n] for n in names), "pub never subscribed to these"
    await sub.broker.unsubscribe(names[0])
    await pub.broker.publish(names[0], "after unsubscribe")
    await pub.broker.publish(names[1], "still subscribed")
    await until(lambda: len(sub.seen.messages[names[1]]) == 2, "the subscribed channel delivers")
    assert sub.seen.messages[names[0]] == ["event 0"]


async def test_publish_all_keeps_order_per_channel(
    cluster: LocalCluster, start_broker: Start
) -> None:
    """Interleaved messages over channels on all shards arrive complete and in order per channel."""
    shared = prefix()
    pub, sub = await start_broker(shared), await start_broker(shared)
    names = [n for group in spread_channels(cluster, shared, 2).values() for n in group]
    for name in names:
        await sub.broker.subscribe(name)
    batch = [(name, str(i)) for i in range(100) for name in names]
    await pub.broker.publish_all(batch[:300])
    await pub.broker.publish_all(batch[300:])
    expected = {name: [str(i) for i in range(100)] for name in names}
    await until(lambda: all(len(sub.seen.messages[n]) >= 100 for n in names), "all arrive")
    assert {n: sub.seen.messages[n] for n in names} == expected


async def test_failover_of_a_live_master_moves_the_subscription(
    cluster: LocalCluster, start_broker: Start
) -> None:
    """A demoted master unsubscribes us; the broker resubscribes on the new one and reconnects."""
    shared = prefix()
    pub, sub = await start_broker(shared), await start_broker(shared)
    name = f"calendar:{uuid.uuid4()}"
    await sub.broker.subscribe(name)
    _, new = await asyncio.to_thread(cluster.promote_replica_of, sub.key(name))
    await until(lambda: sub.seen.reconnects >= 1 and sub.broker.is_up, "sub reconnects")
    assert cluster.shard_channels(new, sub.key(name)) == {sub.key(name)}
    await publish_until_delivered(pub, sub, name, "after the failover")


async def test_resharding_moves_subscriptions_and_stale_maps_follow_moved(
    cluster: LocalCluster, start_broker: Start
) -> None:
    """A slot moves: its subscriber follows, and a broker with a stale map follows MOVED."""
    shared = prefix()
    pub, sub, stale = [await start_broker(shared) for _ in range(3)]
    moved = "room:{" + uuid.uuid4().hex + "}:a"
    later = moved.replace(":a", ":b")  # the same slot, subscribed after the move
    await sub.broker.subscribe(moved)
    _, new = await asyncio.to_thread(cluster.move_slot_of, sub.key(moved))
    await until(lambda: sub.seen.reconnects >= 1 and sub.broker.is_up, "sub follows the slot")
    assert cluster.shard_channels(new, sub.key(moved)) == {sub.key(moved)}
    await publish_until_delivered(pub, sub, moved, "after resharding")

    assert stale.seen.reconnects == 0, "nothing of stale's was on the moved slot"
    await stale.broker.subscribe(later)  # to the old owner: MOVED
    await until(lambda: stale.seen.reconnects >= 1 and stale.broker.is_up, "stale follows MOVED")
    assert cluster.shard_channels(new, stale.key(later)) == {stale.key(later)}
    await publish_until_delivered(pub, stale, later, "to the new owner")


async def publish_until_delivered(pub: Running, sub: Running, name: str, payload: str) -> None:
    """Publish (the publisher's slot map may still be stale: it fails once) until delivered."""
    deadline = time.monotonic() + 10
    while payload not in sub.seen.messages[name]:
        assert time.monotonic() < deadline, f"{payload!r} never arrived"
        try:
            await pub.broker.publish(name, payload)
        except Exception:
            await asyncio.sleep(0.1)
            continue
        await asyncio.sleep(0.1)


@dataclass
class Flow:
    """Steady publishing of numbered messages on every channel, one batch each 20 ms."""

    pub: Running
    names: list[str]
    sent: int = 0
    published: list[int] = field(default_factory=list)
    failures: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while not self.stop.is_set():
            self.sent += 1
            try:
                await self.pub.broker.publish_all([(n, str(self.sent)) for n in self.names])
                self.published.append(self.sent)
            except Exception:
                self.failures += 1
            await asyncio.sleep(0.02)


async def test_master_killed_while_messages_flow(
    cluster: LocalCluster, start_broker: Start
) -> None:
    """The replica takes over; the broker resubscribes by itself, reconnects, and delivery resumes."""
    shared = prefix()
    pub, sub = await start_broker(shared), await start_broker(shared)
    by_master = spread_channels(cluster, shared, 2)
    names = [n for group in by_master.values() for n in group]
    victim = names[0]
    for name in names:
        await sub.broker.subscribe(name)
    flow = Flow(pub, names)
    flowing = asyncio.create_task(flow.run())
    await until(lambda: all(sub.seen.messages[n] for n in names), "messages flow everywhere")

    cpu_before, wall_before = time.process_time(), time.monotonic()
    old = await asyncio.to_thread(cluster.kill_master_of, sub.key(victim))
    new = await asyncio.to_thread(cluster.wait_failover, sub.key(victim), old)
    await until(lambda: sub.seen.reconnects >= 1 and sub.broker.is_up, "sub recovers", 15)
    cpu = time.process_time() - cpu_before
    wall = time.monotonic() - wall_before
    recovered_at = flow.sent
    await until(lambda: len(flow.published) > 0 and flow.published[-1] > recovered_at + 25, "more")
    flow.stop.set()
    await flowing

    after = [i for i in flow.published if i > recovered_at]
    await until(
        lambda: all(str(after[-1]) in sub.seen.messages[n] for n in names), "the last arrives"
    )
    for name in names:
        got = [int(p) for p in sub.seen.messages[name]]
        assert got == sorted(set(got)), f"{name}: duplicated or reordered"
        assert set(after) <= set(got), f"{name}: lost messages published after recovery"
    assert cluster.shard_channels(new, sub.key(victim)) == {sub.key(victim)}
    assert flow.failures >= 1, "the publisher saw the master go away"
    # Waiting out the failover costs little CPU: backoff, not a busy loop.
    assert cpu < 0.5 * wall, f"{cpu:.2f} s CPU in {wall:.2f} s"
