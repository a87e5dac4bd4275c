"""The appointments and idempotency_keys tables: the only module that queries them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hub.domain.model import Appointment, Hold, HoldEnd, Kind, Series, Status
from hub.domain.times import utc
from hub.storage.store import Sql, Store
from hub.storage.tables import Timestamp, appointments, idempotency_keys
from hub.storage.tables import series as series_table

_ACTIVE = "('pending', 'confirmed')"
# Pending or confirmed time of a calendar overlapping [lower, upper): appointments,
# blocks and holds (a hold's client_id is its holder).
_NEARBY = Sql(
    "SELECT id, starts_at, ends_at, kind, client_id, expires_at FROM appointments"
    f" WHERE calendar_id = :calendar_id AND status IN {_ACTIVE}"
    " AND starts_at < :upper AND ends_at > :lower",
    columns={
        "id": sa.String,
        "starts_at": Timestamp,
        "ends_at": Timestamp,
        "kind": sa.String,
        "client_id": sa.String,
        "expires_at": Timestamp,
    },
    upper=Timestamp,
    lower=Timestamp,
)
_LIVE_HOLD = sa.and_(appointments.c.kind == Kind.HOLD.value, appointments.c.status == "pending")
_INSERT = Sql(
    "INSERT INTO appointments (id, calendar_id, client_id, title, notes, starts_at, ends_at,"
    " status, version, created_by, created_at, updated_at, kind, series_id) VALUES (:id,"
    " :calendar_id, :client_id, :title, :notes, :starts_at, :ends_at, :status, :version,"
    " :created_by, :created_at, :updated_at, :kind, :series_id)",
    starts_at=Timestamp,
    ends_at=Timestamp,
    created_at=Timestamp,
    updated_at=Timestamp,
)


_END_HOLD = Sql(
    "UPDATE appointments SET status = 'cancelled', cancel_reason = :reason,"
    " version = version + 1, updated_at = :stamp"
    " WHERE id = :id AND kind = 'hold' AND status = 'pending' RETURNING id",
    stamp=Timestamp,
)


# A snapshot's rows (calendar or client), prepared once like the booking
# path's: compiling the Core query on every read was a tenth of the hub's
# CPU while a dashboard loaded its week. An open end of the window is the
# instant before or after any the wire admits (1900-2999).
_APPOINTMENT_COLUMNS = {
    name: appointments.c[name].type
    for name in (
        "id", "calendar_id", "client_id", "title", "notes", "starts_at", "ends_at",
        "status", "version", "created_by", "created_at", "updated_at", "kind", "series_id",
    )
}  # fmt: skip
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(5000, 1, 1, tzinfo=UTC)
_SELECT_APPOINTMENTS = "SELECT " + ", ".join(_APPOINTMENT_COLUMNS) + " FROM appointments"
_WINDOW = " AND starts_at < :upper AND ends_at > :lower ORDER BY starts_at"
_OF_CALENDAR = Sql(
    _SELECT_APPOINTMENTS + " WHERE calendar_id = :owner AND kind <> 'hold'" + _WINDOW,
    columns=_APPOINTMENT_COLUMNS,
    upper=Timestamp,
    lower=Timestamp,
)
_OF_CLIENT = Sql(
    _SELECT_APPOINTMENTS + " WHERE client_id = :owner AND kind = 'appointment'" + _WINDOW,
    columns=_APPOINTMENT_COLUMNS,
    upper=Timestamp,
    lower=Timestamp,
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
        series_id=row["series_id"],
    )


def hold_from_row(row: Any) -> Hold:
    return Hold(
        id=row["id"],
        calendar_id=row["calendar_id"],
        held_by=row["client_id"],
        starts_at=utc(row["starts_at"]),
        ends_at=utc(row["ends_at"]),
        expires_at=utc(row["expires_at"]),
    )


@dataclass(frozen=True)
class Busy:
    """Time a calendar has taken; ``hold`` when it is a hold (live, or lapsed not yet ended)."""

    id: str
    starts_at: datetime
    ends_at: datetime
    hold: Hold | None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.starts_at < end and self.ends_at > start


def _columns(a: Appointment) -> dict[str, Any]:
    return {
        "id": a.id,
        "calendar_id": a.calendar_id,
        "client_id": a.client_id,
        "title": a.title,
        "notes": a.notes,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "status": a.status.value,
        "version": a.version,
        "created_by": a.created_by,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "kind": a.kind.value,
        "series_id": a.series_id,
    }


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
        await self.store.run(_INSERT, **_columns(appointment))

    async def insert_series(
        self, series: Series, occurrences: list[Appointment], created_by: str, stamp: datetime
    ) -> None:
        """A series and all its occurrences, in two statements.

        Raises :class:`~hub.storage.store.Overlap` when any occurrence's time is taken.
        """
        await self.store.execute(
            series_table.insert().values(
                id=series.id,
                calendar_id=series.calendar_id,
                client_id=series.client_id,
                recurrence=series.recurrence,
                created_by=created_by,
                created_at=stamp,
            )
        )
        await self.store.execute(appointments.insert().values([_columns(a) for a in occurrences]))

    async def series(self, series_id: str) -> Series | None:
        row = await self.store.fetch_one(
            series_table.select().where(series_table.c.id == series_id)
        )
        if row is None:
            return None
        return Series(row["id"], row["calendar_id"], row["client_id"], row["recurrence"])

    async def of_series(self, series_id: str) -> list[Appointment]:
        """Every occurrence of a series, by start."""
        query = (
            appointments.select()
            .where(appointments.c.series_id == series_id)
            .order_by(appointments.c.starts_at)
        )
        return [appointment_from_row(r) for r in await self.store.fetch_all(query)]

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
        """Every appointment and block of a calendar overlapping [start, end) (no holds)."""
        return await self._overlapping(_OF_CALENDAR, calendar_id, start, end)

    async def of_client(
        self, client_id: str, start: datetime | None, end: datetime | None
    ) -> list[Appointment]:
        """A client's appointments overlapping [start, end) (a block is nobody's)."""
        return await self._overlapping(_OF_CLIENT, client_id, start, end)

    async def _overlapping(
        self, sql: Sql, owner: str, start: datetime | None, end: datetime | None
    ) -> list[Appointment]:
        rows = await self.store.rows(sql, owner=owner, lower=start or EARLIEST, upper=end or LATEST)
        return [appointment_from_row(r) for r in rows]

    async def busy(self, calendar_id: str, start: datetime, end: datetime) -> list[Busy]:
        """Pending and confirmed time of a calendar overlapping [start, end), holds included."""
        rows = await self.store.rows(_NEARBY, calendar_id=calendar_id, upper=end, lower=start)
        found = []
        for r in rows:
            starts_at, ends_at = utc(r["starts_at"]), utc(r["ends_at"])
            hold = None
            if r["kind"] == Kind.HOLD.value:
                expires_at = utc(r["expires_at"])
                hold = Hold(r["id"], calendar_id, r["client_id"], starts_at, ends_at, expires_at)
            found.append(Busy(r["id"], starts_at, ends_at, hold))
        return found

    # Holds

    async def hold(self, hold_id: str) -> Hold | None:
        """A hold not yet ended (it may have lapsed: compare ``expires_at`` with now)."""
        row = await self.store.fetch_one(
            appointments.select().where(appointments.c.id == hold_id, _LIVE_HOLD)
        )
        return None if row is None else hold_from_row(row)

    async def hold_of(self, held_by: str, calendar_id: str) -> Hold | None:
        """The person's hold on a calendar not yet ended, if any (there is at most one)."""
        row = await self.store.fetch_one(
            appointments.select().where(
                appointments.c.client_id == held_by,
                appointments.c.calendar_id == calendar_id,
                _LIVE_HOLD,
            )
        )
        return None if row is None else hold_from_row(row)

    async def holds(
        self, calendar_id: str, start: datetime | None, end: datetime | None, current: datetime
    ) -> list[Hold]:
        """The live holds of a calendar overlapping [start, end), by start."""
        query = (
            appointments.select()
            .where(
                appointments.c.calendar_id == calendar_id,
                _LIVE_HOLD,
                appointments.c.expires_at > current,
            )
            .order_by(appointments.c.starts_at)
        )
        if end is not None:
            query = query.where(appointments.c.starts_at < end)
        if start is not None:
            query = query.where(appointments.c.ends_at > start)
        return [hold_from_row(r) for r in await self.store.fetch_all(query)]

    async def lapsed(self, current: datetime, limit: int = 200) -> list[tuple[str, str]]:
        """(calendar id, hold id) of holds past ``expires_at`` and not yet ended."""
        rows = await self.store.fetch_all(
            sa.select(appointments.c.calendar_id, appointments.c.id)
            .where(_LIVE_HOLD, appointments.c.expires_at <= current)
            .order_by(appointments.c.expires_at)
            .limit(limit)
        )
        return [(r["calendar_id"], r["id"]) for r in rows]

    async def insert_hold(self, hold: Hold, stamp: datetime) -> None:
        """Raises :class:`~hub.storage.store.Overlap` when the time is taken."""
        await self.store.execute(
            appointments.insert().values(
                id=hold.id,
                calendar_id=hold.calendar_id,
                client_id=hold.held_by,
                title="",
                notes="",
                starts_at=hold.starts_at,
                ends_at=hold.ends_at,
                status="pending",
                version=1,
                created_by=hold.held_by,
                created_at=stamp,
                updated_at=stamp,
                kind=Kind.HOLD.value,
                expires_at=hold.expires_at,
            )
        )

    async def extend_hold(self, hold_id: str, expires_at: datetime) -> None:
        await self.store.execute(
            appointments.update()
            .where(appointments.c.id == hold_id, _LIVE_HOLD)
            .values(expires_at=expires_at, updated_at=expires_at)
        )

    async def end_hold(self, hold_id: str, reason: HoldEnd, stamp: datetime) -> bool:
        """End a hold that has not ended yet; False when it already had (exactly once)."""
        ended = await self.store.value(_END_HOLD, id=hold_id, reason=reason.value, stamp=stamp)
        return ended is not None

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
