"""The delivery worker: each webhook's events, from the channel log, at least once, in order.

Every process runs one. Its loop, every :data:`POLL_SECONDS`:

- **Discover.** One query for the heads of the channels written lately
  (:func:`~hub.realtime.channel_log.recent_heads`: its cost follows the write
  rate, not the number of channels). A live webhook's idle cursor on such a
  calendar channel that is behind the head becomes due; a calendar made after
  the webhook gets its cursor, from seq 0, when its first event appears. The
  look-back covers the longest write transaction, so an event whose commit
  raced a cursor going idle is found on a later pass. When a webhook becomes
  live in this process (start, creation, re-enabling, its owner an admin
  again), its cursors are compared with every calendar's head once.
- **Dispatch.** Claim due cursors of each live webhook under a lease
  (:class:`~hub.storage.webhooks.Webhooks`, ``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL), at most ``HUB_WEBHOOK_CONCURRENCY`` in flight per process and
  a quarter of that per webhook, so one slow or dead receiver never holds the
  slots the others need.
- **Deliver.** One task per claimed cursor: it reads the events after the
  cursor, passes over those the webhook does not want, POSTs the next
  (:mod:`hub.service.sender`) and, only after a 2xx, moves the cursor and goes
  on to the next. A failure schedules a retry (exponential backoff from
  ``HUB_WEBHOOK_RETRY_BASE_SECONDS``, with jitter); once the event's first
  failure is ``HUB_WEBHOOK_RETRY_HOURS`` old, it is marked failed and the
  webhook disabled.

At least once: the cursor moves in the database only after a 2xx. A process
that dies mid-attempt leaves its lease to run out (the attempt's timeout plus
:data:`LEASE_MARGIN`); then any process attempts that event again, with the
same ``webhook-id``. A webhook is live while it is enabled and its owner is
an active admin (checked each second, from the account as it is now).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
import uuid
from collections import deque
from datetime import datetime, timedelta

from hub import logs
from hub.domain.errors import Unauthorized
from hub.domain.model import calendar_channel
from hub.domain.times import now
from hub.realtime import channel_log
from hub.realtime.channel_log import ChannelEvent
from hub.service.access import Identity, current
from hub.service.sender import Outcome, Sender
from hub.settings import Settings
from hub.storage.calendars import Calendars
from hub.storage.store import Store
from hub.storage.users import Users
from hub.storage.webhooks import Stream, Webhook, Webhooks

POLL_SECONDS = 0.2
REFRESH_SECONDS = 1.0
MIN_PAUSE_SECONDS = 0.01
PRUNE_SECONDS = 3600.0
READ_BATCH = 100
RUN_LIMIT = 500  # events one claim delivers before it lets other processes have a turn
LEASE_MARGIN = timedelta(seconds=10)  # beyond the attempt's timeout: clock skew, the commit
CLOCK_SKEW = timedelta(seconds=5)
MAX_BACKOFF_SECONDS = 3600.0
HEADS_PAGE = 500
_MAX_SEQ = 2**62
_failures = logs.Limited("webhook_worker_failed")


def covers(hook: Webhook, channel: str) -> bool:
    """The calendar channels a webhook follows: all, or its calendar's."""
    if hook.calendar_id is not None:
        return channel == calendar_channel(hook.calendar_id)
    return channel.startswith("calendar:")


def wants(hook: Webhook, event: ChannelEvent) -> bool:
    return hook.events is None or event.event in hook.events


