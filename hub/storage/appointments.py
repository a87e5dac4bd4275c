"""The appointments and idempotency_keys tables: the only module that queries them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hub.domain.availability import Interval
from hub.domain.model import Appointment, Kind, Status
from hub.domain.times import utc
from hub.storage.store import Store, statement
from hub.storage.tables import Timestamp, appointments, idempotency_keys

_ACTIVE = "('pending', 'confirmed')"
# Pending or confirmed time of a calendar overlapping [lower, upper).
_NEARBY = statement(
    "SELECT id, starts_at, ends_at FROM appointments WHERE calendar_id = :calendar_id"
    f" AND status IN {_ACTIVE} AND starts_at < :upper AND ends_at > :lower",
    upper=Timestamp,
    lower=Timestamp,
).columns(id=sa.String, starts_at=Timestamp, ends_at=Timestamp)
_INSERT = statement(
    "INSERT INTO appointments (id, calendar_id, client_id, title, notes, starts_at, ends_at,"
    " status, version, created_by, created_at, updated_at, kind) VALUES (:id, :calendar_id,"
    " :client_id, :title, :notes, :starts_at, :ends_at, :status, :version, :created_by,"
    " :created_at, :updated_at, :kind)",
    starts_at=Timestamp,
    ends_at=Timestamp,
    created_at=Timestamp,
    updated_at=Timestamp,
)


def appointment_from_row(row: Any) -> Appointment:
    return Appointment(
        id=row["id"],
        calendar_id=row["calendar_id"],
        client_id=row["client_id"],
        title=row["title"],
        notes=row["notes"],
        starts_at=utc(row["starts_at"]),
        ends_at=utc(row["ends_at"]),
        status=Status(row["status"]),
        version=int(row["version"]),
        created_by=row["created_by"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        kind=Kind(row["kind"]),
    )


@dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: str
    appointment_id: str
    created_at: datetime


class Appointments:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, appointment_id: str) -> Appointment | None:
        row = await self.store.fetch_one(
            appointments.select().where(appointments.c.id == appointment_id)
        )
        return None if row is None else appointment_from_row(row)

    async def insert(self, appointment: Appointment) -> None:
        """Raises :class:`~hub.storage.store.Overlap` when the time is taken."""
        a = appointment
        await self.store.execute(
            _INSERT.bindparams(
                id=a.id,
                calendar_id=a.calendar_id,
                client_id=a.client_id,
                title=a.title,
                notes=a.notes,
                starts_at=a.starts_at,
                ends_at=a.ends_at,
                status=a.status.value,
                version=a.version,
                created_by=a.created_by,
                created_at=a.created_at,
                updated_at=a.updated_at,
                kind=a.kind.value,
            )
        )

    async def replace(self, before: Appointment, after: Appointment) -> None:
        """Write ``after`` over ``before`` (same id), guarded by ``before``'s version."""
        await self.store.execute(
            appointments.update()
            .where(appointments.c.id == before.id, appointments.c.version == before.version)
            .values(
                title=after.title,
                notes=after.notes,
                starts_at=after.starts_at,
                ends_at=after.ends_at,
                status=after.status.value,
                version=after.version,
                updated_at=after.updated_at,
            )
        )

    async def of_calendar(
        self, calendar_id: str, start: datetime | None, end: datetime | None
    ) -> list[Appointment]:
        """Every appointment and block of a calendar overlapping [start, end)."""
        return await self._overlapping(appointments.c.calendar_id == calendar_id, start, end)

    async def of_client(
        self, client_id: str, start: datetime | None, end: datetime | None
    ) -> list[Appointment]:
        """A client's appointments overlapping [start, end) (a block is nobody's)."""
        mine = sa.and_(
            appointments.c.client_id == client_id,
            appointments.c.kind == Kind.APPOINTMENT.value,
        )
        return await self._overlapping(mine, start, end)

    async def _overlapping(
        self, where: Any, start: datetime | None, end: datetime | None
    ) -> list[Appointment]:
        query = appointments.select().where(where).order_by(appointments.c.starts_at)
        if end is not None:
            query = query.where(appointments.c.starts_at < end)
        if start is not None:
            query = query.where(appointments.c.ends_at > start)
        return [appointment_from_row(r) for r in await self.store.fetch_all(query)]

    async def busy(
        self, calendar_id: str, start: datetime, end: datetime, sparing: str | None = None
    ) -> list[Interval]:
        """Pending and confirmed time of a calendar overlapping [start, end)."""
        rows = await self.store.fetch_all(
            _NEARBY.bindparams(calendar_id=calendar_id, upper=end, lower=start)
        )
        return [
            Interval(utc(r["starts_at"]), utc(r["ends_at"])) for r in rows if r["id"] != sparing
        ]

    # Idempotency keys

    async def remembered(self, user_id: str, key: str) -> IdempotencyRecord | None:
        row = await self.store.fetch_one(
            idempotency_keys.select().where(
                idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key
            )
        )
        if row is None:
            return None
        return IdempotencyRecord(row["request_hash"], row["appointment_id"], utc(row["created_at"]))

    async def remember(
        self, user_id: str, key: str, request_hash: str, appointment_id: str, stamp: datetime
    ) -> None:
        """Raises :class:`~hub.storage.store.Duplicate` when the key raced in elsewhere."""
        await self.store.execute(
            idempotency_keys.insert().values(
                user_id=user_id,
                key=key,
                request_hash=request_hash,
                appointment_id=appointment_id,
                created_at=stamp,
            )
        )

    async def forget(self, user_id: str, key: str) -> None:
        await self.store.execute(
            idempotency_keys.delete().where(
                idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key
            )
        )

    async def prune_keys(self, cutoff: datetime) -> int:
        old = idempotency_keys.c.created_at < cutoff
        count = await self.store.fetch_val(
            sa.select(sa.func.count()).select_from(idempotency_keys).where(old)
        )
        await self.store.execute(idempotency_keys.delete().where(old))
        return int(count or 0)
