"""Slot holds: a slot kept for one person while they book (PROTOCOL.md, Slot holds).

A hold is a row of the appointments table (kind ``hold``, pending until it
ends), so the database's own overlap guard keeps it apart from appointments,
blocks and other holds. Every change of a hold runs under its calendar's row
lock, like a booking, and ends a hold at most once (a conditional UPDATE),
so a lapse is announced with ``slot.released`` exactly once, by whichever
process gets there first: the periodic sweep, or any write that meets the
lapsed hold in its way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hub.domain import rules
from hub.domain.availability import Interval
from hub.domain.errors import BadRequest, Forbidden, NotFound, SlotTaken
from hub.domain.model import Calendar, Hold, HoldEnd, User, calendar_channel
from hub.domain.times import now
from hub.service.access import Identity, current
from hub.service.unit_of_work import Publisher, Work, unit_of_work
from hub.settings import Settings
from hub.storage.appointments import Appointments, Busy
from hub.storage.calendars import Calendars
from hub.storage.store import Overlap, Store
from hub.storage.users import Users


@dataclass
class Nearby:
    """What lies around a booking or a hold on its calendar, sorted by whose it is."""

    taken: list[Interval] = field(default_factory=list)  # appointments and blocks
    held: list[Interval] = field(default_factory=list)  # other people's live holds
    mine: list[Hold] = field(default_factory=list)  # the actor's own live holds in the way


async def survey(
    work: Work,
    calendar: Calendar,
    actor: User,
    start: datetime,
    end: datetime,
    sparing: str | None = None,
) -> Nearby:
    """The busy time near [start, end) (within the buffers), lapsed holds ended on the way."""
    busy = await busy_near(work, calendar, start, end)
    return sort_out(busy, calendar, actor, start, end, {sparing} if sparing else set())


async def busy_near(work: Work, calendar: Calendar, start: datetime, end: datetime) -> list[Busy]:
    """Busy time of the calendar within the buffers of [start, end); lapsed holds ended."""
    before, after = rules.buffers(calendar)
    stamp = now()
    found = []
    for busy in await Appointments(work.store).busy(calendar.id, start - before, end + after):
        if busy.hold is not None and busy.hold.expires_at <= stamp:
            await end_hold(work, busy.hold, HoldEnd.EXPIRED, stamp)
        else:
            found.append(busy)
    return found


def sort_out(
    busy: list[Busy],
    calendar: Calendar,
    actor: User,
    start: datetime,
    end: datetime,
    sparing: set[str],
) -> Nearby:
    """What of ``busy`` matters to [start, end), sorted by whose it is."""
    before, after = rules.buffers(calendar)
    nearby = Nearby()
    for b in busy:
        if b.id in sparing or not b.overlaps(start - before, end + after):
            continue
        if b.hold is None:
            nearby.taken.append(Interval(b.starts_at, b.ends_at))
        elif b.hold.held_by != actor.id:
            nearby.held.append(Interval(b.starts_at, b.ends_at))
        elif b.overlaps(start, end):
            nearby.mine.append(b.hold)
    return nearby


async def end_hold(work: Work, hold: Hold, reason: HoldEnd, stamp: datetime) -> bool:
    """End a hold, announcing it (``booked`` is announced by the booking's own event)."""
    ended = await Appointments(work.store).end_hold(hold.id, reason, stamp)
    if ended and reason is not HoldEnd.BOOKED:
        await work.append(
            calendar_channel(hold.calendar_id), "slot.released", hold.released(reason)
        )
    return ended


async def give_way(
    work: Work, mine: list[Hold], calendar_id: str, start: datetime, end: datetime
) -> str | None:
    """End the actor's own holds a booking of [start, end) meets; the id of the one it books.

    A hold of exactly those times is booked (its booking's event carries its
    id); one that merely overlaps them is released as ``replaced``.
    """
    booked = None
    for hold in mine:
        if hold.same_slot(calendar_id, start, end):
            await end_hold(work, hold, HoldEnd.BOOKED, now())
            booked = hold.id
        else:
            await end_hold(work, hold, HoldEnd.REPLACED, now())
    return booked


class HoldService:
    def __init__(self, settings: Settings, store: Store, publisher: Publisher) -> None:
        self.settings = settings
        self.store = store
        self.publisher = publisher
        self.users = Users(store)
        self.calendars = Calendars(store)
        self.appointments = Appointments(store)
        self.lifetime = timedelta(seconds=settings.hold_seconds)

    async def hold(self, identity: Identity, data: dict[str, Any]) -> tuple[Hold, dict[str, int]]:
        """Hold a slot (or extend one's hold of the very same slot)."""
        start, end = data["starts_at"], data["ends_at"]
        rules.check_length(self.settings, start, end)
        try:
            async with unit_of_work(self.store, self.publisher) as work:
                actor = await current(self.users, identity)
                calendar = await self._locked(data["calendar_id"])
                hold = await self._place(work, actor, calendar, start, end)
                await work.append(calendar_channel(calendar.id), "slot.held", hold.to_wire())
        except Overlap as exc:
            raise SlotTaken("someone is booking that time right now", {"rule": "held"}) from exc
        return hold, work.seqs

    async def _place(
        self, work: Work, actor: User, calendar: Calendar, start: datetime, end: datetime
    ) -> Hold:
        stamp = now()
        expires_at = stamp + self.lifetime
        previous = await self.appointments.hold_of(actor.id, calendar.id)
        if previous is not None and previous.expires_at <= stamp:
            await end_hold(work, previous, HoldEnd.EXPIRED, stamp)
        elif previous is not None and previous.same_slot(calendar.id, start, end):
            await self.appointments.extend_hold(previous.id, expires_at)
            return Hold(previous.id, calendar.id, actor.id, start, end, expires_at)
        elif previous is not None:  # one live hold per person and calendar
            await end_hold(work, previous, HoldEnd.REPLACED, stamp)
        if not calendar.is_active:
            raise BadRequest("this calendar is not taking bookings", field="calendar_id")
        nearby = await survey(work, calendar, actor, start, end)
        rules.check_bookable(actor, calendar, start, end, nearby.taken, nearby.held, stamp)
        hold = Hold(str(uuid.uuid4()), calendar.id, actor.id, start, end, expires_at)
        await self.appointments.insert_hold(hold, stamp)
        return hold

    async def release(self, identity: Identity, hold_id: str) -> dict[str, int]:
        """End a live hold: its holder, staff or an admin."""
        async with unit_of_work(self.store, self.publisher) as work:
            actor = await current(self.users, identity)
            found = await self.appointments.hold(hold_id)
            if found is None or found.expires_at <= now():
                raise NotFound("no such live hold", {"field": "hold_id"})
            if found.held_by != actor.id and not actor.is_staff:
                raise Forbidden("this is someone else's hold")
            await self._locked(found.calendar_id)
            if not await end_hold(work, found, HoldEnd.RELEASED, now()):
                raise NotFound("no such live hold", {"field": "hold_id"})
        return work.seqs

    async def end_lapsed(self) -> int:
        """End every hold past its ``expires_at`` (``slot.released`` as ``expired``); how many."""
        ended = 0
        for calendar_id, hold_id in await self.appointments.lapsed(now()):
            async with unit_of_work(self.store, self.publisher) as work:
                await self._locked(calendar_id)
                hold = await self.appointments.hold(hold_id)  # still live, under the lock?
                if hold is not None and hold.expires_at <= now():
                    ended += await end_hold(work, hold, HoldEnd.EXPIRED, now())
        return ended

    async def live(
        self, calendar_id: str, start: datetime | None, end: datetime | None
    ) -> list[Hold]:
        return await self.appointments.holds(calendar_id, start, end, now())

    async def _locked(self, calendar_id: str) -> Calendar:
        calendar = await self.calendars.get(calendar_id, lock=True)
        if calendar is None:
            raise NotFound("no such calendar", {"calendar_id": calendar_id})
        return calendar


async def claimed(
    appointments: Appointments,
    actor: User,
    hold_id: str,
    calendar_id: str,
    start: datetime,
    end: datetime,
) -> Hold:
    """The actor's live hold ``hold_id`` of exactly this slot, or not_found (nothing booked)."""
    hold = await appointments.hold(hold_id)
    if (
        hold is None
        or hold.held_by != actor.id
        or hold.expires_at <= now()
        or not hold.same_slot(calendar_id, start, end)
    ):
        raise NotFound(
            "hold_id is not your live hold of this calendar and these times",
            {"field": "hold_id"},
        )
    return hold