class DeliveryWorker:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.hooks = Webhooks(store)
        self.users = Users(store)
        self.calendars = Calendars(store)
        self.sender = Sender(settings)
        self.owner = uuid.uuid4().hex  # this process's name on the leases it takes
        self.lookback = timedelta(seconds=2 * settings.db_timeout_seconds) + CLOCK_SKEW
        self.lease = timedelta(seconds=settings.webhook_timeout_seconds) + LEASE_MARGIN
        self.window = timedelta(hours=settings.webhook_retry_hours)
        self.per_webhook = max(1, settings.webhook_concurrency // 4)
        self.live: dict[str, Webhook] = {}
        self.running: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.attempts = 0  # made by this process (tests, benchmarks)
        self._since: datetime | None = None
        self._refresh_at = 0.0
        self._dispatch_at = 0.0
        self._prune_at = time.monotonic() + PRUNE_SECONDS
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.sender.start()
        self._loop = asyncio.create_task(self._run(), name="webhook-deliveries")

    async def stop(self) -> None:
        """Stop attempting; leases held are given back so another process goes on at once."""
        if self._loop is None:
            return
        tasks = [self._loop, *self.running.values()]
        self._loop = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2), self.store.write():
                await self.hooks.release(self.owner)
        await self.sender.close()

    def wake(self) -> None:
        """Look again now: a webhook was made or retried in this process."""
        self._refresh_at = self._dispatch_at = 0.0
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception as exc:  # e.g. a database outage: try again a little later
                _failures.event(logging.WARNING, error=f"{type(exc).__name__}: {exc}"[:300])
                await asyncio.sleep(REFRESH_SECONDS)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._pause()):
                    await self._wake.wait()
            self._wake.clear()

    def _pause(self) -> float:
        """Until the next poll, or a retry falling due sooner; with no webhook, the next refresh."""
        clock = time.monotonic()
        until = min(self._dispatch_at, clock + POLL_SECONDS) if self.live else self._refresh_at
        return max(MIN_PAUSE_SECONDS, until - clock)

    async def tick(self) -> None:
        clock = time.monotonic()
        if clock >= self._refresh_at:
            await self._refresh()
            self._refresh_at = clock + REFRESH_SECONDS
        if not self.live:
            self._since = None
            return
        await self._discover()
        if time.monotonic() >= self._dispatch_at:
            await self._dispatch()
        if clock >= self._prune_at:
            self._prune_at = clock + PRUNE_SECONDS
            await self._prune()

    # Which webhooks are live

    async def _refresh(self) -> None:
        live: dict[str, Webhook] = {}
        owners: dict[str, bool] = {}
        for hook in await self.hooks.enabled():
            if hook.owner_id not in owners:
                owners[hook.owner_id] = await self._is_admin(hook.owner_id)
            if owners[hook.owner_id]:
                live[hook.id] = hook
        appeared = [hook for hook_id, hook in live.items() if hook_id not in self.live]
        if appeared:
            started = now()
            await self.reconcile(appeared)
            self._since = self._since or started
        self.live = live

    async def _is_admin(self, user_id: str) -> bool:
        try:
            return (await current(self.users, Identity(user_id, None))).is_admin
        except Unauthorized:
            return False

    # Discover

    async def reconcile(self, hooks: list[Webhook]) -> None:
        """Compare these webhooks' cursors with the head of every calendar they follow."""
        calendars = await self.calendars.all(active_only=False)
        channels = [
            channel
            for channel in (calendar_channel(c.id) for c in calendars)
            if any(covers(h, channel) for h in hooks)
        ]
        heads: dict[str, int] = {}
        for first in range(0, len(channels), HEADS_PAGE):
            heads.update(await channel_log.heads(self.store, channels[first : first + HEADS_PAGE]))
        await self._schedule({c: h for c, h in heads.items() if h > 0}, hooks)

    async def _discover(self) -> None:
        started = now()
        since = (self._since or started) - self.lookback
        heads = await channel_log.recent_heads(self.store, since)
        await self._schedule(heads, list(self.live.values()))
        self._since = started

    async def _schedule(self, heads: dict[str, int], hooks: list[Webhook]) -> None:
        """Make due every cursor of ``hooks`` behind these heads; start missing ones at 0."""
        wanted = [
            (hook.id, channel, head)
            for channel, head in heads.items()
            for hook in hooks
            if covers(hook, channel)
        ]
        if not wanted:
            return
        channels = sorted({channel for _, channel, _ in wanted})
        known = {(s.webhook_id, s.channel): s for s in await self.hooks.streams_on(channels)}
        missing = [(w, c) for w, c, _ in wanted if (w, c) not in known]
        behind = [
            (w, c, head)
            for w, c, head in wanted
            if (w, c) in known and known[w, c].next_attempt_at is None and known[w, c].seq < head
        ]
        if not missing and not behind:
            return
        at = now()
        async with self.store.write():
            for webhook_id, channel in missing:  # a calendar made after the webhook
                await self.hooks.add_streams(webhook_id, {channel: 0}, due=at)
            for webhook_id, channel, head in behind:
                await self.hooks.mark_due(webhook_id, channel, head, at)
        self._dispatch_at = 0.0

    # Dispatch

    async def _dispatch(self) -> None:
        clock = time.monotonic()
        self._dispatch_at = clock + REFRESH_SECONDS
        free = self.settings.webhook_concurrency - len(self.running)
        if free <= 0:
            return
        at = now()
        due = await self.hooks.next_due(list(self.live), at)
        for webhook_id, when in sorted(due.items(), key=lambda item: item[1]):
            if when > at:
                wait = (when - at).total_seconds()
                self._dispatch_at = min(self._dispatch_at, clock + wait)
                continue
            hook = self.live[webhook_id]
            busy = sum(1 for w, _ in self.running if w == webhook_id)
            count = min(free, self.per_webhook - busy)
            if count <= 0:
                continue
            async with self.store.write():
                claimed = await self.hooks.claim(webhook_id, count, at, self.owner, at + self.lease)
            for stream in claimed:
                key = (stream.webhook_id, stream.channel)
                if key not in self.running:  # else a lease of ours ran out under a slow run
                    self.running[key] = asyncio.create_task(self._run_stream(hook, stream))
                    free -= 1
            if free <= 0:
                return

    async def _run_stream(self, hook: Webhook, stream: Stream) -> None:
        key = (stream.webhook_id, stream.channel)
        try:
            await self._deliver(hook, stream)
        except Exception as exc:  # the lease runs out; the events are attempted again
            _failures.event(
                logging.WARNING, webhook_id=hook.id, error=f"{type(exc).__name__}: {exc}"[:300]
            )
        finally:
            self.running.pop(key, None)
            self._dispatch_at = 0.0
            self._wake.set()

    # Deliver

    async def _deliver(self, hook: Webhook, stream: Stream) -> None:
        """Attempt the stream's events in order while they succeed, holding its lease."""
        reader = _Reader(self.store, hook, stream)
        state = stream
        for _ in range(RUN_LIMIT):
            event = await reader.next()
            if event is None:
                idle = dataclasses.replace(state, seq=reader.position, next_attempt_at=None)
                await self._give_back(idle)
                return
            if hook.id not in self.live:  # disabled, deleted, or its owner no admin now
                await self._give_back(dataclasses.replace(state, seq=reader.position))
                return
            outcome = await self.sender.attempt(hook, event)
            self.attempts += 1
            at = now()
            if not outcome.ok:
                await self._failed(dataclasses.replace(state, seq=reader.position), event, outcome)
                return
            reader.consume(event)
            state = dataclasses.replace(
                state, seq=event.seq, attempts=0, failing_since=None, next_attempt_at=at
            )
            if not await self._succeeded(state, event, outcome, at):
                return
        await self._give_back(dataclasses.replace(state, next_attempt_at=now()))

    async def _succeeded(
        self, state: Stream, event: ChannelEvent, outcome: Outcome, at: datetime
    ) -> bool:
        """Move the cursor past ``event``; True to go on (lease kept and renewed)."""
        async with self.store.write():
            going_on = await self.hooks.is_enabled(state.webhook_id)
            lease = at + self.lease if going_on else None
            if not await self.hooks.advance(state, self.owner, lease):
                return False  # the lease was lost, or the webhook deleted
            await self.hooks.record(
                state, event.seq, event.event, "success", outcome.status_code, None, at
            )
        return going_on

    async def _failed(self, state: Stream, event: ChannelEvent, outcome: Outcome) -> None:
        at = now()
        failing_since = state.failing_since or at
        attempts = state.attempts + 1
        expired = at - failing_since >= self.window
        last_chance = failing_since + self.window
        retry_at = None if expired else min(at + self._backoff(attempts), last_chance)
        state = dataclasses.replace(
            state, attempts=attempts, failing_since=failing_since, next_attempt_at=retry_at
        )
        async with self.store.write():
            if not await self.hooks.advance(state, self.owner, None):
                return
            status = "failed" if expired else "pending"
            await self.hooks.record(
                state, event.seq, event.event, status, outcome.status_code, outcome.error, at
            )
            if expired:
                await self.hooks.set_enabled(state.webhook_id, False)
        if expired:
            self.live.pop(state.webhook_id, None)
            logs.event(
                "webhook_disabled",
                logging.WARNING,
                webhook_id=state.webhook_id,
                channel=state.channel,
                seq=event.seq,
                failing_since=failing_since.isoformat(),
            )

    async def _give_back(self, state: Stream) -> None:
        async with self.store.write():
            await self.hooks.advance(state, self.owner, None)

    def _backoff(self, attempts: int) -> timedelta:
        """Exponential from the base, capped at an hour, ±20 % jitter."""
        base = self.settings.webhook_retry_base_seconds
        seconds = min(MAX_BACKOFF_SECONDS, base * 2 ** min(attempts - 1, 30))
        return timedelta(seconds=seconds * random.uniform(0.8, 1.2))

    async def _prune(self) -> None:
        cutoff = now() - timedelta(days=self.settings.log_retention_days)
        async with self.store.write():
            count = await self.hooks.prune(cutoff)
        if count:
            logs.event("pruned", webhook_deliveries=count)


class _Reader:
    """The events after a cursor, in seq order, skipping those the webhook does not want."""

    def __init__(self, store: Store, hook: Webhook, stream: Stream) -> None:
        self.store = store
        self.hook = hook
        self.channel = stream.channel
        self.position = stream.seq  # the last event done with (delivered or passed over)
        self._buffer: deque[ChannelEvent] = deque()

    async def next(self) -> ChannelEvent | None:
        """The next wanted event, or None when the log has none yet."""
        while True:
            while self._buffer:
                event = self._buffer[0]
                if wants(self.hook, event):
                    return event
                self.consume(event)
            batch = await channel_log.read(
                self.store, self.channel, self.position, _MAX_SEQ, limit=READ_BATCH
            )
            if not batch:
                return None
            if batch[0].seq > self.position + 1:  # pruned while the webhook was disabled
                logs.event(
                    "webhook_gap",
                    logging.WARNING,
                    webhook_id=self.hook.id,
                    channel=self.channel,
                    missing=f"{self.position + 1}..{batch[0].seq - 1}",
                )
            self._buffer.extend(batch)

    def consume(self, event: ChannelEvent) -> None:
        self._buffer.popleft()
        self.position = event.seq
