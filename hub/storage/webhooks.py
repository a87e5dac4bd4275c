"""The webhooks, webhook_streams and webhook_deliveries tables: the only module that queries them.

A *stream* is one webhook's cursor on one channel. The delivery worker of any
process claims due streams under a lease: on PostgreSQL the claim selects
them ``FOR UPDATE SKIP LOCKED``, so two processes claiming at once take
different rows, and writes the lease (owner, expiry) in the same
transaction; later claims skip a stream while its lease runs. SQLite is the
one-process embedded mode, whose write lock serialises claims anyway. Every
change a lease holder makes is conditional on still holding the lease.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hub.domain.times import utc
from hub.storage.store import Store, statement
from hub.storage.tables import Timestamp, webhook_deliveries, webhook_streams, webhooks

_ADD_STREAM = statement(
    "INSERT INTO webhook_streams (webhook_id, channel, seq, next_attempt_at, attempts)"
    " VALUES (:webhook_id, :channel, :seq, :next_attempt_at, 0)"
    " ON CONFLICT (webhook_id, channel) DO NOTHING",
    next_attempt_at=Timestamp,
)
# Once per event delivered: cheap-to-compile SQL (``databases`` compiles every query anew).
_ADVANCE = statement(
    "UPDATE webhook_streams SET seq = :seq, next_attempt_at = :next_attempt_at,"
    " attempts = :attempts, failing_since = :failing_since, lease_owner = :new_owner,"
    " lease_until = :lease_until"
    " WHERE webhook_id = :webhook_id AND channel = :channel AND lease_owner = :owner"
    " RETURNING seq",
    next_attempt_at=Timestamp,
    failing_since=Timestamp,
    lease_until=Timestamp,
)
# One row per event attempted; each attempt counts itself in.
_RECORD = statement(
    "INSERT INTO webhook_deliveries (webhook_id, channel, seq, event, status, attempts,"
    " last_status_code, last_error, next_attempt_at, last_attempt_at) VALUES (:webhook_id,"
    " :channel, :seq, :event, :status, 1, :last_status_code, :last_error, :next_attempt_at, :at)"
    " ON CONFLICT (webhook_id, channel, seq) DO UPDATE SET status = excluded.status,"
    " attempts = webhook_deliveries.attempts + 1, last_status_code = excluded.last_status_code,"
    " last_error = excluded.last_error, next_attempt_at = excluded.next_attempt_at,"
    " last_attempt_at = excluded.last_attempt_at",
    next_attempt_at=Timestamp,
    at=Timestamp,
)


@dataclass(frozen=True)
class Webhook:
    """``events`` None: every event; ``calendar_id`` None: every calendar."""

    id: str
    owner_id: str
    url: str
    events: tuple[str, ...] | None
    calendar_id: str | None
    secret: str
    enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class Stream:
    """A webhook's cursor on one channel: ``seq`` is the last event done with."""

    webhook_id: str
    channel: str
    seq: int
    next_attempt_at: datetime | None
    attempts: int
    failing_since: datetime | None


@dataclass(frozen=True)
class Delivery:
    """One event attempted for a webhook, as the delivery log shows it."""

    webhook_id: str
    channel: str
    seq: int
    event: str
    status: str  # pending | success | failed
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    last_attempt_at: datetime


