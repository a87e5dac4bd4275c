"""Reading: who may read which channel, snapshots, one appointment, free slots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.domain.availability import Interval, free_slots
from hub.domain.errors import BadRequest, Forbidden, NotFound
from hub.domain.model import Appointment, Calendar, Hold, User
from hub.domain.projection import project, restricted, sees_in_full
from hub.domain.times import now
from hub.realtime import channel_log
from hub.service.access import Identity, current
from hub.storage.appointments import Appointments
from hub.storage.calendars import Calendars
from hub.storage.store import Store
from hub.storage.users import Users

MAX_AVAILABILITY_DAYS = 31


@dataclass(frozen=True)
class Snapshot:
    """A channel's appointments (and a calendar's live holds) as the viewer may see them,
    and the seq they reflect."""

    appointments: list[dict[str, Any]]
    seq: int
    holds: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Availability:
    slots: list[Interval]
    timezone: str


class ReadingService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.users = Users(store)
        self.calendars = Calendars(store)
        self.appointments = Appointments(store)

    async def check_channel(self, identity: Identity, channel: str) -> User:
        """The viewer, if they may read ``channel``: any calendar; a user channel is its user's
        and staff's."""
        viewer = await current(self.users, identity)
        kind, _, key = channel.partition(":")
        if kind == "calendar":
            await self._calendar(key)
            return viewer
        if key != viewer.id and not viewer.is_staff:
            raise Forbidden("only that user and staff may read a user channel")
        if await self.users.get(key) is None:
            raise NotFound("no such user", {"user_id": key})
        return viewer

    async def snapshot(
        self, identity: Identity, channel: str, start: datetime | None, end: datetime | None
    ) -> Snapshot:
        """Read in one transaction, so the seq is exactly what the rows reflect."""
        if start is not None and end is not None and start >= end:
            raise BadRequest("from must be before to", field="to")
        viewer = await self.check_channel(identity, channel)
        kind, _, key = channel.partition(":")
        holds: list[Hold] = []
        async with self.store.read():
            seq = await channel_log.head(self.store, channel)
            if kind == "calendar":
                rows = await self.appointments.of_calendar(key, start, end)
                holds = await self.appointments.holds(key, start, end, now())
            else:
                rows = await self.appointments.of_client(key, start, end)
        seen = [_seen_by(viewer, a) for a in rows]
        if kind != "calendar":
            return Snapshot(seen, seq)
        return Snapshot(seen, seq, [_hold_seen_by(viewer, h) for h in holds])

    async def appointment(self, identity: Identity, appointment_id: str) -> dict[str, Any]:
        """One appointment as the viewer may see it (a busy block for others)."""
        viewer = await current(self.users, identity)
        found = await self.appointments.get(appointment_id)
        if found is None:
            raise NotFound("no such appointment", {"appointment_id": appointment_id})
        return _seen_by(viewer, found)

    async def availability(
        self, identity: Identity, calendar_id: str, start: datetime, end: datetime, minutes: int
    ) -> Availability:
        """Free slots of ``minutes`` that lie within [start, end), for this viewer."""
        viewer = await current(self.users, identity)
        if start >= end:
            raise BadRequest("from must be before to", field="to")
        if end - start > timedelta(days=MAX_AVAILABILITY_DAYS):
            raise BadRequest(f"at most {MAX_AVAILABILITY_DAYS} days per query", field="to")
        calendar = await self._calendar(calendar_id)
        if not calendar.is_active:
            return Availability([], calendar.timezone)
        duration = timedelta(minutes=minutes)
        rules = calendar.rules
        margin = duration + timedelta(
            minutes=rules.buffer_before_minutes + rules.buffer_after_minutes
        )
        stamp = now()
        busy = [
            Interval(b.starts_at, b.ends_at)
            for b in await self.appointments.busy(calendar.id, start - margin, end + margin)
            # The viewer's own hold stays bookable for them; a lapsed hold is free.
            if b.hold is None or (b.hold.held_by != viewer.id and b.hold.expires_at > stamp)
        ]
        slots = free_slots(
            ranges=calendar.working_hours,
            zone=calendar.zone,
            busy=busy,
            start=start,
            end=end,
            duration=duration,
            rules=rules,
            now=stamp,
        )
        inside = [s for s in slots if s.start >= start and s.end <= end]
        return Availability(inside, calendar.timezone)

    async def _calendar(self, calendar_id: str) -> Calendar:
        calendar = await self.calendars.get(calendar_id)
        if calendar is None:
            raise NotFound("no such calendar", {"calendar_id": calendar_id})
        return calendar


def _seen_by(viewer: User, appointment: Appointment) -> dict[str, Any]:
    return project(viewer.is_staff, viewer.id, appointment.to_wire())


def _hold_seen_by(viewer: User, hold: Hold) -> dict[str, Any]:
    wire = hold.to_wire()
    if sees_in_full(viewer.is_staff, viewer.id, hold.held_by):
        return wire
    return restricted("slot.held", wire)
