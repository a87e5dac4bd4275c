"""The one booking service: every appointment change, from any transport.

Each change is one unit of work: check who is acting (the account as it is
now), lock the calendar row, check the rules, write, append one event per
channel it touches (the calendar's and its client's), commit, publish. The
database refuses overlaps on its own (exclusion constraint / triggers); the
store reports that as :class:`~hub.storage.store.Overlap`, which becomes
``slot_taken`` here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.domain import rules
from hub.domain.errors import (
    BadRequest,
    Forbidden,
    InvalidTransition,
    NotFound,
    SlotTaken,
    VersionConflict,
)
from hub.domain.model import (
    Appointment,
    Calendar,
    Kind,
    Series,
    Status,
    User,
    calendar_channel,
    user_channel,
)
from hub.domain.recurrence import Recurrence
from hub.domain.times import format_time, now
from hub.service import series
from hub.service.access import Identity, current, require_staff
from hub.service.holds import claimed, give_way, survey
from hub.service.unit_of_work import Publisher, Work, unit_of_work
from hub.settings import Settings
from hub.storage.appointments import Appointments
from hub.storage.calendars import Calendars
from hub.storage.store import Duplicate, Overlap, Store
from hub.storage.users import Users


@dataclass(frozen=True)
class Written:
    """A committed change: the appointment after it, and the seq of each channel touched.

    For a series: ``appointments`` holds every occurrence written (the first,
    or the named one, is ``appointment``), and a new series is ``series``.
    """

    appointment: Appointment
    seqs: dict[str, int]
    appointments: list[Appointment] | None = None
    series: Series | None = None


class BookingService:
    def __init__(self, settings: Settings, store: Store, publisher: Publisher) -> None:
        self.settings = settings
        self.store = store
        self.publisher = publisher
        self.users = Users(store)
        self.calendars = Calendars(store)
        self.appointments = Appointments(store)

    # Writing

    async def create(self, identity: Identity, data: dict[str, Any]) -> Written:
        starts_at, ends_at = data["starts_at"], data["ends_at"]
        rules.check_length(self.settings, starts_at, ends_at)
        rule = series.parse(self.settings, data["recurrence"]) if "recurrence" in data else None
        key = data.get("idempotency_key")
        try:
            async with unit_of_work(self.store, self.publisher) as work:
                actor = await current(self.users, identity)
                client_id = data.get("client_id", actor.id)
                if client_id != actor.id and not actor.is_staff:
                    raise Forbidden("only staff may book for another client")
                fingerprint = _fingerprint(data, client_id)
                calendar = await self._locked(data["calendar_id"])
                if key is not None:
                    earlier = await self._replay(actor, key, fingerprint)
                    if earlier is not None:
                        return earlier
                if not calendar.is_active:
                    raise BadRequest("this calendar is not taking bookings", field="calendar_id")
                if client_id != actor.id:  # the actor's own account is known to be active
                    await self._check_client(client_id)
                if "hold_id" in data:
                    await claimed(
                        self.appointments, actor, data["hold_id"], calendar.id, starts_at, ends_at
                    )
                if rule is not None:
                    return await self._create_series(work, actor, calendar, client_id, rule, data)
                hold_id = await self._check_rules(work, actor, calendar, starts_at, ends_at, None)
                stamp = now()
                appointment = Appointment(
                    id=str(uuid.uuid4()),
                    calendar_id=calendar.id,
                    client_id=client_id,
                    title=data["title"].strip(),
                    notes=data.get("notes", ""),
                    starts_at=starts_at,
                    ends_at=ends_at,
                    status=Status.CONFIRMED if actor.is_staff else Status.PENDING,
                    version=1,
                    created_by=actor.id,
                    created_at=stamp,
                    updated_at=stamp,
                )
                await self.appointments.insert(appointment)
                await self._remember(actor, key, fingerprint, appointment.id)
                return await _record(work, appointment, "appointment.created", hold_id)
        except Overlap as exc:
            raise SlotTaken("that time overlaps another appointment") from exc
        except Duplicate:
            # The same key raced in on another calendar's lock: answer as a retry.
            earlier = await self._replay_after_race(identity, data, key)
            if earlier is None:
                raise
            return earlier

    async def preview(
        self, identity: Identity, data: dict[str, Any]
    ) -> tuple[list[tuple[datetime, datetime]], list[dict[str, Any]]]:
        """The occurrences a create would book, and those it would refuse: nothing written."""
        starts_at, ends_at = data["starts_at"], data["ends_at"]
        rules.check_length(self.settings, starts_at, ends_at)
        rule = series.parse(self.settings, data["recurrence"]) if "recurrence" in data else None
        async with self.store.read():
            actor = await current(self.users, identity)
            client_id = data.get("client_id", actor.id)
            if client_id != actor.id and not actor.is_staff:
                raise Forbidden("only staff may book for another client")
            calendar = await self.calendars.get(data["calendar_id"])
            if calendar is None:
                raise NotFound("no such calendar", {"calendar_id": data["calendar_id"]})
            times = [(starts_at, ends_at)]
            if rule is not None:
                times = series.occurrences(rule, calendar, starts_at, ends_at)
            conflicts = await series.preview(
                self.appointments, self.settings, actor, calendar, times
            )
        return times, conflicts

    async def update(self, identity: Identity, data: dict[str, Any]) -> Written:
        try:
            async with unit_of_work(self.store, self.publisher) as work:
                actor, before, calendar = await self._target(identity, data)
                if not before.status.is_active:
                    raise InvalidTransition(
                        f"a {before.status.value} appointment cannot be changed"
                    )
                if before.series_id is not None and data.get("scope", "one") != "one":
                    return await self._update_series(work, actor, before, calendar, data)
                changes: dict[str, Any] = {}
                hold_id = None
                if "starts_at" in data or "ends_at" in data:
                    starts_at = data.get("starts_at", before.starts_at)
                    ends_at = data.get("ends_at", before.ends_at)
                    rules.check_length(self.settings, starts_at, ends_at)
                    hold_id = await self._check_rules(
                        work, actor, calendar, starts_at, ends_at, before.id
                    )
                    changes.update(starts_at=starts_at, ends_at=ends_at)
                if "title" in data:
                    changes["title"] = data["title"].strip()
                if "notes" in data:
                    changes["notes"] = data["notes"]
                after = await self._replace(before, changes)
                return await _record(work, after, "appointment.updated", hold_id)
        except Overlap as exc:
            raise SlotTaken("that time overlaps another appointment") from exc

    async def cancel(self, identity: Identity, data: dict[str, Any]) -> Written:
        if data.get("scope", "one") == "one":
            return await self._transition(identity, data, Status.CANCELLED, "appointment.cancelled")
        async with unit_of_work(self.store, self.publisher) as work:
            _, named, _ = await self._target(identity, data)
            rules.check_transition(named, Status.CANCELLED, now())
            if named.series_id is None:
                after = await self._replace(named, {"status": Status.CANCELLED})
                return await _record(work, after, "appointment.cancelled")
            members = await self.appointments.of_series(named.series_id)
            targets = series.in_scope(members, named, data["scope"])
            changed = await series.replace_all(
                self.appointments, [(a, {"status": Status.CANCELLED}) for a in targets]
            )
            await series.record_all(work, changed, "appointment.cancelled")
            return _written_all(work, named, changed)

    async def set_status(self, identity: Identity, data: dict[str, Any]) -> Written:
        return await self._transition(
            identity, data, Status(data["status"]), "appointment.status_changed", staff_only=True
        )

    async def _transition(
        self,
        identity: Identity,
        data: dict[str, Any],
        status: Status,
        event: str,
        staff_only: bool = False,
    ) -> Written:
        async with unit_of_work(self.store, self.publisher) as work:
            _, before, _ = await self._target(identity, data, staff_only=staff_only)
            rules.check_transition(before, status, now())
            after = await self._replace(before, {"status": status})
            return await _record(work, after, event)

    async def block(self, identity: Identity, data: dict[str, Any]) -> Written:
        """Time off: busy time on a calendar, refused where it would overlap anything."""
        starts_at, ends_at = data["starts_at"], data["ends_at"]
        rules.check_order(starts_at, ends_at)  # a block may last days (a holiday)
        try:
            async with unit_of_work(self.store, self.publisher) as work:
                actor = await current(self.users, identity)
                require_staff(actor)
                calendar = await self._locked(data["calendar_id"])
                await self._check_rules(work, actor, calendar, starts_at, ends_at, None)
                stamp = now()
                block = Appointment(
                    id=str(uuid.uuid4()),
                    calendar_id=calendar.id,
                    client_id=actor.id,
                    title=data.get("reason", "") or "Time off",
                    notes="",
                    starts_at=starts_at,
                    ends_at=ends_at,
                    status=Status.CONFIRMED,
                    version=1,
                    created_by=actor.id,
                    created_at=stamp,
                    updated_at=stamp,
                    kind=Kind.BLOCK,
                )
                await self.appointments.insert(block)
                return await _record(work, block, "appointment.created")
        except Overlap as exc:
            raise SlotTaken("that time overlaps an appointment or block") from exc

    async def unblock(self, identity: Identity, data: dict[str, Any]) -> Written:
        async with unit_of_work(self.store, self.publisher) as work:
            require_staff(await current(self.users, identity))
            block = await self._existing(data["block_id"])
            if not block.is_block:
                raise BadRequest("that is an appointment, not a block", field="block_id")
            await self._locked(block.calendar_id)
            block = await self._existing(block.id)
            if block.status is Status.CANCELLED:
                raise InvalidTransition("this block was already removed")
            after = await self._replace(block, {"status": Status.CANCELLED})
            return await _record(work, after, "appointment.cancelled")

    # Series

    async def _create_series(
        self,
        work: Work,
        actor: User,
        calendar: Calendar,
        client_id: str,
        rule: Recurrence,
        data: dict[str, Any],
    ) -> Written:
        times = series.occurrences(rule, calendar, data["starts_at"], data["ends_at"])
        hold_id = await series.check_all(work, self.settings, actor, calendar, times, set())
        made, occurrences = series.new_series(actor, calendar, client_id, rule, data, times)
        await self.appointments.insert_series(made, occurrences, actor.id, now())
        key = data.get("idempotency_key")
        await self._remember(actor, key, _fingerprint(data, client_id), occurrences[0].id)
        await series.record_all(work, occurrences, "appointment.created", hold_id)
        return Written(occurrences[0], work.seqs, occurrences, made)

    async def _update_series(
        self, work: Work, actor: User, named: Appointment, calendar: Calendar, data: dict[str, Any]
    ) -> Written:
        assert named.series_id is not None
        members = await self.appointments.of_series(named.series_id)
        targets = series.in_scope(members, named, data["scope"])
        common = {k: data[k] for k in ("title", "notes") if k in data}
        if "title" in common:
            common["title"] = common["title"].strip()
        times = [(a.starts_at, a.ends_at) for a in targets]
        if "starts_at" in data or "ends_at" in data:
            start = data.get("starts_at", named.starts_at)
            end = data.get("ends_at", named.ends_at)
            times = series.shifted(targets, named, calendar, start, end)
            ids = {a.id for a in targets}
            ordered = sorted(times)
            await series.check_all(work, self.settings, actor, calendar, ordered, ids)
        changes = [
            (a, {**common, "starts_at": s, "ends_at": e})
            for a, (s, e) in zip(targets, times, strict=True)
        ]
        changed = await series.replace_all(self.appointments, changes)
        await series.record_all(work, changed, "appointment.updated")
        return _written_all(work, named, changed)

    # Steps

    async def _locked(self, calendar_id: str) -> Calendar:
        calendar = await self.calendars.get(calendar_id, lock=True)
        if calendar is None:
            raise NotFound("no such calendar", {"calendar_id": calendar_id})
        return calendar

    async def _existing(self, appointment_id: str) -> Appointment:
        appointment = await self.appointments.get(appointment_id)
        if appointment is None:
            raise NotFound("no such appointment", {"appointment_id": appointment_id})
        return appointment

    async def _target(
        self, identity: Identity, data: dict[str, Any], staff_only: bool = False
    ) -> tuple[User, Appointment, Calendar]:
        """The actor, the appointment under its calendar's lock, checked against ``version``."""
        actor = await current(self.users, identity)
        if staff_only:
            require_staff(actor)
        found = await self._existing(data["appointment_id"])
        _check_owner(actor, found)
        calendar = await self._locked(found.calendar_id)
        appointment = await self._existing(found.id)  # as it is under the lock
        version = data.get("version")
        if version is not None and version != appointment.version:
            raise VersionConflict(
                "the appointment has changed; take the current version",
                {"current": appointment.to_wire()},
            )
        return actor, appointment, calendar

    async def _replace(self, before: Appointment, changes: dict[str, Any]) -> Appointment:
        after = dataclasses.replace(before, **changes, version=before.version + 1, updated_at=now())
        await self.appointments.replace(before, after)
        return after

    async def _remember(
        self, actor: User, key: str | None, fingerprint: str, appointment_id: str
    ) -> None:
        if key is not None:
            await self.appointments.remember(actor.id, key, fingerprint, appointment_id, now())

    async def _replay(self, actor: User, key: str, fingerprint: str) -> Written | None:
        """The answer to an earlier request with this key (a series: all of it); no events."""
        record = await self.appointments.remembered(actor.id, key)
        if record is None:
            return None
        if record.created_at < now() - timedelta(hours=self.settings.idempotency_hours):
            await self.appointments.forget(actor.id, key)
            return None
        if record.request_hash != fingerprint:
            raise BadRequest(
                "idempotency_key was used with different fields", field="idempotency_key"
            )
        first = await self._existing(record.appointment_id)
        if first.series_id is None:
            return Written(first, {})
        made = await self.appointments.series(first.series_id)
        occurrences = await self.appointments.of_series(first.series_id)
        return Written(first, {}, occurrences, made)

    async def _replay_after_race(
        self, identity: Identity, data: dict[str, Any], key: str | None
    ) -> Written | None:
        if key is None:
            return None
        async with self.store.read():
            actor = await current(self.users, identity)
            client_id = data.get("client_id", actor.id)
            return await self._replay(actor, key, _fingerprint(data, client_id))

    async def _check_client(self, client_id: str) -> None:
        client = await self.users.get(client_id)
        if client is None:
            raise NotFound("no such client", {"field": "client_id"})
        if not client.is_active:
            raise BadRequest("the client's account is deactivated", field="client_id")

    async def _check_rules(
        self,
        work: Work,
        actor: User,
        calendar: Calendar,
        starts_at: datetime,
        ends_at: datetime,
        sparing: str | None,
    ) -> str | None:
        """Check the rules, then clear the actor's own holds out of the way.

        Returns the id of the actor's hold of exactly these times, which this
        booking takes over (its event says so), if there is one.
        """
        nearby = await survey(work, calendar, actor, starts_at, ends_at, sparing)
        rules.check_bookable(actor, calendar, starts_at, ends_at, nearby.taken, nearby.held, now())
        return await give_way(work, nearby.mine, calendar.id, starts_at, ends_at)


