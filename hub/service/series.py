"""Recurring series: booked, moved and cancelled all or nothing (PROTOCOL.md).

A series is expanded in the calendar's zone (:mod:`hub.domain.recurrence`);
each occurrence is an ordinary appointment with the series' id, checked by
the same rules as a single booking, and gets its own event, in start order.
When any occurrence breaks a rule nothing is written, and the error names
every occurrence at fault (``details.conflicts``).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from hub.domain import rules
from hub.domain.errors import BadRequest, HubError, OutsideAvailability, SlotTaken
from hub.domain.model import (
    Appointment,
    Calendar,
    Series,
    Status,
    User,
    calendar_channel,
    user_channel,
)
from hub.domain.recurrence import (
    Recurrence,
    RecurrenceError,
    expand,
    parse_recurrence,
    shift_wall,
    wall_delta,
)
from hub.domain.times import format_time, now
from hub.service.holds import Nearby, busy_near, give_way, sort_out
from hub.service.unit_of_work import Work
from hub.settings import Settings
from hub.storage.appointments import Appointments, Busy

# The error a series answers with: the first of these among its conflicts.
PRECEDENCE: tuple[type[HubError], ...] = (BadRequest, SlotTaken, OutsideAvailability)


def parse(settings: Settings, text: str) -> Recurrence:
    try:
        return parse_recurrence(text, settings.max_occurrences)
    except RecurrenceError as exc:
        raise BadRequest(exc.message, field="recurrence") from None


def occurrences(
    rule: Recurrence, calendar: Calendar, starts_at: datetime, ends_at: datetime
) -> list[tuple[datetime, datetime]]:
    try:
        found = expand(rule, starts_at, ends_at - starts_at, calendar.zone)
    except RecurrenceError as exc:
        raise BadRequest(exc.message, field="recurrence") from None
    return [(o.starts_at, o.ends_at) for o in found]


async def check_all(
    work: Work,
    settings: Settings,
    actor: User,
    calendar: Calendar,
    times: list[tuple[datetime, datetime]],
    sparing: set[str],
) -> str | None:
    """Check every occurrence's times; clear the actor's own holds from their way.

    Raises:
        HubError: of the kind PRECEDENCE picks, with ``details.conflicts``
            naming every occurrence at fault and why.

    Returns the id of the actor's hold of exactly the first occurrence, if any.
    """
    busy: list[Busy] = await busy_near(work, calendar, times[0][0], times[-1][1])
    conflicts, nearby = _sort_and_check(settings, actor, calendar, times, busy, sparing)
    if conflicts:
        raise _refusal(conflicts)
    booked = [
        await give_way(work, found.mine, calendar.id, start, end)
        for found, (start, end) in zip(nearby, times, strict=True)
    ]
    return booked[0]


async def preview(
    appointments: Appointments,
    settings: Settings,
    actor: User,
    calendar: Calendar,
    times: list[tuple[datetime, datetime]],
) -> list[dict[str, Any]]:
    """What ``check_all`` would refuse, without writing anything: the conflicts' wire form."""
    stamp = now()
    before, after = rules.buffers(calendar)
    busy = [
        b
        for b in await appointments.busy(calendar.id, times[0][0] - before, times[-1][1] + after)
        if b.hold is None or b.hold.expires_at > stamp
    ]
    conflicts, _ = _sort_and_check(settings, actor, calendar, times, busy, set())
    return _wire(conflicts)


def _sort_and_check(
    settings: Settings,
    actor: User,
    calendar: Calendar,
    times: list[tuple[datetime, datetime]],
    busy: list[Busy],
    sparing: set[str],
) -> tuple[list[tuple[HubError, datetime, datetime]], list[Nearby]]:
    conflicts: list[tuple[HubError, datetime, datetime]] = []
    nearby = []
    stamp = now()
    for start, end in times:
        found = sort_out(busy, calendar, actor, start, end, sparing)
        try:
            rules.check_length(settings, start, end)
            rules.check_bookable(actor, calendar, start, end, found.taken, found.held, stamp)
        except (BadRequest, SlotTaken, OutsideAvailability) as exc:
            conflicts.append((exc, start, end))
        nearby.append(found)
    return conflicts, nearby


