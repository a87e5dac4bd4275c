"""Per-process fan-out: channel → local subscribers, gap-free and in order.

The broker delivers at most once; this module turns that into "every event,
once, in seq order" for each local subscriber:

- Each local channel remembers ``delivered``, the last seq it handed out.
  A message with exactly the next seq is delivered at once, with no await.
  Anything else (a skipped seq, a message while the channel is busy, a
  broker reconnect, a periodic head check finding the log ahead) schedules
  a catch-up that reads the missing rows from the channel log under the
  channel's lock and delivers them in order; duplicates are dropped.
- A new subscriber is registered under the same lock, at the head it read
  then, so every later event reaches it exactly once. Replay of older events
  (``since``) runs outside the lock; live events meanwhile wait in the
  subscription's backlog and follow the replay.
- Each event is encoded once per projection (full, busy block), never once
  per socket, and pushed onto each session's bounded queue.
- The process itself may *listen* to a channel (account news): listeners get
  each event in seq order through the same machinery, gap-filling included.
- The safety net (:meth:`Fanout.check_recent`) reads, in one query whatever the
  number of channels held, the head of every channel written recently, and
  catches up any local channel that is behind. It looks back far enough to
  see every transaction that could still commit since the last check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from hub import logs
from hub.domain.errors import ResyncRequired
from hub.domain.projection import owner, restricted, sees_in_full
from hub.domain.times import now, parse_wire_time
from hub.realtime import channel_log
from hub.realtime.broker import Broker
from hub.realtime.channel_log import ChannelEvent
from hub.realtime.frames import encode_event
from hub.storage.store import Store

REPLAY_PAGE = 500
HEADS_PAGE = 500
Listener = Callable[[ChannelEvent], None]


def _owner(event: ChannelEvent) -> str | None:
    """Whose event it is to see in full; None for events everyone sees whole."""
    return owner(event.event, event.data)


def _sees_full(sub: Subscription, owner: str | None) -> bool:
    return owner is None or sees_in_full(sub.sees_all, sub.viewer_id, owner)


def _epoch(at: str) -> float:
    """The event's commit time (RFC 3339 UTC) as epoch seconds."""
    return parse_wire_time(at).timestamp()


class Observer(Protocol):
    """What fan-out reports (the metrics), one sample per event, never per socket."""

    def delivered(self, latency_seconds: float) -> None: ...

    def caught_up(self, events: int) -> None: ...


class Subscriber(Protocol):
    """What fan-out needs of a session."""

    @property
    def user_id(self) -> str: ...

    @property
    def sees_all(self) -> bool:
        """Staff and admins see every appointment in full (decided at hello)."""
        ...

    def push(self, frame: str) -> bool:
        """Queue a frame without waiting; False when the session overflowed."""
        ...

    def push_wait(self, frame: str) -> Awaitable[None]:
        """Queue a frame, waiting for room (replay)."""
        ...

    def overflow(self) -> None:
        """Too far behind: close as a slow consumer."""
        ...


@dataclass(eq=False)
class Subscription:
    session: Subscriber
    last_seq: int
    live: bool
    backlog: list[ChannelEvent] = field(default_factory=list)
    # Read once here, not per event: who the subscriber is decides its projection.
    # A role change closes the session (4003), so this cannot go stale for long.
    viewer_id: str = ""
    sees_all: bool = False

    def __post_init__(self) -> None:
        self.viewer_id = self.session.user_id
        self.sees_all = self.session.sees_all


@dataclass(eq=False)
class LocalChannel:
    name: str
    delivered: int | None = None
    subs: dict[int, Subscription] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: bool = False
    catching_up: bool = False
    listeners: list[Listener] = field(default_factory=list)


