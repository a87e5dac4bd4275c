"""The channel log: an ordered, gap-free record of every change per channel.

Inside the transaction that makes a change, :func:`append` takes the next
``seq`` of the channel (the head row is updated, which also serialises
concurrent writers of one channel) and stores the event. Readers replay from
it to resume a subscription, and each process reads it to fill any gap the
broker left. Old rows are pruned after the retention period; the head rows
are kept forever, so seqs never restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hub.domain.times import format_time, now, utc
from hub.storage.store import Sql, Store
from hub.storage.tables import Timestamp, channel_heads, channel_log


@dataclass(frozen=True)
class ChannelEvent:
    """One change on one channel, as stored and as published."""

    channel: str
    seq: int
    event: str
    data: dict[str, Any]
    at: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "channel": self.channel,
                "seq": self.seq,
                "event": self.event,
                "data": self.data,
                "at": self.at,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> ChannelEvent:
        body = json.loads(raw)
        return cls(body["channel"], int(body["seq"]), body["event"], body["data"], body["at"])


async def create_channel(store: Store, channel: str) -> None:
    """Create the head of a new channel (inside the creating transaction)."""
    await store.execute(channel_heads.insert().values(channel=channel, seq=0))


_ADVANCE = Sql("UPDATE channel_heads SET seq = seq + :count WHERE channel = :channel RETURNING seq")
_INSERT = Sql(
    "INSERT INTO channel_log (channel, seq, event, payload, created_at) "
    "VALUES (:channel, :seq, :event, :payload, :created_at)",
    created_at=Timestamp,
)
# PostgreSQL: one event on several channels in one round trip (a booking's two).
_APPEND_EACH = Sql(
    "WITH heads AS (UPDATE channel_heads SET seq = seq + 1 WHERE channel = ANY(:channels)"
    " RETURNING channel, seq) INSERT INTO channel_log (channel, seq, event, payload, created_at)"
    " SELECT channel, seq, :event, :payload, :created_at FROM heads RETURNING channel, seq"
)


async def append(store: Store, channel: str, event: str, data: dict[str, Any]) -> ChannelEvent:
    """Append one event; must run inside a write transaction."""
    (entry,) = await append_many(store, channel, [(event, data)])
    return entry


async def append_each(
    store: Store, channels: list[str], event: str, data: dict[str, Any]
) -> list[ChannelEvent]:
    """Append one event to each channel (in a write transaction); in that order.

    On PostgreSQL one statement advances every head and writes every row; a
    channel whose head does not exist yet is started the slow way.
    """
    if store.is_sqlite or len(channels) < 2:
        return [await append(store, channel, event, data) for channel in channels]
    stamp = now()
    rows = await store.rows(
        _APPEND_EACH, channels=channels, event=event, payload=json.dumps(data), created_at=stamp
    )
    at = format_time(stamp)
    seqs = {r["channel"]: int(r["seq"]) for r in rows}
    return [
        ChannelEvent(channel, seqs[channel], event, data, at)
        if channel in seqs
        else await append(store, channel, event, data)
        for channel in channels
    ]


async def append_many(
    store: Store, channel: str, events: list[tuple[str, dict[str, Any]]]
) -> list[ChannelEvent]:
    """Append events to one channel, with consecutive seqs, in two statements.

    Must run inside a write transaction; the head row's update serialises
    concurrent writers of the channel, so the seqs stay gap-free.
    """
    count = len(events)
    last = await store.value(_ADVANCE, channel=channel, count=count)
    if last is None:
        # A channel whose head was never created (e.g. a user made before the
        # log existed): start it now; the caller's lock makes this race-free.
        await create_channel(store, channel)
        last = await store.value(_ADVANCE, channel=channel, count=count)
    stamp = now()
    at = format_time(stamp)
    first = int(last) - count + 1
    entries = [
        ChannelEvent(channel, first + i, name, data, at) for i, (name, data) in enumerate(events)
    ]
    if count == 1:  # the hot path: prepared SQL
        e = entries[0]
        await store.run(
            _INSERT,
            channel=channel,
            seq=e.seq,
            event=e.event,
            payload=json.dumps(e.data),
            created_at=stamp,
        )
        return entries
    rows = [
        {
            "channel": channel,
            "seq": e.seq,
            "event": e.event,
            "payload": json.dumps(e.data),
            "created_at": stamp,
        }
        for e in entries
    ]
    await store.execute(channel_log.insert().values(rows))
    return entries


async def head(store: Store, channel: str) -> int:
    seq = await store.fetch_val(
        sa.select(channel_heads.c.seq).where(channel_heads.c.channel == channel)
    )
    return int(seq or 0)


async def heads(store: Store, channels: list[str]) -> dict[str, int]:
    rows = await store.fetch_all(
        sa.select(channel_heads.c.channel, channel_heads.c.seq).where(
            channel_heads.c.channel.in_(channels)
        )
    )
    return {r["channel"]: int(r["seq"]) for r in rows}


async def oldest_retained(store: Store, channel: str) -> int | None:
    """The smallest seq still in the log, or None when nothing is retained."""
    seq = await store.fetch_val(
        sa.select(sa.func.min(channel_log.c.seq)).where(channel_log.c.channel == channel)
    )
    return None if seq is None else int(seq)


async def read(
    store: Store, channel: str, after: int, upto: int, limit: int = 1000
) -> list[ChannelEvent]:
    """Events with ``after < seq <= upto``, in seq order, at most ``limit``."""
    rows = await store.fetch_all(
        sa.select(channel_log)
        .where(
            channel_log.c.channel == channel, channel_log.c.seq > after, channel_log.c.seq <= upto
        )
        .order_by(channel_log.c.seq)
        .limit(limit)
    )
    return [
        ChannelEvent(
            channel,
            int(r["seq"]),
            r["event"],
            json.loads(r["payload"]),
            format_time(utc(r["created_at"])),
        )
        for r in rows
    ]


async def recent_heads(store: Store, since: datetime) -> dict[str, int]:
    """The highest seq of each channel with events logged after ``since``.

    One query whatever the number of channels a process holds: the periodic
    safety net of fan-out (its cost grows with the write rate, not with the
    channels served).
    """
    rows = await store.fetch_all(
        sa.select(channel_log.c.channel, sa.func.max(channel_log.c.seq).label("seq"))
        .where(channel_log.c.created_at > since)
        .group_by(channel_log.c.channel)
    )
    return {r["channel"]: int(r["seq"]) for r in rows}


async def prune(store: Store, retention: timedelta) -> int:
    """Delete log rows past the retention (heads are kept: seqs never restart)."""
    cutoff: datetime = now() - retention
    old = channel_log.c.created_at < cutoff
    count = await store.fetch_val(sa.select(sa.func.count()).select_from(channel_log).where(old))
    await store.execute(channel_log.delete().where(old))
    return int(count or 0)