def _wire(conflicts: list[tuple[HubError, datetime, datetime]]) -> list[dict[str, Any]]:
    """Each conflict as PROTOCOL.md writes it, plus the rule broken when the error names one
    (``held``: someone is booking it; ``buffer``; ``working_hours``, ``min_notice``, …)."""
    found = []
    for exc, start, end in conflicts:
        entry = {"starts_at": format_time(start), "ends_at": format_time(end), "code": exc.code}
        rule = (exc.details or {}).get("rule")
        if rule is not None:
            entry["rule"] = rule
        found.append(entry)
    return found


def _refusal(conflicts: list[tuple[HubError, datetime, datetime]]) -> HubError:
    details = {"conflicts": _wire(conflicts)}
    for kind in PRECEDENCE:
        first = next((exc for exc, _, _ in conflicts if isinstance(exc, kind)), None)
        if first is not None:
            count = len(conflicts)
            message = f"{count} occurrence{'s' if count > 1 else ''} of the series cannot be booked"
            return type(first)(f"{message}: {first.message}", details=details)
    raise AssertionError("a conflict outside PRECEDENCE")


def new_series(
    actor: User,
    calendar: Calendar,
    client_id: str,
    rule: Recurrence,
    data: dict[str, Any],
    times: list[tuple[datetime, datetime]],
) -> tuple[Series, list[Appointment]]:
    series = Series(str(uuid.uuid4()), calendar.id, client_id, str(rule))
    stamp = now()
    appointments = [
        Appointment(
            id=str(uuid.uuid4()),
            calendar_id=calendar.id,
            client_id=client_id,
            title=data["title"].strip(),
            notes=data.get("notes", ""),
            starts_at=start,
            ends_at=end,
            status=Status.CONFIRMED if actor.is_staff else Status.PENDING,
            version=1,
            created_by=actor.id,
            created_at=stamp,
            updated_at=stamp,
            series_id=series.id,
        )
        for start, end in times
    ]
    return series, appointments


def in_scope(members: list[Appointment], named: Appointment, scope: str) -> list[Appointment]:
    """The named occurrence and, by scope, the later or all other non-cancelled ones."""
    return [
        a
        for a in members
        if a.id == named.id
        or (a.status.is_active and (scope == "all" or a.starts_at >= named.starts_at))
    ]


def shifted(
    targets: list[Appointment],
    named: Appointment,
    calendar: Calendar,
    starts_at: datetime,
    ends_at: datetime,
) -> list[tuple[datetime, datetime]]:
    """Each occurrence moved as the named one: its local start by the same wall-clock
    amount in the calendar's zone, its length changed as the named one's."""
    delta = wall_delta(named.starts_at, starts_at, calendar.zone)
    stretch = (ends_at - starts_at) - (named.ends_at - named.starts_at)
    times = []
    for a in targets:
        if a.id == named.id:
            times.append((starts_at, ends_at))
            continue
        start = shift_wall(a.starts_at, delta, calendar.zone)
        times.append((start, start + (a.ends_at - a.starts_at) + stretch))
    return times


async def record_all(
    work: Work, appointments: list[Appointment], event: str, hold_id: str | None = None
) -> None:
    """One event per occurrence, in start order, on the calendar's channel and the client's.

    ``hold_id``: the hold the first occurrence took over (its event says so).
    """
    ordered = sorted(appointments, key=lambda a: a.starts_at)
    events = [(event, a.to_wire()) for a in ordered]
    if hold_id is not None:
        events[0][1]["hold_id"] = hold_id
    await work.append_many(calendar_channel(ordered[0].calendar_id), events)
    await work.append_many(user_channel(ordered[0].client_id), events)


async def replace_all(
    store_appointments: Appointments, changed: list[tuple[Appointment, dict[str, Any]]]
) -> list[Appointment]:
    stamp = now()
    after = []
    for before, changes in changed:
        new = dataclasses.replace(before, **changes, version=before.version + 1, updated_at=stamp)
        await store_appointments.replace(before, new)
        after.append(new)
    return after
