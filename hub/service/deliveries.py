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
- **Deliver.** One :class:`~hub.service.delivery_run.StreamRun` per claimed
  cursor: in seq order, the cursor moved only after a 2xx, failures retried
  with backoff until the retry window disables the webhook.

At least once: the cursor moves in the database only after a 2xx. A process
that dies mid-attempt leaves its lease to run out (the attempt's timeout plus
:data:`LEASE_MARGIN`); then any process attempts that event again, with the
same ``webhook-id``. A webhook is live while it is enabled and its owner is
an active admin (checked each second, from the account as it is now).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import datetime, timedelta

from hub import logs
from hub.domain.errors import Unauthorized
from hub.domain.model import calendar_channel
from hub.domain.times import now
from hub.realtime import channel_log
from hub.service.access import Identity, current
from hub.service.delivery_run import StreamRun
from hub.service.sender import Sender
from hub.settings import Settings
from hub.storage.calendars import Calendars
from hub.storage.store import Store
from hub.storage.users import Users
from hub.storage.webhooks import Stream, Webhook, Webhooks

POLL_SECONDS = 0.2
REFRESH_SECONDS = 1.0
MIN_PAUSE_SECONDS = 0.01
PRUNE_SECONDS = 3600.0
LEASE_MARGIN = timedelta(seconds=10)  # beyond the attempt's timeout: clock skew, the commit
CLOCK_SKEW = timedelta(seconds=5)
HEADS_PAGE = 500
_failures = logs.Limited("webhook_worker_failed")


def covers(hook: Webhook, channel: str) -> bool:
    """The calendar channels a webhook follows: all, or its calendar's."""
    if hook.calendar_id is not None:
        return channel == calendar_channel(hook.calendar_id)
    return channel.startswith("calendar:")


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
        # Caught-up runs waiting for their channel to move: (position, signal) by cursor.
        self.lingering: dict[tuple[str, str], tuple[int, asyncio.Event]] = {}
        self.starved: set[str] = set()
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
        if clock >= self._prune_at:
            self._prune_at = clock + PRUNE_SECONDS
            await self._prune()
        if not self.live:
            self._since = None
            return
        await self._discover()
        if time.monotonic() >= self._dispatch_at:
            await self._dispatch()

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
        for (_, channel), (position, moved) in self.lingering.items():
            if heads.get(channel, 0) > position:
                moved.set()
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
        at = now()
        due = await self.hooks.next_due(list(self.live), at)
        free = self.settings.webhook_concurrency - len(self.running)
        self.starved = set()
        for webhook_id, (when, count) in sorted(due.items(), key=lambda item: item[1][0]):
            if when > at:
                wait = (when - at).total_seconds()
                self._dispatch_at = min(self._dispatch_at, clock + wait)
                continue
            busy = sum(1 for w, _ in self.running if w == webhook_id)
            take = min(count, free, self.per_webhook - busy)
            claimed = await self._claim(webhook_id, take, at) if take > 0 else 0
            free -= claimed
            if claimed < count:
                self.starved.add(webhook_id)

    async def _claim(self, webhook_id: str, count: int, at: datetime) -> int:
        """Lease up to ``count`` due cursors of a webhook and start a run on each."""
        hook, until = self.live[webhook_id], at + self.lease
        async with self.store.write():
            claimed = await self.hooks.claim(webhook_id, count, at, self.owner, until)
        for stream in claimed:
            key = (stream.webhook_id, stream.channel)
            if key not in self.running:  # else a lease of ours ran out under a slow run
                self.running[key] = asyncio.create_task(self._run_stream(hook, stream, until))
        return len(claimed)

    async def _run_stream(self, hook: Webhook, stream: Stream, lease_until: datetime) -> None:
        key = (stream.webhook_id, stream.channel)
        try:
            await StreamRun(self, hook, stream, lease_until).run()
        except Exception as exc:  # the lease runs out; the events are attempted again
            _failures.event(
                logging.WARNING, webhook_id=hook.id, error=f"{type(exc).__name__}: {exc}"[:300]
            )
        finally:
            self.running.pop(key, None)
            self._dispatch_at = 0.0
            self._wake.set()

    # What runs ask of the worker

    def is_live(self, webhook_id: str) -> bool:
        return webhook_id in self.live

    def is_starved(self, webhook_id: str) -> bool:
        """Cursors of this webhook were due at the last dispatch and got no slot."""
        return webhook_id in self.starved

    def disabled(self, webhook_id: str) -> None:
        self.live.pop(webhook_id, None)

    async def _prune(self) -> None:
        cutoff = now() - timedelta(days=self.settings.log_retention_days)
        async with self.store.write():
            count = await self.hooks.prune(cutoff)
        if count:
            logs.event("pruned", webhook_deliveries=count)
