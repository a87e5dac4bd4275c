"""The unit of work: one write transaction, and its events published after commit.

Every change the hub makes goes through :func:`unit_of_work`. Inside it a use
case writes rows and appends events to channels with :meth:`Work.append`;
when the block ends without an exception the transaction commits, and only
then are the appended events published, in order. An exception rolls the
transaction back and publishes nothing. So nothing can commit without being
published, or be published without having committed (Django's
``transaction.on_commit``, *Architecture Patterns with Python*'s unit of work).

Publishing is at most once (the broker's promise); the channel log, written in
the same transaction, is what makes delivery exact (:mod:`hub.realtime.fanout`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from hub.realtime import channel_log
from hub.realtime.channel_log import ChannelEvent
from hub.storage.store import Store


class Publisher(Protocol):
    async def publish(self, events: list[ChannelEvent]) -> None:
        """Hand committed events to every process; never raises (the log has them)."""
        ...


class Work:
    """What one unit of work has appended so far."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.events: list[ChannelEvent] = []

    async def append(self, channel: str, event: str, data: dict[str, Any]) -> ChannelEvent:
        """Append an event to a channel's log, to be published after the commit."""
        entry = await channel_log.append(self.store, channel, event, data)
        self.events.append(entry)
        return entry

    async def append_each(
        self, channels: list[str], event: str, data: dict[str, Any]
    ) -> list[ChannelEvent]:
        """Append one event to each channel (a booking: its calendar's and its client's)."""
        entries = await channel_log.append_each(self.store, channels, event, data)
        self.events.extend(entries)
        return entries

    async def append_many(
        self, channel: str, events: list[tuple[str, dict[str, Any]]]
    ) -> list[ChannelEvent]:
        """Append several events to one channel in order (a series: one per occurrence)."""
        entries = await channel_log.append_many(self.store, channel, events)
        self.events.extend(entries)
        return entries

    @property
    def seqs(self) -> dict[str, int]:
        """The last committed seq of each channel this work appended to."""
        return {e.channel: e.seq for e in self.events}


@asynccontextmanager
async def unit_of_work(store: Store, publisher: Publisher) -> AsyncIterator[Work]:
    """A write transaction whose appended events are published once it commits."""
    work = Work(store)
    async with store.write():
        yield work
    await publisher.publish(work.events)
