"""Redis Cluster broker: sharded pub/sub, so fan-out capacity grows with shards.

Delivery promise: at most once, in publish order per channel from one
publisher, as every broker (see :mod:`hub.realtime.broker`); the channel log
fills what is lost. Each channel (under ``HUB_REDIS_PREFIX``) is published
with ``SPUBLISH`` to the shard owning its slot, and read with ``SSUBSCRIBE``
on one subscriber connection per master, each read by its own task.

What redis-py (8.1) gives and what this module adds. redis-py's
``RedisCluster`` keeps the slot map, routes ``SPUBLISH`` by slot, follows
``MOVED`` and groups a pipeline by node: publishing uses it as it is. Its
``ClusterPubSub`` is not used for subscribing, because:

- ``get_sharded_message(timeout=t)`` polls the per-node subscriptions one
  after the other, each for up to ``t``: a quiet shard delays the messages
  of the others by up to ``t`` per shard, and ``t=0`` is a busy loop. One
  reader per shard is what lets fan-out grow with shards.
- It moves subscriptions only when the client's slot map is refreshed, which
  happens when some *command* meets ``MOVED`` or a dead node; a process that
  only listens never refreshes it. Its per-node subscriptions reconnect
  silently to the old address, and nothing says "messages may be lost".

So the subscriber side is built on redis-py's node connections (each
node's own ``connection_class`` and ``connection_kwargs``, so credentials and
timeouts match the client), and this module follows the cluster itself:

- A shard connection that fails (its master died), a server-sent
  ``sunsubscribe`` (the slot left that node: failover of a live master, or
  resharding), or a ``MOVED``/``ASK`` answer to ``SSUBSCRIBE`` (our map was
  stale) marks the broker down and wakes one supervisor task.
- The supervisor waits a backoff with jitter (doubling up to 5 s, reset only
  after a repair that every channel confirmed, so never a busy loop),
  refreshes the slot map, subscribes each channel on the master that owns
  it now, waits for every confirmation, and calls ``on_reconnect`` so that
  fan-out catches up from the channel log.

``REDIS_URL`` names any one node: the slot map lists the others. The prefix
must not contain a hash tag (``{…}``), or every channel would hash to one
slot and one shard would carry all fan-out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.exceptions import AskError, RedisClusterException, RedisError, SlotNotCoveredError

from hub import logs
from hub.realtime.broker import MessageHandler, ReconnectHandler
from hub.tasks import spawn

BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0
CONFIRM_SECONDS = 5.0
READ_SECONDS = 1.0
# A shard connection silent this long is pinged; silent twice as long, it is dead.
IDLE_PING_SECONDS = 5.0
REFRESH_SECONDS = 0.2

# What "the cluster is unreachable or changing under us" looks like.
CLUSTER_ERRORS = (RedisError, RedisClusterException, OSError, TimeoutError)


def cluster_client(url: str) -> RedisCluster:
    """A cluster client that fails fast: a command never waits out a failover.

    No retries: a retried ``SPUBLISH`` whose first try did reach Redis would
    be delivered twice, which breaks "at most once". A command that meets a
    dead node fails (the caller logs; the log has the event), and the next
    command refreshes the slot map first.
    """
    return RedisCluster.from_url(
        url,
        retry=Retry(NoBackoff(), 0),
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
    )


class ShardLost(ConnectionError):
    """A shard's subscriber connection failed, or a subscription went unconfirmed."""


@dataclass(eq=False)
class Shard:
    """One subscriber connection to one master, and the channels subscribed on it."""

    node: str
    connection: Connection
    channels: set[str] = field(default_factory=set)
    # SUNSUBSCRIBEs we sent and whose answer has not come yet, by channel: any
    # other sunsubscribe is the server's (the slot left this node).
    leaving: Counter[str] = field(default_factory=Counter)
    alive: bool = True
    reader: asyncio.Task[None] | None = None