def _check_owner(actor: User, appointment: Appointment) -> None:
    if not actor.is_staff and appointment.client_id != actor.id:
        raise Forbidden("this is someone else's appointment")
    if appointment.is_block:
        raise BadRequest("that is a time-off block: use calendar.unblock", field="appointment_id")


async def _record(
    work: Work, appointment: Appointment, event: str, hold_id: str | None = None
) -> Written:
    """Append the change to the calendar's channel and its client's."""
    wire = appointment.to_wire()
    if hold_id is not None:  # stands in for that hold's slot.released
        wire["hold_id"] = hold_id
    channels = [calendar_channel(appointment.calendar_id)]
    if not appointment.is_block:  # a block has no client to tell
        channels.append(user_channel(appointment.client_id))
    await work.append_each(channels, event, wire)
    return Written(appointment, work.seqs)


def _written_all(work: Work, named: Appointment, changed: list[Appointment]) -> Written:
    """A series change's answer: the named occurrence after it, and each one changed."""
    after = next(a for a in changed if a.id == named.id)
    return Written(after, work.seqs, sorted(changed, key=lambda a: a.starts_at))


def _fingerprint(data: dict[str, Any], client_id: str) -> str:
    fields = {
        "calendar_id": data["calendar_id"],
        "starts_at": format_time(data["starts_at"]),
        "ends_at": format_time(data["ends_at"]),
        "title": data["title"],
        "notes": data.get("notes", ""),
        "client_id": client_id,
    }
    if "recurrence" in data:  # a series' key covers its rule too
        fields["recurrence"] = data["recurrence"]
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
