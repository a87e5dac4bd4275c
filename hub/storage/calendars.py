"""The calendars table: the only module that queries it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hub.domain.availability import BookingRules, parse_working_hours, working_hours_to_wire
from hub.domain.model import Calendar
from hub.storage.store import Sql, Store, lock_suffix
from hub.storage.tables import calendars

RULE_FIELDS = (
    "slot_step_minutes",
    "min_notice_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "horizon_days",
)


def calendar_from_row(row: Any) -> Calendar:
    return Calendar(
        id=row["id"],
        name=row["name"],
        timezone=row["timezone"],
        working_hours=tuple(parse_working_hours(json.loads(row["working_hours"]))),
        owner_id=row["owner_id"],
        is_active=bool(row["is_active"]),
        rules=BookingRules(**{k: int(row[k]) for k in RULE_FIELDS}),
    )


class Calendars:
    def __init__(self, store: Store) -> None:
        self.store = store
        # Every change of a calendar (a booking too) takes this row lock first.
        self._lock = Sql("SELECT * FROM calendars WHERE id = :id" + lock_suffix(store))

    async def get(self, calendar_id: str, lock: bool = False) -> Calendar | None:
        """One calendar; ``lock`` takes its row lock until the transaction ends."""
        if lock:  # the hot path of every booking: cheap-to-compile SQL
            row = await self.store.row(self._lock, id=calendar_id)
        else:
            row = await self.store.fetch_one(
                calendars.select().where(calendars.c.id == calendar_id)
            )
        return None if row is None else calendar_from_row(row)

    async def all(self, active_only: bool) -> list[Calendar]:
        query = calendars.select().order_by(calendars.c.name, calendars.c.id)
        if active_only:
            query = query.where(calendars.c.is_active == sa.true())
        return [calendar_from_row(r) for r in await self.store.fetch_all(query)]

    async def insert(self, calendar: Calendar, stamp: datetime) -> None:
        await self.store.execute(
            calendars.insert().values(
                **_columns(calendar), id=calendar.id, created_at=stamp, updated_at=stamp
            )
        )

    async def replace(self, calendar: Calendar, stamp: datetime) -> None:
        await self.store.execute(
            calendars.update()
            .where(calendars.c.id == calendar.id)
            .values(**_columns(calendar), updated_at=stamp)
        )


def _columns(calendar: Calendar) -> dict[str, Any]:
    return {
        "name": calendar.name,
        "timezone": calendar.timezone,
        "working_hours": json.dumps(working_hours_to_wire(calendar.working_hours)),
        "owner_id": calendar.owner_id,
        "is_active": calendar.is_active,
        **{k: getattr(calendar.rules, k) for k in RULE_FIELDS},
    }
