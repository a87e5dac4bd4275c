"""Calendars: name, IANA time zone, working hours, owner and booking settings."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from hub.domain.availability import (
    BookingRules,
    WorkingHoursError,
    parse_working_hours,
    validate_timezone,
)
from hub.domain.errors import BadRequest, NotFound
from hub.domain.model import Calendar, calendar_channel
from hub.domain.times import now
from hub.realtime import channel_log
from hub.service.access import Identity, current, require_admin
from hub.service.unit_of_work import Publisher, unit_of_work
from hub.storage.calendars import RULE_FIELDS, Calendars
from hub.storage.store import Store
from hub.storage.users import Users


class CalendarService:
    def __init__(self, store: Store, publisher: Publisher) -> None:
        self.store = store
        self.publisher = publisher
        self.calendars = Calendars(store)
        self.users = Users(store)

    async def get(self, calendar_id: str) -> Calendar:
        calendar = await self.calendars.get(calendar_id)
        if calendar is None:
            raise NotFound("no such calendar", {"calendar_id": calendar_id})
        return calendar

    async def list(self, identity: Identity) -> list[Calendar]:
        """Staff see every calendar; users only the active ones."""
        viewer = await current(self.users, identity)
        return await self.calendars.all(active_only=not viewer.is_staff)

    async def create(self, identity: Identity, data: dict[str, Any]) -> Calendar:
        require_admin(await current(self.users, identity))
        owner_id = data.get("owner_id")
        if owner_id is not None and await self.users.get(owner_id) is None:
            raise NotFound("no such user for owner_id", {"field": "owner_id"})
        calendar = Calendar(
            id=str(uuid.uuid4()),
            name=data["name"].strip(),
            timezone=_timezone(data["timezone"]),
            working_hours=_working_hours(data["working_hours"]),
            owner_id=owner_id,
            is_active=True,
            rules=BookingRules(**{k: data[k] for k in RULE_FIELDS if k in data}),
        )
        async with self.store.write():
            await self.calendars.insert(calendar, now())
            await channel_log.create_channel(self.store, calendar_channel(calendar.id))
        return calendar

    async def update(
        self, identity: Identity, data: dict[str, Any]
    ) -> tuple[Calendar, dict[str, int]]:
        """Apply the given fields and append ``calendar.updated`` to the calendar's channel."""
        async with unit_of_work(self.store, self.publisher) as work:
            require_admin(await current(self.users, identity))
            before = await self.calendars.get(data["calendar_id"], lock=True)
            if before is None:
                raise NotFound("no such calendar", {"calendar_id": data["calendar_id"]})
            calendar = _changed(before, data)
            await self.calendars.replace(calendar, now())
            await work.append(calendar_channel(calendar.id), "calendar.updated", calendar.to_wire())
        return calendar, work.seqs


def _changed(calendar: Calendar, data: dict[str, Any]) -> Calendar:
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = data["name"].strip()
    if "timezone" in data:
        changes["timezone"] = _timezone(data["timezone"])
    if "working_hours" in data:
        changes["working_hours"] = _working_hours(data["working_hours"])
    if "is_active" in data:
        changes["is_active"] = data["is_active"]
    rules = {k: data[k] for k in RULE_FIELDS if k in data}
    if rules:
        changes["rules"] = dataclasses.replace(calendar.rules, **rules)
    return dataclasses.replace(calendar, **changes)


def _timezone(value: str) -> str:
    try:
        validate_timezone(value)
    except ValueError:
        raise BadRequest(
            "timezone must be an IANA time zone such as Europe/Berlin", field="timezone"
        ) from None
    return value


def _working_hours(value: object) -> tuple[Any, ...]:
    try:
        return tuple(parse_working_hours(value))
    except WorkingHoursError as exc:
        raise BadRequest(exc.message, field=exc.field) from None
