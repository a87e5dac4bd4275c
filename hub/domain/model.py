"""The hub's domain values: typed, frozen, made from rows in one place.

Storage builds these from rows (``hub/storage``); each turns itself into its
wire form with ``to_wire`` (the one place that shape is written), which the
socket, REST and the channel log all share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from hub.domain.availability import BookingRules, WorkingRange, working_hours_to_wire
from hub.domain.times import format_time


class Role(StrEnum):
    USER = "user"
    STAFF = "staff"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        """Staff and admins share the staff powers of the protocol."""
        return self is not Role.USER


class Status(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"

    @property
    def is_active(self) -> bool:
        """Pending and confirmed appointments hold their time; the others do not."""
        return self in (Status.PENDING, Status.CONFIRMED)


ACTIVE_STATUSES = (Status.PENDING, Status.CONFIRMED)


class Kind(StrEnum):
    APPOINTMENT = "appointment"
    BLOCK = "block"  # time off: busy time with no client
    HOLD = "hold"  # a slot kept for one person while they book (PROTOCOL.md, Slot holds)


class HoldEnd(StrEnum):
    """Why a hold ended (``slot.released``'s reason; ``booked`` has no event of its own)."""

    RELEASED = "released"
    EXPIRED = "expired"
    REPLACED = "replaced"
    BOOKED = "booked"


@dataclass(frozen=True)
class User:
    id: str
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "full_name": self.full_name,
            "role": self.role.value,
            "is_active": self.is_active,
            "created_at": format_time(self.created_at),
        }


@dataclass(frozen=True)
class Calendar:
    id: str
    name: str
    timezone: str
    working_hours: tuple[WorkingRange, ...]
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


@dataclass(frozen=True)
class Appointment:
    id: str
    calendar_id: str
    client_id: str
    title: str
    notes: str
    starts_at: datetime
    ends_at: datetime
    status: Status
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    kind: Kind = Kind.APPOINTMENT
    series_id: str | None = None

    @property
    def is_block(self) -> bool:
        return self.kind is Kind.BLOCK

    def to_wire(self) -> dict[str, Any]:
        """The full view: what staff, admins and the appointment's client see."""
        return {
            "id": self.id,
            "calendar_id": self.calendar_id,
            "client_id": self.client_id,
            "title": self.title,
            "notes": self.notes,
            "starts_at": format_time(self.starts_at),
            "ends_at": format_time(self.ends_at),
            "status": self.status.value,
            "version": self.version,
            "created_by": self.created_by,
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
            "kind": self.kind.value,
            "series_id": self.series_id,
        }


@dataclass(frozen=True)
class Series:
    """A recurring series as booked; its occurrences are appointments with its id."""

    id: str
    calendar_id: str
    client_id: str
    recurrence: str  # the canonical RRULE text

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "recurrence": self.recurrence,
            "calendar_id": self.calendar_id,
            "client_id": self.client_id,
        }


@dataclass(frozen=True)
class Hold:
    """A live hold: the slot is taken for everyone but ``held_by`` until ``expires_at``."""

    id: str
    calendar_id: str
    held_by: str
    starts_at: datetime
    ends_at: datetime
    expires_at: datetime

    def same_slot(self, calendar_id: str, starts_at: datetime, ends_at: datetime) -> bool:
        return (self.calendar_id, self.starts_at, self.ends_at) == (
            calendar_id,
            starts_at,
            ends_at,
        )

    def to_wire(self) -> dict[str, Any]:
        """As its holder, staff and admins see it; others see it without ``held_by``."""
        return {
            "id": self.id,
            "calendar_id": self.calendar_id,
            "starts_at": format_time(self.starts_at),
            "ends_at": format_time(self.ends_at),
            "expires_at": format_time(self.expires_at),
            "held_by": self.held_by,
        }

    def released(self, reason: HoldEnd) -> dict[str, Any]:
        """The data of its ``slot.released`` event, the same for everyone."""
        return {
            "id": self.id,
            "calendar_id": self.calendar_id,
            "starts_at": format_time(self.starts_at),
            "ends_at": format_time(self.ends_at),
            "reason": reason.value,
        }


def calendar_channel(calendar_id: str) -> str:
    return f"calendar:{calendar_id}"


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"
