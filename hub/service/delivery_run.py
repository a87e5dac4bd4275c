"""One claimed cursor, delivered in order: attempts, the cursor, retries, the window.

A :class:`StreamRun` holds the lease on one webhook's cursor on one channel
(claimed by :class:`~hub.service.deliveries.DeliveryWorker`). It reads the
events after the cursor, passes over those the webhook does not want, POSTs
the next and, only after a 2xx, goes on to the next. Successes are written
(the cursor, renewing the lease, and the delivery log) a few at a time, at
most :data:`WRITE_SECONDS` after the first of them: a crash before that
delivers them again, with the same ``webhook-id`` (at least once).

Caught up, a run waits up to :data:`LINGER_SECONDS` for the worker's next
poll to report more on its channel, so a busy channel is not handed back to
the database and claimed again for every event. It does not wait, and hands
the cursor back after :data:`RUN_SECONDS`, while other cursors of its
webhook wait for a slot.

A failure hands the cursor back with a retry time: exponential backoff from
``HUB_WEBHOOK_RETRY_BASE_SECONDS`` with ±20 % jitter, capped at an hour and at
the end of the retry window. Once the event's first failure is
``HUB_WEBHOOK_RETRY_HOURS`` old, its delivery is marked failed and the webhook
disabled.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Protocol

from hub import logs
from hub.domain.times import now
from hub.realtime import channel_log
from hub.realtime.channel_log import ChannelEvent
from hub.service.sender import Outcome, Sender
from hub.settings import Settings
from hub.storage.store import Store
from hub.storage.webhooks import Stream, Webhook, Webhooks


class Worker(Protocol):
    """What a run needs of the delivery worker that claimed it (hub.service.deliveries)."""

    settings: Settings
    store: Store
    hooks: Webhooks
    sender: Sender
    owner: str
    lease: timedelta
    window: timedelta
    lingering: dict[tuple[str, str], tuple[int, asyncio.Event]]
    attempts: int

    def is_live(self, webhook_id: str) -> bool: ...

    def is_starved(self, webhook_id: str) -> bool: ...

    def disabled(self, webhook_id: str) -> None: ...


READ_BATCH = 100
RUN_LIMIT = 1000  # events one claim delivers before it goes back to the queue
RUN_SECONDS = 1.0  # how long a run may hold a slot that another cursor is waiting for
LINGER_SECONDS = 1.0
WRITE_EVERY = 20  # successes written in one transaction at most
WRITE_SECONDS = 0.25  # the longest a success waits to be written
MAX_BACKOFF_SECONDS = 3600.0
_MAX_SEQ = 2**62


def wants(hook: Webhook, event: ChannelEvent) -> bool:
    return hook.events is None or event.event in hook.events


class StreamRun:
    def __init__(
        self, worker: Worker, hook: Webhook, stream: Stream, lease_until: datetime
    ) -> None:
        self.worker = worker
        self.hooks = worker.hooks
        self.hook = hook
        self.state = stream
        self.lease_until = lease_until
        self.reader = _Reader(worker.store, hook, stream)
        self.key = (stream.webhook_id, stream.channel)
        # Successes not written yet, and since when the oldest has waited.
        self.unwritten: list[tuple[ChannelEvent, Outcome, datetime]] = []
        self.unwritten_since = 0.0

    async def run(self) -> None:
        """Deliver while events succeed; end with the cursor handed back (or failed)."""
        started = time.monotonic()
        for _ in range(RUN_LIMIT):
            event = await self.reader.next()
            if event is None and await self._linger():
                continue
            if event is None:  # caught up: idle until the worker sees the channel move
                await self._write(next_attempt_at=None, keep_lease=False)
                return
            if not self.worker.is_live(self.hook.id):  # disabled, deleted, owner no admin
                await self._write(self.state.next_attempt_at, keep_lease=False)
                return
            outcome = await self.worker.sender.attempt(self.hook, event)
            self.worker.attempts += 1
            if not outcome.ok:
                await self._failed(event, outcome)
                return
            if not await self._succeeded(event, outcome):
                return
            if self.worker.is_starved(self.hook.id) and time.monotonic() - started > RUN_SECONDS:
                break
        await self._write(next_attempt_at=now(), keep_lease=False)  # behind those waiting

    async def _linger(self) -> bool:
        """Wait for the worker to see this channel move; False when it did not or may not."""
        if self.worker.is_starved(self.hook.id):
            return False
        if self.lease_until - now() < timedelta(seconds=LINGER_SECONDS) + self.worker.lease / 2:
            return False
        moved = asyncio.Event()
        self.worker.lingering[self.key] = (self.reader.position, moved)
        deadline = time.monotonic() + LINGER_SECONDS
        try:
            while True:
                wait = deadline - time.monotonic()
                if self.unwritten:  # written while waiting, when their time comes
                    wait = min(wait, self.unwritten_since + WRITE_SECONDS - time.monotonic())
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(wait, 0.0)):
                        await moved.wait()
                        return True
                if self.unwritten:
                    if not await self._write(now(), keep_lease=True):
                        return False
                elif time.monotonic() >= deadline:
                    return False
        finally:
            self.worker.lingering.pop(self.key, None)

    async def _succeeded(self, event: ChannelEvent, outcome: Outcome) -> bool:
        """Count ``event`` delivered; True to go on (False: the lease was lost)."""
        at = now()
        self.reader.consume(event)
        self.state = dataclasses.replace(self.state, attempts=0, failing_since=None)
        if not self.unwritten:
            self.unwritten_since = time.monotonic()
        self.unwritten.append((event, outcome, at))
        # Written a few at a time (each commit is a disk flush, shared with bookings);
        # a crash before the write delivers them again, with the same webhook-id.
        if (
            len(self.unwritten) < WRITE_EVERY
            and time.monotonic() - self.unwritten_since < WRITE_SECONDS
        ):
            return True
        return await self._write(at, keep_lease=True)

    async def _write(
        self,
        next_attempt_at: datetime | None,
        keep_lease: bool,
        failure: tuple[ChannelEvent, Outcome, str] | None = None,
    ) -> bool:
        """Write the cursor (past what was delivered or passed over) and the delivery log.

        False when the lease was lost (or the webhook deleted): then nothing is written.
        """
        at = now()
        if keep_lease:
            self.lease_until = at + self.worker.lease
        self.state = dataclasses.replace(
            self.state, seq=self.reader.position, next_attempt_at=next_attempt_at
        )
        lease = self.lease_until if keep_lease else None
        async with self.worker.store.write():
            if not await self.hooks.advance(self.state, self.worker.owner, lease):
                return False
            for event, outcome, when in self.unwritten:
                await self.hooks.record(
                    self.state, event.seq, event.event, "success", outcome.status_code, None, when
                )
            if failure is not None:
                event, outcome, status = failure
                await self.hooks.record(
                    self.state,
                    event.seq,
                    event.event,
                    status,
                    outcome.status_code,
                    outcome.error,
                    at,
                )
                if status == "failed":
                    await self.hooks.set_enabled(self.state.webhook_id, False)
        self.unwritten = []
        return True

    async def _failed(self, event: ChannelEvent, outcome: Outcome) -> None:
        at = now()
        failing_since = self.state.failing_since or at
        attempts = self.state.attempts + 1
        expired = at - failing_since >= self.worker.window
        last_chance = failing_since + self.worker.window
        retry_at = None if expired else min(at + self._backoff(attempts), last_chance)
        self.state = dataclasses.replace(self.state, attempts=attempts, failing_since=failing_since)
        status = "failed" if expired else "pending"
        if not await self._write(retry_at, keep_lease=False, failure=(event, outcome, status)):
            return
        if expired:
            self.worker.disabled(self.state.webhook_id)
            logs.event(
                "webhook_disabled",
                logging.WARNING,
                webhook_id=self.state.webhook_id,
                channel=self.state.channel,
                seq=event.seq,
                failing_since=failing_since.isoformat(),
            )

    def _backoff(self, attempts: int) -> timedelta:
        base = self.worker.settings.webhook_retry_base_seconds
        seconds = min(MAX_BACKOFF_SECONDS, base * 2 ** min(attempts - 1, 30))
        return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


class _Reader:
    """The events after a cursor, in seq order, passing over those the webhook does not want."""

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