class Fanout:
    def __init__(
        self, store: Store, broker: Broker, backlog_limit: int, lookback: timedelta
    ) -> None:
        self.store = store
        self.broker = broker
        self.backlog_limit = backlog_limit
        self.channels: dict[str, LocalChannel] = {}
        self._tasks: set[asyncio.Task[int]] = set()
        self.delivered_count = 0
        self.observer: Observer | None = None
        # The safety net: how far back each check looks, and from when.
        self._lookback = lookback
        self._checked_at: datetime | None = None

    # Subscribing

    async def subscribe(self, session: Subscriber, name: str, since: int | None) -> int:
        """Register ``session`` on ``name``; returns the head.

        The caller then queues its ``ok`` answer and calls :meth:`replay`, so
        that the answer comes first, then the replayed events, then live ones.

        Raises:
            ResyncRequired: ``since`` is beyond the head or older than the log.
        """
        while True:
            channel = self.channels.get(name)
            if channel is None:
                channel = LocalChannel(name)
                self.channels[name] = channel
            async with channel.lock:
                if channel.closed:
                    continue
                if channel.delivered is None:
                    await self.broker.subscribe(name)
                head = await channel_log.head(self.store, name)
                if channel.delivered is None:
                    channel.delivered = head
                if since is not None:
                    await self._check_since(name, since, head)
                start = head if since is None else since
                channel.subs[id(session)] = Subscription(session, start, live=start >= head)
                return head

    async def listen(self, name: str, listener: Listener) -> None:
        """Hand this process every event of ``name`` from now on, in order (never undone)."""
        channel = self.channels.setdefault(name, LocalChannel(name))
        async with channel.lock:
            if channel.delivered is None:
                await self.broker.subscribe(name)
                channel.delivered = await channel_log.head(self.store, name)
            channel.listeners.append(listener)

    async def _check_since(self, name: str, since: int, head: int) -> None:
        if since > head:
            raise ResyncRequired(
                "since is beyond the channel's head; take a snapshot", {"head": head}
            )
        if since < head:
            oldest = await channel_log.oldest_retained(self.store, name)
            if oldest is None or oldest > since + 1:
                raise ResyncRequired(
                    "since is older than the retained log; take a snapshot", {"head": head}
                )

    async def replay(self, session: Subscriber, name: str, head: int) -> None:
        """Send the events after the subscription's start up to ``head``, then go live."""
        channel = self.channels.get(name)
        sub = channel.subs.get(id(session)) if channel else None
        if channel is None or sub is None or sub.live:
            return
        while sub.last_seq < head:
            page = await channel_log.read(self.store, name, sub.last_seq, head, REPLAY_PAGE)
            if not page:
                break
            for event in page:
                await session.push_wait(self._frame(event, sub))
                sub.last_seq = event.seq
        async with channel.lock:
            self._push_in_order(sub, sub.backlog)
            sub.backlog.clear()
            sub.live = True
            behind = channel.delivered is not None and channel.delivered > sub.last_seq
        if behind:
            # Events the backlog missed (it only keeps what arrived live).
            await self._catch_up_sub(channel, sub)

    async def _catch_up_sub(self, channel: LocalChannel, sub: Subscription) -> None:
        async with channel.lock:
            target = channel.delivered or 0
            events = await channel_log.read(self.store, channel.name, sub.last_seq, target)
            self._push_in_order(sub, events)

    def _push_in_order(self, sub: Subscription, events: list[ChannelEvent]) -> None:
        """Send the events that continue ``sub`` exactly where it is; skip the rest."""
        for event in events:
            if event.seq == sub.last_seq + 1:
                sub.session.push(self._frame(event, sub))
                sub.last_seq = event.seq

    async def unsubscribe(self, session: Subscriber, name: str) -> bool:
        channel = self.channels.get(name)
        if channel is None or id(session) not in channel.subs:
            return False
        async with channel.lock:
            channel.subs.pop(id(session), None)
            if not channel.subs and not channel.listeners and not channel.closed:
                channel.closed = True
                self.channels.pop(name, None)
                await self.broker.unsubscribe(name)
        return True

    async def drop(self, session: Subscriber, names: list[str]) -> None:
        for name in names:
            await self.unsubscribe(session, name)

    # Delivering

    def on_message(self, name: str, payload: str) -> None:
        """Called by the broker's listener for each message (no awaits here)."""
        channel = self.channels.get(name)
        if channel is None or channel.delivered is None:
            return
        try:
            event = ChannelEvent.from_json(payload)
        except (ValueError, KeyError, TypeError):
            logs.event("broker_message_invalid", logging.WARNING, channel=name)
            return
        if event.seq <= channel.delivered:
            return
        if event.seq == channel.delivered + 1 and not channel.lock.locked():
            self._deliver(channel, event)
            return
        self.schedule_catch_up(channel)

    def schedule_catch_up(self, channel: LocalChannel) -> None:
        if channel.catching_up:
            return
        channel.catching_up = True
        task = asyncio.create_task(self.catch_up(channel))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def catch_up(self, channel: LocalChannel) -> int:
        """Deliver every logged event after ``delivered``; returns how many."""
        count = 0
        try:
            async with channel.lock:
                channel.catching_up = False
                if channel.closed or channel.delivered is None:
                    return 0
                head = await channel_log.head(self.store, channel.name)
                while channel.delivered < head:
                    page = await channel_log.read(
                        self.store, channel.name, channel.delivered, head, REPLAY_PAGE
                    )
                    if not page:
                        break
                    for event in page:
                        self._deliver(channel, event)
                        count += 1
        except Exception as exc:
            channel.catching_up = False
            logs.event(
                "catch_up_failed", logging.WARNING, channel=channel.name, error=type(exc).__name__
            )
            return count
        if count:
            logs.event("catch_up", channel=channel.name, events=count)
            if self.observer is not None:
                self.observer.caught_up(count)
        return count

    async def catch_up_all(self) -> None:
        """After a broker reconnect: anything may have been lost."""
        for channel in list(self.channels.values()):
            self.schedule_catch_up(channel)

    async def check_recent(self) -> None:
        """The safety net: catch up every local channel the log shows ahead.

        One query per call, whatever the number of channels: the heads of the
        channels written since the last check, looking back far enough for any
        transaction that could commit late. After a failed check (a database
        outage), the next one reads the head of every local channel instead.
        """
        started, since = now(), self._checked_at
        self._checked_at = None  # until this check succeeds
        if since is None:
            heads = await self._all_heads()
        else:
            heads = await channel_log.recent_heads(self.store, since - self._lookback)
        self._checked_at = started
        for name, seq in heads.items():
            channel = self.channels.get(name)
            if channel and channel.delivered is not None and seq > channel.delivered:
                self.schedule_catch_up(channel)

    async def _all_heads(self) -> dict[str, int]:
        names = [n for n, c in self.channels.items() if c.delivered is not None]
        heads: dict[str, int] = {}
        for start in range(0, len(names), HEADS_PAGE):
            heads.update(await channel_log.heads(self.store, names[start : start + HEADS_PAGE]))
        return heads

    def _deliver(self, channel: LocalChannel, event: ChannelEvent) -> None:
        channel.delivered = event.seq
        for listener in channel.listeners:
            try:
                listener(event)
            except Exception as exc:  # one listener's bug must not stop delivery
                logs.event("listener_failed", logging.ERROR, channel=channel.name, error=repr(exc))
        full: str | None = None
        busy: str | None = None
        owner = _owner(event)
        sent = 0
        for sub in list(channel.subs.values()):
            if not sub.live:
                if len(sub.backlog) >= self.backlog_limit:
                    sub.session.overflow()
                    continue
                sub.backlog.append(event)
                continue
            if event.seq != sub.last_seq + 1:
                continue
            sub.last_seq = event.seq
            if _sees_full(sub, owner):
                if full is None:
                    full = encode_event(event.channel, event.seq, event.event, event.data, event.at)
                frame = full
            else:
                if busy is None:
                    busy = encode_event(
                        event.channel,
                        event.seq,
                        event.event,
                        restricted(event.event, event.data),
                        event.at,
                    )
                frame = busy
            sub.session.push(frame)
            sent += 1
        self.delivered_count += sent
        if self.observer is not None:  # one sample per event, never per socket
            self.observer.delivered(max(0.0, time.time() - _epoch(event.at)))

    @staticmethod
    def _frame(event: ChannelEvent, sub: Subscription) -> str:
        """One subscriber's frame (replays); live fan-out shares frames instead."""
        data = event.data if _sees_full(sub, _owner(event)) else restricted(event.event, event.data)
        return encode_event(event.channel, event.seq, event.event, data, event.at)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
