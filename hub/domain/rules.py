"""The booking rules, free of I/O: lengths, transitions, overlap and working hours.

The booking service gathers the facts (the calendar, the busy time nearby,
now) under the calendar's lock and asks these functions; each refusal is the
protocol error a client sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from hub.domain import availability
from hub.domain.availability import Interval
from hub.domain.errors import BadRequest, InvalidTransition, OutsideAvailability, SlotTaken
from hub.domain.model import Appointment, Calendar, Status, User

TRANSITIONS = {
    Status.PENDING: {Status.CONFIRMED, Status.CANCELLED},
    Status.CONFIRMED: {Status.CANCELLED, Status.COMPLETED, Status.NO_SHOW},
}
# These describe what happened at the appointment, so it must have begun.
AFTER_START = {Status.COMPLETED, Status.NO_SHOW}
RULE_MESSAGES = {
    "working_hours": "outside the calendar's working hours",
    "min_notice": "too short notice for this calendar",
    "horizon": "too far ahead for this calendar",
}


class LengthLimits(Protocol):
    @property
    def min_duration_minutes(self) -> int: ...

    @property
    def max_duration_minutes(self) -> int: ...


def check_order(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at >= ends_at:
        raise BadRequest("starts_at must be before ends_at", field="ends_at")


def check_length(limits: LengthLimits, starts_at: datetime, ends_at: datetime) -> None:
    check_order(starts_at, ends_at)
    minutes = (ends_at - starts_at) / timedelta(minutes=1)
    low, high = limits.min_duration_minutes, limits.max_duration_minutes
    if not low <= minutes <= high:
        raise BadRequest(f"an appointment lasts between {low} and {high} minutes", field="ends_at")


def check_transition(appointment: Appointment, status: Status, current: datetime) -> None:
    if status not in TRANSITIONS.get(appointment.status, set()):
        raise InvalidTransition(
            f"cannot go from {appointment.status.value} to {status.value}",
            {"from": appointment.status.value, "to": status.value},
        )
    if status in AFTER_START and current < appointment.starts_at:
        raise InvalidTransition(
            f"{status.value} can be set only once the appointment has started",
            {"from": appointment.status.value, "to": status.value},
        )


def buffers(calendar: Calendar) -> tuple[timedelta, timedelta]:
    """How far before and after a booking other busy time matters (the buffers)."""
    return (
        timedelta(minutes=calendar.rules.buffer_before_minutes),
        timedelta(minutes=calendar.rules.buffer_after_minutes),
    )


def check_bookable(
    actor: User,
    calendar: Calendar,
    starts_at: datetime,
    ends_at: datetime,
    taken: Sequence[Interval],
    held: Sequence[Interval],
    current: datetime,
) -> None:
    """Overlap for everyone; past, working hours, notice, horizon and buffers for users.

    ``taken``: appointments and blocks near the booking (within the buffers),
    without the appointment being moved; ``held``: other people's live holds
    there. A hold counts as busy time for the buffers too, so the slot it
    keeps can still be booked when its holder gets there.
    """
    if any(b.start < ends_at and b.end > starts_at for b in taken):
        raise SlotTaken("that time overlaps another appointment")
    if any(h.start < ends_at and h.end > starts_at for h in held):
        raise SlotTaken("someone is booking that time right now", {"rule": "held"})
    if actor.is_staff:
        return
    if starts_at < current:
        raise BadRequest("starts_at is in the past", field="starts_at")
    broken = availability.check_bookable(
        ranges=calendar.working_hours,
        zone=calendar.zone,
        busy=[*taken, *held],
        slot=Interval(starts_at, ends_at),
        rules=calendar.rules,
        now=current,
    )
    if broken == "buffer":
        raise SlotTaken("that time is too close to another appointment", {"rule": "buffer"})
    if broken is not None:
        raise OutsideAvailability(RULE_MESSAGES[broken], {"rule": broken})
