"""The one booking service: every appointment change, from any transport.

Each change is one transaction: lock the calendar row, check the rules,
write, append one event per channel it touches (the calendar's and its
client's), commit. The database refuses overlaps on its own (exclusion
constraint / triggers), and that refusal becomes ``slot_taken``. Callers
publish the returned events only after the commit.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hub.domain.availability import Interval, check_bookable
from hub.domain.errors import (
    BadRequest,
    Forbidden,
    InvalidTransition,
    NotFound,
    OutsideAvailability,
    SlotTaken,
    VersionConflict,
)
from hub.domain.projection import project
from hub.realtime import channel_log
from hub.service.accounts import User
from hub.service.calendars import Calendar, Calendars, calendar_channel, user_channel
from hub.settings import Settings
from hub.storage.store import Store, now, statement, utc
from hub.storage.tables import Timestamp, appointments, idempotency_keys, users
from hub.wire.schema import format_time

ACTIVE = ("pending", "confirmed")
# Pending or confirmed time of a calendar overlapping [lower, upper).
_NEARBY = statement(
    "SELECT id, starts_at, ends_at FROM appointments WHERE calendar_id = :calendar_id"
    " AND status IN ('pending', 'confirmed') AND starts_at < :upper AND ends_at > :lower",
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
TRANSITIONS = {
    "pending": {"confirmed", "cancelled"},
    "confirmed": {"cancelled", "completed", "no_show"},
}


@dataclass
class Outcome:
    """A committed change: the appointment after it and the events to publish."""

    appointment: dict[str, Any]
    events: list[channel_log.ChannelEvent] = field(default_factory=list)

    @property
    def seqs(self) -> dict[str, int]:
        return {e.channel: e.seq for e in self.events}


def appointment_from_row(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "calendar_id": row["calendar_id"],
        "client_id": row["client_id"],
        "title": row["title"],
        "notes": row["notes"],
        "starts_at": format_time(utc(row["starts_at"])),
        "ends_at": format_time(utc(row["ends_at"])),
        "status": row["status"],
        "version": int(row["version"]),
        "created_by": row["created_by"],
        "created_at": format_time(utc(row["created_at"])),
        "updated_at": format_time(utc(row["updated_at"])),
        "kind": row["kind"],
    }


def _is_overlap_violation(exc: BaseException) -> bool:
    return type(exc).__name__ == "ExclusionViolationError" or "appointments_overlap" in str(exc)


def _is_unique_violation(exc: BaseException) -> bool:
    return type(exc).__name__ == "UniqueViolationError" or "UNIQUE constraint failed" in str(exc)


class Booking:
    def __init__(self, settings: Settings, store: Store, calendars: Calendars) -> None:
        self.settings = settings
        self.store = store
        self.calendars = calendars

    # Reading

    async def _row(self, appointment_id: str) -> Any:
        row = await self.store.fetch_one(
            appointments.select().where(appointments.c.id == appointment_id)
        )
        if row is None:
            raise NotFound("no such appointment", {"appointment_id": appointment_id})
        return row

    async def get(self, viewer: User, appointment_id: str) -> dict[str, Any]:
        """One appointment as the viewer may see it (busy block for others)."""
        return project(viewer, appointment_from_row(await self._row(appointment_id)))

    async def overlapping(
        self, column: sa.Column[Any], key: str, start: datetime | None, end: datetime | None
    ) -> list[dict[str, Any]]:
        query = appointments.select().where(column == key).order_by(appointments.c.starts_at)
        if column is appointments.c.client_id:  # a block is nobody's appointment
            query = query.where(appointments.c.kind == "appointment")
        if end is not None:
            query = query.where(appointments.c.starts_at < end)
        if start is not None:
            query = query.where(appointments.c.ends_at > start)
        return [appointment_from_row(r) for r in await self.store.fetch_all(query)]

    async def busy(self, calendar_id: str, start: datetime, end: datetime) -> list[Interval]:
        """Pending and confirmed time of a calendar overlapping [start, end)."""
        rows = await self.store.fetch_all(
            sa.select(appointments.c.starts_at, appointments.c.ends_at).where(
                appointments.c.calendar_id == calendar_id,
                appointments.c.status.in_(ACTIVE),
                appointments.c.starts_at < end,
                appointments.c.ends_at > start,
            )
        )
        return [Interval(utc(r["starts_at"]), utc(r["ends_at"])) for r in rows]

    # Writing

    async def create(self, actor: User, data: dict[str, Any]) -> Outcome:
        client_id = data.get("client_id", actor.id)
        if client_id != actor.id and not actor.is_staff:
            raise Forbidden("only staff may book for another client")
        starts_at, ends_at = data["starts_at"], data["ends_at"]
        self._check_times(starts_at, ends_at)
        key = data.get("idempotency_key")
        fingerprint = _fingerprint(data, client_id)
        try:
            async with self.store.write():
                calendar = await self.calendars.get(data["calendar_id"], lock=True)
                if key is not None:
                    earlier = await self._replay(actor, key, fingerprint)
                    if earlier is not None:
                        return earlier
                if not calendar.is_active:
                    raise BadRequest("this calendar is not taking bookings", field="calendar_id")
                if client_id != actor.id:  # the actor's own account is known to be active
                    await self._check_client(client_id)
                await self._check_rules(actor, calendar, starts_at, ends_at, None)
                stamp = now()
                row = {
                    "id": str(uuid.uuid4()),
                    "calendar_id": calendar.id,
                    "client_id": client_id,
                    "title": data["title"].strip(),
                    "notes": data.get("notes", ""),
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "status": "confirmed" if actor.is_staff else "pending",
                    "version": 1,
                    "created_by": actor.id,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "kind": "appointment",
                }
                await self.store.execute(_INSERT.bindparams(**row))
                if key is not None:
                    await self.store.execute(
                        idempotency_keys.insert().values(
                            user_id=actor.id,
                            key=key,
                            request_hash=fingerprint,
                            appointment_id=row["id"],
                            created_at=stamp,
                        )
                    )
                return await self._record(row["id"], "appointment.created", row)
        except Exception as exc:
            if _is_overlap_violation(exc):
                raise SlotTaken("that time overlaps another appointment") from exc
            if key is not None and _is_unique_violation(exc):
                # The same key raced in on another calendar's lock: answer as a retry.
                earlier = await self._replay(actor, key, fingerprint)
                if earlier is not None:
                    return earlier
            raise

    async def update(self, actor: User, data: dict[str, Any]) -> Outcome:
        existing = await self._row(data["appointment_id"])
        self._check_owner(actor, existing)
        try:
            async with self.store.write():
                calendar = await self.calendars.get(existing["calendar_id"], lock=True)
                current = await self._current(actor, data["appointment_id"], data.get("version"))
                if current["status"] not in ACTIVE:
                    raise InvalidTransition(f"a {current['status']} appointment cannot be changed")
                starts_at = data.get("starts_at", utc(current["starts_at"]))
                ends_at = data.get("ends_at", utc(current["ends_at"]))
                values: dict[str, Any] = {}
                if "starts_at" in data or "ends_at" in data:
                    self._check_times(starts_at, ends_at)
                    await self._check_rules(actor, calendar, starts_at, ends_at, current["id"])
                    values.update(starts_at=starts_at, ends_at=ends_at)
                if "title" in data:
                    values["title"] = data["title"].strip()
                if "notes" in data:
                    values["notes"] = data["notes"]
                await self._write(current, values)
                return await self._record(current["id"], "appointment.updated")
        except Exception as exc:
            if _is_overlap_violation(exc):
                raise SlotTaken("that time overlaps another appointment") from exc
            raise

    async def cancel(self, actor: User, data: dict[str, Any]) -> Outcome:
        return await self._transition(actor, data, "cancelled", "appointment.cancelled")

    async def set_status(self, actor: User, data: dict[str, Any]) -> Outcome:
        if not actor.is_staff:
            raise Forbidden("only staff may set an appointment's status")
        return await self._transition(actor, data, data["status"], "appointment.status_changed")

    async def _transition(
        self, actor: User, data: dict[str, Any], status: str, event: str
    ) -> Outcome:
        existing = await self._row(data["appointment_id"])
        self._check_owner(actor, existing)
        try:
            async with self.store.write():
                await self.calendars.get(existing["calendar_id"], lock=True)
                current = await self._current(actor, data["appointment_id"], data.get("version"))
                if status not in TRANSITIONS.get(current["status"], set()):
                    raise InvalidTransition(
                        f"cannot go from {current['status']} to {status}",
                        {"from": current["status"], "to": status},
                    )
                await self._write(current, {"status": status})
                return await self._record(current["id"], event)
        except Exception as exc:
            # Re-activating can only come from pending/confirmed, which never
            # overlap; kept so that no database refusal leaks as `internal`.
            if _is_overlap_violation(exc):
                raise SlotTaken("that time overlaps another appointment") from exc
            raise

    async def block(self, actor: User, data: dict[str, Any]) -> Outcome:
        """Time off: busy time on a calendar, refused where it would overlap anything."""
        self._check_times(data["starts_at"], data["ends_at"], limits=False)
        try:
            async with self.store.write():
                calendar = await self.calendars.get(data["calendar_id"], lock=True)
                await self._check_rules(actor, calendar, data["starts_at"], data["ends_at"], None)
                stamp = now()
                block_id = str(uuid.uuid4())
                await self.store.execute(
                    appointments.insert().values(
                        id=block_id,
                        calendar_id=calendar.id,
                        client_id=actor.id,
                        title=data.get("reason", "") or "Time off",
                        notes="",
                        starts_at=data["starts_at"],
                        ends_at=data["ends_at"],
                        status="confirmed",
                        version=1,
                        created_by=actor.id,
                        created_at=stamp,
                        updated_at=stamp,
                        kind="block",
                    )
                )
                return await self._record(block_id, "appointment.created")
        except Exception as exc:
            if _is_overlap_violation(exc):
                raise SlotTaken("that time overlaps an appointment or block") from exc
            raise

    async def unblock(self, actor: User, data: dict[str, Any]) -> Outcome:
        existing = await self._row(data["block_id"])
        if existing["kind"] != "block":
            raise BadRequest("that is an appointment, not a block", field="block_id")
        async with self.store.write():
            await self.calendars.get(existing["calendar_id"], lock=True)
            current = await self._row(data["block_id"])
            if current["status"] == "cancelled":
                raise InvalidTransition("this block was already removed")
            await self._write(current, {"status": "cancelled"})
            return await self._record(current["id"], "appointment.cancelled")

    # Steps

    async def _current(self, actor: User, appointment_id: str, version: int | None) -> Any:
        """The appointment under the calendar lock, checked against ``version``."""
        row = await self._row(appointment_id)
        if version is not None and version != row["version"]:
            raise VersionConflict(
                "the appointment has changed; take the current version",
                {"current": project(actor, appointment_from_row(row))},
            )
        return row

    async def _write(self, current: Any, values: dict[str, Any]) -> None:
        values.update(version=current["version"] + 1, updated_at=now())
        await self.store.execute(
            appointments.update()
            .where(appointments.c.id == current["id"], appointments.c.version == current["version"])
            .values(**values)
        )

    async def _record(
        self, appointment_id: str, event: str, written: dict[str, Any] | None = None
    ) -> Outcome:
        """Append the change to the calendar's and the client's channels.

        ``written``: the row just inserted, when the caller has it (no re-read).
        """
        appointment = appointment_from_row(written or await self._row(appointment_id))
        channels = [calendar_channel(appointment["calendar_id"])]
        if appointment["kind"] == "appointment":  # a block has no client to tell
            channels.append(user_channel(appointment["client_id"]))
        events = [
            await channel_log.append(self.store, channel, event, appointment)
            for channel in channels
        ]
        return Outcome(appointment, events)

    async def _replay(self, actor: User, key: str, fingerprint: str) -> Outcome | None:
        row = await self.store.fetch_one(
            idempotency_keys.select().where(
                idempotency_keys.c.user_id == actor.id, idempotency_keys.c.key == key
            )
        )
        if row is None:
            return None
        if utc(row["created_at"]) < now() - timedelta(hours=self.settings.idempotency_hours):
            await self.store.execute(
                idempotency_keys.delete().where(
                    idempotency_keys.c.user_id == actor.id, idempotency_keys.c.key == key
                )
            )
            return None
        if row["request_hash"] != fingerprint:
            raise BadRequest(
                "idempotency_key was used with different fields", field="idempotency_key"
            )
        return Outcome(appointment_from_row(await self._row(row["appointment_id"])))

    def _check_times(self, starts_at: datetime, ends_at: datetime, limits: bool = True) -> None:
        if starts_at >= ends_at:
            raise BadRequest("starts_at must be before ends_at", field="ends_at")
        if not limits:  # blocks may last days (a holiday)
            return
        minutes = (ends_at - starts_at) / timedelta(minutes=1)
        low, high = self.settings.min_duration_minutes, self.settings.max_duration_minutes
        if not low <= minutes <= high:
            raise BadRequest(
                f"an appointment lasts between {low} and {high} minutes", field="ends_at"
            )

    def _check_owner(self, actor: User, row: Any) -> None:
        if not actor.is_staff and row["client_id"] != actor.id:
            raise Forbidden("this is someone else's appointment")
        if row["kind"] == "block":
            raise BadRequest(
                "that is a time-off block: use calendar.unblock", field="appointment_id"
            )

    async def _check_client(self, client_id: str) -> None:
        row = await self.store.fetch_one(
            sa.select(users.c.is_active).where(users.c.id == client_id)
        )
        if row is None:
            raise NotFound("no such client", {"field": "client_id"})
        if not row["is_active"]:
            raise BadRequest("the client's account is deactivated", field="client_id")

    async def _check_rules(
        self,
        actor: User,
        calendar: Calendar,
        starts_at: datetime,
        ends_at: datetime,
        exclude_id: str | None,
    ) -> None:
        """Overlap for everyone; past, working hours, notice, horizon for users."""
        rules = calendar.rules
        margin_before = timedelta(minutes=rules.buffer_before_minutes)
        margin_after = timedelta(minutes=rules.buffer_after_minutes)
        query = _NEARBY.bindparams(
            calendar_id=calendar.id, upper=ends_at + margin_after, lower=starts_at - margin_before
        )
        nearby = [r for r in await self.store.fetch_all(query) if r["id"] != exclude_id]
        busy = [Interval(utc(r["starts_at"]), utc(r["ends_at"])) for r in nearby]
        if any(b.start < ends_at and b.end > starts_at for b in busy):
            raise SlotTaken("that time overlaps another appointment")
        if actor.is_staff:
            return
        current = now()
        if starts_at < current:
            raise BadRequest("starts_at is in the past", field="starts_at")
        broken = check_bookable(
            ranges=calendar.working_hours,
            zone=calendar.zone,
            busy=busy,
            slot=Interval(starts_at, ends_at),
            rules=rules,
            now=current,
        )
        if broken == "buffer":
            raise SlotTaken("that time is too close to another appointment", {"rule": "buffer"})
        if broken is not None:
            raise OutsideAvailability(_RULE_MESSAGES[broken], {"rule": broken})


_RULE_MESSAGES = {
    "working_hours": "outside the calendar's working hours",
    "min_notice": "too short notice for this calendar",
    "horizon": "too far ahead for this calendar",
}


def _fingerprint(data: dict[str, Any], client_id: str) -> str:
    fields = {
        "calendar_id": data["calendar_id"],
        "starts_at": format_time(data["starts_at"]),
        "ends_at": format_time(data["ends_at"]),
        "title": data["title"],
        "notes": data.get("notes", ""),
        "client_id": client_id,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