def _maybe(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def webhook_from_row(row: Any) -> Webhook:
    events = row["events"]
    return Webhook(
        id=row["id"],
        owner_id=row["owner_id"],
        url=row["url"],
        events=None if events is None else tuple(json.loads(events)),
        calendar_id=row["calendar_id"],
        secret=row["secret"],
        enabled=bool(row["enabled"]),
        created_at=utc(row["created_at"]),
    )


def stream_from_row(row: Any) -> Stream:
    return Stream(
        webhook_id=row["webhook_id"],
        channel=row["channel"],
        seq=int(row["seq"]),
        next_attempt_at=_maybe(row["next_attempt_at"]),
        attempts=int(row["attempts"]),
        failing_since=_maybe(row["failing_since"]),
    )


def delivery_from_row(row: Any) -> Delivery:
    code = row["last_status_code"]
    return Delivery(
        webhook_id=row["webhook_id"],
        channel=row["channel"],
        seq=int(row["seq"]),
        event=row["event"],
        status=row["status"],
        attempts=int(row["attempts"]),
        last_status_code=None if code is None else int(code),
        last_error=row["last_error"],
        next_attempt_at=_maybe(row["next_attempt_at"]),
        last_attempt_at=utc(row["last_attempt_at"]),
    )


_STREAM_COLUMNS = (
    webhook_streams.c.webhook_id,
    webhook_streams.c.channel,
    webhook_streams.c.seq,
    webhook_streams.c.next_attempt_at,
    webhook_streams.c.attempts,
    webhook_streams.c.failing_since,
)


def _lease_free(at: datetime) -> Any:
    lease = webhook_streams.c.lease_until
    return sa.or_(lease.is_(None), lease < at)


class Webhooks:
    def __init__(self, store: Store) -> None:
        self.store = store

    # Webhooks

    async def insert(self, hook: Webhook) -> None:
        await self.store.execute(
            webhooks.insert().values(
                id=hook.id,
                owner_id=hook.owner_id,
                url=hook.url,
                events=None if hook.events is None else json.dumps(list(hook.events)),
                calendar_id=hook.calendar_id,
                secret=hook.secret,
                enabled=hook.enabled,
                created_at=hook.created_at,
            )
        )

    async def get(self, webhook_id: str) -> Webhook | None:
        row = await self.store.fetch_one(webhooks.select().where(webhooks.c.id == webhook_id))
        return None if row is None else webhook_from_row(row)

    async def of_owner(self, owner_id: str) -> list[Webhook]:
        query = (
            webhooks.select()
            .where(webhooks.c.owner_id == owner_id)
            .order_by(webhooks.c.created_at, webhooks.c.id)
        )
        return [webhook_from_row(r) for r in await self.store.fetch_all(query)]

    async def enabled(self) -> list[Webhook]:
        query = webhooks.select().where(webhooks.c.enabled == sa.true())
        return [webhook_from_row(r) for r in await self.store.fetch_all(query)]

    async def set_enabled(self, webhook_id: str, enabled: bool) -> None:
        await self.store.execute(
            webhooks.update().where(webhooks.c.id == webhook_id).values(enabled=enabled)
        )

    async def delete(self, webhook_id: str) -> None:
        """The webhook, its cursors and its delivery log (an attempt in flight loses its lease)."""
        for table in (webhook_deliveries, webhook_streams):
            await self.store.execute(table.delete().where(table.c.webhook_id == webhook_id))
        await self.store.execute(webhooks.delete().where(webhooks.c.id == webhook_id))

    # Streams

    async def add_streams(
        self, webhook_id: str, cursors: dict[str, int], due: datetime | None
    ) -> None:
        """Start cursors (``channel: seq``); a stream that exists already is left alone."""
        for channel, seq in cursors.items():
            await self.store.execute(
                _ADD_STREAM.bindparams(
                    webhook_id=webhook_id, channel=channel, seq=seq, next_attempt_at=due
                )
            )

    async def streams_on(self, channels: list[str]) -> list[Stream]:
        """Every webhook's cursor on these channels."""
        query = sa.select(*_STREAM_COLUMNS).where(webhook_streams.c.channel.in_(channels))
        return [stream_from_row(r) for r in await self.store.fetch_all(query)]

    async def streams_of(self, webhook_id: str) -> list[Stream]:
        query = sa.select(*_STREAM_COLUMNS).where(webhook_streams.c.webhook_id == webhook_id)
        return [stream_from_row(r) for r in await self.store.fetch_all(query)]

    async def mark_due(self, webhook_id: str, channel: str, head: int, at: datetime) -> None:
        """Make an idle cursor that is behind ``head`` due at ``at``."""
        s = webhook_streams.c
        await self.store.execute(
            webhook_streams.update()
            .where(
                s.webhook_id == webhook_id,
                s.channel == channel,
                s.next_attempt_at.is_(None),
                s.seq < head,
            )
            .values(next_attempt_at=at)
        )

    async def next_due(
        self, webhook_ids: list[str], at: datetime
    ) -> dict[str, tuple[datetime, int]]:
        """For these webhooks' unleased cursors with work: the earliest due time, and how
        many are due at ``at``."""
        s = webhook_streams.c
        # Literal 1 and 0, not binds: asyncpg would take an untyped bind for text.
        is_due = sa.case(
            (s.next_attempt_at <= at, sa.literal_column("1")), else_=sa.literal_column("0")
        )
        due_now = sa.func.sum(is_due)
        query = (
            sa.select(
                s.webhook_id,
                sa.func.min(s.next_attempt_at).label("first"),
                due_now.label("due"),
            )
            .where(s.webhook_id.in_(webhook_ids), s.next_attempt_at.is_not(None), _lease_free(at))
            .group_by(s.webhook_id)
        )
        return {
            r["webhook_id"]: (utc(r["first"]), int(r["due"] or 0))
            for r in await self.store.fetch_all(query)
        }

    async def claim(
        self, webhook_id: str, limit: int, at: datetime, owner: str, until: datetime
    ) -> list[Stream]:
        """Lease up to ``limit`` of the webhook's due streams (inside a write transaction)."""
        s = webhook_streams.c
        query = (
            sa.select(*_STREAM_COLUMNS)
            .where(s.webhook_id == webhook_id, s.next_attempt_at <= at, _lease_free(at))
            .order_by(s.next_attempt_at)
            .limit(limit)
        )
        if not self.store.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        claimed = [stream_from_row(r) for r in await self.store.fetch_all(query)]
        if claimed:
            await self.store.execute(
                webhook_streams.update()
                .where(s.webhook_id == webhook_id, s.channel.in_([c.channel for c in claimed]))
                .values(lease_owner=owner, lease_until=until)
            )
        return claimed

    async def advance(
        self,
        stream: Stream,
        owner: str,
        lease_until: datetime | None,
    ) -> bool:
        """Write a leased stream's new state; False when the lease was lost (or the webhook gone).

        ``lease_until`` None gives the lease up; a time keeps it until then.
        """
        found = await self.store.fetch_val(
            _ADVANCE.bindparams(
                webhook_id=stream.webhook_id,
                channel=stream.channel,
                owner=owner,
                seq=stream.seq,
                next_attempt_at=stream.next_attempt_at,
                attempts=stream.attempts,
                failing_since=stream.failing_since,
                new_owner=owner if lease_until is not None else None,
                lease_until=lease_until,
            )
        )
        return found is not None

    async def release(self, owner: str) -> None:
        """Give up every lease ``owner`` holds (a process stopping)."""
        await self.store.execute(
            webhook_streams.update()
            .where(webhook_streams.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )

    async def retry(self, webhook_id: str, at: datetime) -> None:
        """Every cursor of the webhook due at ``at``, with a fresh retry window."""
        await self.store.execute(
            webhook_streams.update()
            .where(webhook_streams.c.webhook_id == webhook_id)
            .values(next_attempt_at=at, attempts=0, failing_since=None)
        )

    # The delivery log

    async def record(
        self,
        stream: Stream,
        seq: int,
        event: str,
        status: str,
        status_code: int | None,
        error: str | None,
        at: datetime,
    ) -> None:
        """Count one attempt of event ``seq`` in the log (``stream`` is the state after it)."""
        await self.store.execute(
            _RECORD.bindparams(
                webhook_id=stream.webhook_id,
                channel=stream.channel,
                seq=seq,
                event=event,
                status=status,
                last_status_code=status_code,
                last_error=None if error is None else error[:200],
                next_attempt_at=stream.next_attempt_at if status == "pending" else None,
                at=at,
            )
        )

    async def latest(self, webhook_id: str, limit: int) -> list[Delivery]:
        d = webhook_deliveries.c
        query = (
            webhook_deliveries.select()
            .where(d.webhook_id == webhook_id)
            .order_by(d.last_attempt_at.desc(), d.channel, d.seq.desc())
            .limit(limit)
        )
        return [delivery_from_row(r) for r in await self.store.fetch_all(query)]

    async def prune(self, cutoff: datetime) -> int:
        """Forget finished deliveries last attempted before ``cutoff``."""
        d = webhook_deliveries.c
        old = sa.and_(d.last_attempt_at < cutoff, d.status != "pending")
        count = await self.store.fetch_val(
            sa.select(sa.func.count()).select_from(webhook_deliveries).where(old)
        )
        await self.store.execute(webhook_deliveries.delete().where(old))
        return int(count or 0)
