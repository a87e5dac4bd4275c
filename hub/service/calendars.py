"""Calendars: name, IANA time zone, working hours, owner and booking settings."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hub.domain.availability import (
    BookingRules,
    WorkingHoursError,
    WorkingRange,
    parse_working_hours,
    validate_timezone,
    working_hours_to_wire,
)
from hub.domain.errors import BadRequest, NotFound
from hub.realtime import channel_log
from hub.service.accounts import User
from hub.storage.store import Store, now, statement
from hub.storage.tables import calendars, users

SETTING_DEFAULTS = {
    "slot_step_minutes": 15,
    "min_notice_minutes": 0,
    "buffer_before_minutes": 0,
    "buffer_after_minutes": 0,
    "horizon_days": 90,
}


def calendar_channel(calendar_id: str) -> str:
    return f"calendar:{calendar_id}"


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True)
class Calendar:
    id: str
    name: str
    timezone: str
    working_hours: list[WorkingRange]
    owner_id: str | None
    is_active: bool
    rules: BookingRules

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "timezone": self.timezone,
            "working_hours": working_hours_to_wire(self.working_hours),
            "owner_id": self.owner_id,
            "is_active": self.is_active,
            "slot_step_minutes": self.rules.slot_step_minutes,
            "min_notice_minutes": self.rules.min_notice_minutes,
            "buffer_before_minutes": self.rules.buffer_before_minutes,
            "buffer_after_minutes": self.rules.buffer_after_minutes,
            "horizon_days": self.rules.horizon_days,
        }


def calendar_from_row(row: Any) -> Calendar:
    return Calendar(
        id=row["id"],
        name=row["name"],
        timezone=row["timezone"],
        working_hours=parse_working_hours(json.loads(row["working_hours"])),
        owner_id=row["owner_id"],
        is_active=bool(row["is_active"]),
        rules=BookingRules(**{k: int(row[k]) for k in SETTING_DEFAULTS}),
    )


def _timezone(value: str) -> str:
    try:
        validate_timezone(value)
    except ValueError:
        raise BadRequest(
            "timezone must be an IANA time zone such as Europe/Berlin", field="timezone"
        ) from None
    return value


def _working_hours(value: object) -> str:
    try:
        ranges = parse_working_hours(value)
    except WorkingHoursError as exc:
        raise BadRequest(exc.message, field=exc.field) from None
    return json.dumps(working_hours_to_wire(ranges))


_LOCK_POSTGRES = statement("SELECT * FROM calendars WHERE id = :id FOR UPDATE")
# SQLite has no row locks: the embedded write lock serialises every change.
_LOCK_SQLITE = statement("SELECT * FROM calendars WHERE id = :id")


class Calendars:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, calendar_id: str, lock: bool = False) -> Calendar:
        """One calendar; ``lock`` takes its row lock (every change of it goes through that)."""
        if lock:  # the hot path of every booking: cheap-to-compile SQL
            locking = _LOCK_SQLITE if self.store.is_sqlite else _LOCK_POSTGRES
            row = await self.store.fetch_one(locking.bindparams(id=calendar_id))
        else:
            row = await self.store.fetch_one(
                calendars.select().where(calendars.c.id == calendar_id)
            )
        if row is None:
            raise NotFound("no such calendar", {"calendar_id": calendar_id})
        return calendar_from_row(row)

    async def list(self, viewer: User) -> list[Calendar]:
        query = calendars.select().order_by(calendars.c.name, calendars.c.id)
        if not viewer.is_staff:
            query = query.where(calendars.c.is_active == sa.true())
        return [calendar_from_row(r) for r in await self.store.fetch_all(query)]

    async def create(self, data: dict[str, Any]) -> Calendar:
        values = {
            "id": str(uuid.uuid4()),
            "name": data["name"].strip(),
            "timezone": _timezone(data["timezone"]),
            "working_hours": _working_hours(data["working_hours"]),
            "owner_id": await self._owner(data.get("owner_id")),
            "is_active": True,
            "created_at": now(),
            "updated_at": now(),
        }
        for key, default in SETTING_DEFAULTS.items():
            values[key] = data.get(key, default)
        async with self.store.write():
            await self.store.execute(calendars.insert().values(**values))
            await channel_log.create_channel(self.store, calendar_channel(values["id"]))
        return await self.get(values["id"])

    async def update(self, data: dict[str, Any]) -> tuple[Calendar, channel_log.ChannelEvent]:
        """Apply the given fields and append ``calendar.updated`` to the calendar channel."""
        values: dict[str, Any] = {"updated_at": now()}
        if "name" in data:
            values["name"] = data["name"].strip()
        if "timezone" in data:
            values["timezone"] = _timezone(data["timezone"])
        if "working_hours" in data:
            values["working_hours"] = _working_hours(data["working_hours"])
        if "is_active" in data:
            values["is_active"] = data["is_active"]
        for key in SETTING_DEFAULTS:
            if key in data:
                values[key] = data[key]
        async with self.store.write():
            await self.get(data["calendar_id"], lock=True)
            await self.store.execute(
                calendars.update().where(calendars.c.id == data["calendar_id"]).values(**values)
            )
            calendar = await self.get(data["calendar_id"])
            entry = await channel_log.append(
                self.store, calendar_channel(calendar.id), "calendar.updated", calendar.to_wire()
            )
        return calendar, entry

    async def _owner(self, owner_id: str | None) -> str | None:
        if owner_id is None:
            return None
        found = await self.store.fetch_val(sa.select(users.c.id).where(users.c.id == owner_id))
        if found is None:
            raise NotFound("no such user for owner_id", {"field": "owner_id"})
        return owner_id