class RedisClusterBroker:
    def __init__(self, cluster: RedisCluster, prefix: str) -> None:
        if "{" in prefix:
            raise ValueError(
                "HUB_REDIS_PREFIX must not contain '{' with Redis Cluster: a hash tag in the "
                "prefix would put every channel in one slot, on one shard"
            )
        self._cluster = cluster
        self._prefix = prefix + "ch:"
        self._wanted: set[str] = set()
        self._shards: dict[str, Shard] = {}
        self._placed: dict[str, Shard] = {}
        self._waiters: dict[str, list[asyncio.Future[bool]]] = {}
        self._lock = asyncio.Lock()
        self._trouble = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._on_message: MessageHandler | None = None
        self._on_reconnect: ReconnectHandler | None = None
        self._up = False
        self._connected_once = False
        self._refreshed_at = 0.0

    def bind(self, on_message: MessageHandler, on_reconnect: ReconnectHandler) -> None:
        self._on_message = on_message
        self._on_reconnect = on_reconnect

    @property
    def is_up(self) -> bool:
        return self._up

    async def start(self) -> None:
        self._trouble.set()  # the first repair connects
        self._task = asyncio.create_task(self._supervise(), name="redis-cluster-broker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for shard in list(self._shards.values()):
            await self._close(shard)
        self._shards.clear()
        self._placed.clear()

    # Publishing: redis-py routes by slot and follows MOVED.

    async def publish(self, channel: str, payload: str) -> None:
        async with self._refresh_on_failure():
            await self._cluster.spublish(self._prefix + channel, payload)

    async def publish_all(self, messages: list[tuple[str, str]]) -> None:
        """One pipeline: redis-py sends each shard its messages, in order, in one write."""
        async with self._refresh_on_failure():
            pipe = self._cluster.pipeline()
            for channel, payload in messages:
                pipe.spublish(self._prefix + channel, payload)
            await pipe.execute()

    @contextlib.asynccontextmanager
    async def _refresh_on_failure(self) -> AsyncIterator[None]:
        """After a failed publish, refresh the slot map (at most every REFRESH_SECONDS).

        Without retries, redis-py's pipeline never refreshes it by itself: every
        later publish would go on failing against a dead master.
        """
        try:
            yield
        except CLUSTER_ERRORS:
            if time.monotonic() - self._refreshed_at > REFRESH_SECONDS:
                self._refreshed_at = time.monotonic()
                with contextlib.suppress(*CLUSTER_ERRORS):
                    await self._refresh_slot_map()
            raise

    async def _refresh_slot_map(self) -> None:
        # The client's own set-up once (slot map and command table), then a
        # fresh slot map every time.
        await self._cluster.initialize()
        await self._cluster.nodes_manager.initialize()

    # Subscribing.

    async def subscribe(self, channel: str) -> None:
        self._wanted.add(channel)
        waiter: asyncio.Future[bool] | None = None
        async with self._lock:
            if channel not in self._placed and not self._trouble.is_set():
                try:
                    owner = self._owner(channel)
                    waiter = self._expect(channel)
                    await self._send(await self._place(channel, owner), [channel])
                except CLUSTER_ERRORS as exc:
                    # The supervisor subscribes it; fan-out catches up then.
                    self._report_trouble(exc)
        if waiter is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CONFIRM_SECONDS):
                    await waiter

    async def unsubscribe(self, channel: str) -> None:
        self._wanted.discard(channel)
        async with self._lock:
            shard = self._placed.pop(channel, None)
            if shard is not None and shard.alive:
                shard.channels.discard(channel)
                with contextlib.suppress(*CLUSTER_ERRORS):
                    await self._send(shard, [channel], "SUNSUBSCRIBE")

    # The supervisor: one repair at a time, with backoff.

    async def _supervise(self) -> None:
        delay = BACKOFF_FIRST
        while True:
            await self._trouble.wait()
            if self._connected_once:
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            self._trouble.clear()
            try:
                await self._repair()
            except Exception as exc:  # the cluster's trouble, or ours: try again, later
                self._report_trouble(exc)
                if not self._connected_once:
                    await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            if self._trouble.is_set():  # broken again meanwhile: repair again, later
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            delay = BACKOFF_FIRST
            self._up = True
            logs.event("broker_up", channels=len(self._wanted), shards=len(self._shards))
            if self._connected_once and self._on_reconnect is not None:
                spawn(self._on_reconnect(), name="broker-reconnect")
            self._connected_once = True

    async def _repair(self) -> None:
        """Subscribe every wanted channel on its current owner; raise unless all confirm."""
        # The client refreshes its slot map only when a command meets trouble,
        # and this process may only be listening.
        await self._refresh_slot_map()
        waiters: list[asyncio.Future[bool]] = []
        async with self._lock:
            moves: dict[Shard, list[str]] = {}
            leaving: dict[Shard, list[str]] = {}
            for channel in sorted(self._wanted):
                owner = self._owner(channel)
                current = self._placed.get(channel)
                if current is not None and current.alive and current.node == owner.name:
                    continue
                if current is not None and current.alive:
                    current.channels.discard(channel)
                    leaving.setdefault(current, []).append(channel)
                waiters.append(self._expect(channel))
                moves.setdefault(await self._place(channel, owner), []).append(channel)
            for shard, channels in moves.items():
                await self._send(shard, channels)
            for shard, channels in leaving.items():  # after the new owner has them
                with contextlib.suppress(*CLUSTER_ERRORS):
                    await self._send(shard, channels, "SUNSUBSCRIBE")
            await self._close_idle()
        if waiters:
            async with asyncio.timeout(CONFIRM_SECONDS):
                confirmed = await asyncio.gather(*waiters)
            if not all(confirmed):
                raise ShardLost("a subscription was refused or its shard was lost")

    def _owner(self, channel: str) -> ClusterNode:
        """The master owning ``channel``'s slot, from the slot map as last refreshed."""
        owner = self._cluster.get_node_from_key(self._prefix + channel)
        if owner is None:
            raise SlotNotCoveredError(f"no master serves the slot of {channel}")
        return owner

    async def _place(self, channel: str, owner: ClusterNode) -> Shard:
        """Record ``channel`` on the owner's shard, connecting to it if needed."""
        shard = self._shards.get(owner.name)
        if shard is None or not shard.alive:
            connection: Connection = owner.connection_class(**owner.connection_kwargs)
            await connection.connect()  # type: ignore[no-untyped-call]
            shard = Shard(owner.name, connection)
            shard.reader = asyncio.create_task(self._read(shard), name=f"shard-{owner.name}")
            self._shards[owner.name] = shard
        shard.channels.add(channel)
        self._placed[channel] = shard
        return shard

    async def _send(self, shard: Shard, channels: list[str], command: str = "SSUBSCRIBE") -> None:
        """One write per shard; one command per channel (a command must not span slots)."""
        connection = shard.connection
        if command == "SUNSUBSCRIBE":
            shard.leaving.update(channels)
        packed = connection.pack_commands([(command, self._prefix + c) for c in channels])
        await connection.send_packed_command(packed, check_health=False)

    async def _close_idle(self) -> None:
        """Close shards left with no channels whose node no longer is a master."""
        masters = {node.name for node in self._cluster.get_primaries()}
        for name, shard in list(self._shards.items()):
            if not shard.channels and name not in masters:
                del self._shards[name]
                await self._close(shard)

    # One reader per shard.

    async def _read(self, shard: Shard) -> None:
        last_heard = time.monotonic()
        pinged = False
        try:
            while True:
                try:
                    reply = await shard.connection.read_response(
                        timeout=READ_SECONDS, push_request=True
                    )
                except AskError as exc:  # MOVED too: SSUBSCRIBE went to a stale owner
                    self._refused(shard, exc.slot_id)
                    continue
                if reply is None:
                    idle = time.monotonic() - last_heard
                    if idle > 2 * IDLE_PING_SECONDS:
                        raise ShardLost(f"no answer from {shard.node} in {idle:.0f} s")
                    if idle > IDLE_PING_SECONDS and not pinged:
                        await shard.connection.send_command("PING", check_health=False)
                        pinged = True
                    continue
                last_heard, pinged = time.monotonic(), False
                if isinstance(reply, list) and len(reply) >= 2:
                    self._dispatch(shard, reply)
        except Exception as exc:  # whatever broke the reader, the supervisor repairs
            self._lose(shard, exc)

    def _dispatch(self, shard: Shard, reply: list[Any]) -> None:
        kind = _text(reply[0]).lower()
        name = _text(reply[1])
        if not name.startswith(self._prefix):
            return
        channel = name[len(self._prefix) :]
        if kind == "smessage" and self._on_message is not None and len(reply) > 2:
            self._on_message(channel, _text(reply[2]))
        elif kind == "ssubscribe":
            self._resolve(channel, True)
        elif kind == "sunsubscribe" and shard.leaving[channel] > 0:
            shard.leaving[channel] -= 1
            if not shard.leaving[channel]:
                del shard.leaving[channel]
        elif kind == "sunsubscribe" and channel in shard.channels:
            # Not ours: the slot left this node (failover or resharding).
            self._unplace(shard, channel)
            self._report_trouble(ShardLost(f"{channel} left {shard.node}"))

    def _refused(self, shard: Shard, slot: int) -> None:
        for channel in list(shard.channels):
            if key_slot((self._prefix + channel).encode()) == slot:
                self._unplace(shard, channel)
        self._report_trouble(ShardLost(f"slot {slot} is not on {shard.node}"))

    def _lose(self, shard: Shard, exc: BaseException) -> None:
        shard.alive = False
        if self._shards.get(shard.node) is shard:
            del self._shards[shard.node]
        for channel in list(shard.channels):
            self._unplace(shard, channel)
        self._report_trouble(exc)
        spawn(self._close(shard), name="shard-close")

    def _unplace(self, shard: Shard, channel: str) -> None:
        shard.channels.discard(channel)
        if self._placed.get(channel) is shard:
            del self._placed[channel]
        self._resolve(channel, False)

    def _expect(self, channel: str) -> asyncio.Future[bool]:
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, []).append(waiter)
        return waiter

    def _resolve(self, channel: str, confirmed: bool) -> None:
        for waiter in self._waiters.pop(channel, []):
            if not waiter.done():
                waiter.set_result(confirmed)

    def _report_trouble(self, exc: BaseException) -> None:
        if self._up:
            logs.event("broker_down", logging.WARNING, error=type(exc).__name__, detail=str(exc))
        self._up = False
        self._trouble.set()

    async def _close(self, shard: Shard) -> None:
        shard.alive = False
        if shard.reader is not None and shard.reader is not asyncio.current_task():
            shard.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await shard.reader
        with contextlib.suppress(Exception):
            await shard.connection.disconnect(nowait=True)


def _text(value: bytes | str | int) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
