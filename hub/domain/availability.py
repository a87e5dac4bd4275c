"""Working hours, free slots and booking checks, free of I/O.

A calendar's working hours are wall-clock ranges ("Mon 09:00-17:00") in the
calendar's IANA time zone. Everything else in the hub is UTC. This module is
the only place where the two meet, and it follows one rule: **resolve each
range on each local date separately, with the UTC offset in force at that
wall-clock instant on that date**, never with today's offset and never by
adding a fixed offset to a whole week. So Berlin 09:00 is 08:00Z in January
and 07:00Z in July, and a range crossing UTC midnight (Sydney 08:00, Kolkata
04:00) simply lands on the previous UTC day.

DST edge cases, resolved with PEP 495 ``fold=0`` and then normalised through
UTC (``datetime.combine(date, time, tzinfo=zone).astimezone(timezone.utc)``):

- Nonexistent wall times (spring-forward gap) take the offset in force
  *before* the transition, which moves them forward by the gap: New York
  02:30 on 2027-03-14 becomes 07:30Z (03:30 EDT). A range whose resolved end
  is not after its resolved start on that date (e.g. 02:00-03:00 inside the
  gap) is empty that day and dropped.
- Ambiguous wall times (fall-back) use the first occurrence for both a
  range's start and its end. "24:00" is 00:00 (fold=0) of the next date.

Slots step in elapsed time from each range's resolved start, not in wall
time: a 24-hour range on a 23-hour day yields 23 hourly slots, on a 25-hour
day 25. Each working range stays a separate interval (not merged with a
touching neighbour) because slot stepping restarts at every range's start.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9][A-Za-z0-9_+\-]*)*")
_KEYS = ("weekday", "start", "end")
_HOST_FILES = frozenset({"localtime", "posixrules"})
_DAY = timedelta(days=1)


class WorkingHoursError(ValueError):
    """Invalid working hours; ``field`` names the culprit, e.g. ``working_hours[2].end``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class WorkingRange:
    """One wall-clock range on one weekday (Monday = 0); ``end=None`` means 24:00."""

    weekday: int
    start: time
    end: time | None

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be between 0 and 6")
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")


@dataclass(frozen=True)
class Interval:
    """Half-open ``[start, end)`` of aware datetimes, normalised to UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("interval bounds must be timezone-aware")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))
        if self.end <= self.start:
            raise ValueError("interval end must be after start")


@dataclass(frozen=True)
class BookingRules:
    """Per-calendar booking policy; every field is in minutes except ``horizon_days``."""

    slot_step_minutes: int = 15
    min_notice_minutes: int = 0
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    horizon_days: int = 90

    def __post_init__(self) -> None:
        if self.slot_step_minutes <= 0:
            raise ValueError("slot_step_minutes must be positive")
        for name in ("min_notice_minutes", "buffer_before_minutes", "buffer_after_minutes"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.horizon_days < 0:
            raise ValueError("horizon_days must not be negative")


def _parse_hhmm(value: object, field: str, *, allow_24: bool) -> time | None:
    if not isinstance(value, str):
        raise WorkingHoursError(field, "must be a string in HH:MM form")
    if value == "24:00":
        if allow_24:
            return None
        raise WorkingHoursError(field, '"24:00" is allowed only as an end')
    match = _HHMM.fullmatch(value)
    if match is None:
        raise WorkingHoursError(field, "must be a time in HH:MM form (00:00 to 23:59)")
    return time(int(match.group(1)), int(match.group(2)))


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _end_minutes(r: WorkingRange) -> int:
    return 24 * 60 if r.end is None else _minutes(r.end)


def parse_working_hours(value: object, field: str = "working_hours") -> list[WorkingRange]:
    """Validate the wire form of working hours.

    Args:
        value: A list of ``{"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"}``
            objects. Times need two-digit hours; "24:00" is allowed only as an
            end. Ranges on one weekday may touch but not overlap.
        field: The name of ``value`` in the request, used in error fields.

    Returns:
        The ranges, sorted by weekday and start.

    Raises:
        WorkingHoursError: With ``field`` set to the exact culprit, e.g.
            ``working_hours[1].start``.
    """
    if not isinstance(value, list):
        raise WorkingHoursError(field, "must be a list")
    parsed: list[tuple[int, WorkingRange]] = []
    for i, item in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise WorkingHoursError(where, "must be an object")
        for key in _KEYS:
            if key not in item:
                raise WorkingHoursError(f"{where}.{key}", "is required")
        for key in sorted(map(str, item)):
            if key not in _KEYS:
                raise WorkingHoursError(f"{where}.{key}", "unknown field")
        weekday = item["weekday"]
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise WorkingHoursError(f"{where}.weekday", "must be an integer from 0 to 6")
        start = _parse_hhmm(item["start"], f"{where}.start", allow_24=False)
        end = _parse_hhmm(item["end"], f"{where}.end", allow_24=True)
        assert start is not None
        if end is not None and end <= start:
            raise WorkingHoursError(f"{where}.end", "must be after start")
        parsed.append((i, WorkingRange(weekday, start, end)))
    parsed.sort(key=lambda p: (p[1].weekday, p[1].start))
    for (i, prev), (j, cur) in pairwise(parsed):
        if prev.weekday == cur.weekday and _minutes(cur.start) < _end_minutes(prev):
            raise WorkingHoursError(f"{field}[{j}].start", f"overlaps {field}[{i}]")
    return [r for _, r in parsed]


def working_hours_to_wire(ranges: Sequence[WorkingRange]) -> list[dict[str, object]]:
    """Render ranges in wire form (end ``"24:00"`` for midnight), sorted by weekday and start."""
    return [
        {
            "weekday": r.weekday,
            "start": r.start.strftime("%H:%M"),
            "end": "24:00" if r.end is None else r.end.strftime("%H:%M"),
        }
        for r in sorted(ranges, key=lambda r: (r.weekday, r.start))
    ]


def validate_timezone(name: object) -> ZoneInfo:
    """Load an IANA zone by name.

    Args:
        name: The zone name from the wire, e.g. ``"Europe/Berlin"``.

    Returns:
        The zone.

    Raises:
        ValueError: ``"unknown time zone"`` for non-strings, empty or
            path-like names (``..``, leading ``/``), host files such as
            ``localtime`` and names with no zone data.
    """
    # "localtime" and "posixrules" are host files, not zones: they would follow the server.
    if not isinstance(name, str) or not _ZONE_NAME.fullmatch(name) or name in _HOST_FILES:
        raise ValueError("unknown time zone")
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError, UnicodeError) as exc:
        raise ValueError("unknown time zone") from exc


def _require_aware(**values: datetime) -> None:
    for name, value in values.items():
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")


def _resolve(day: date, wall: time | None, zone: ZoneInfo) -> datetime:
    """Wall time on ``day`` (None = 24:00) to UTC, fold=0, normalised (module docstring)."""
    if wall is None:
        day, wall = day + _DAY, time(0)
    local = datetime.combine(day, wall.replace(fold=0, tzinfo=None), tzinfo=zone)
    return local.astimezone(UTC)


def working_intervals(
    ranges: Sequence[WorkingRange], zone: ZoneInfo, start: datetime, end: datetime
) -> list[Interval]:
    """Resolve working hours to UTC intervals.

    Args:
        ranges: The calendar's working ranges, resolved in ``zone``.
        start: Aware start of the window; ``end`` is exclusive.

    Returns:
        One interval per range per local date that overlaps ``[start, end)``,
        sorted by start; touching intervals are deliberately not merged.
    """
    _require_aware(start=start, end=end)
    by_weekday: dict[int, list[WorkingRange]] = {}
    for r in ranges:
        by_weekday.setdefault(r.weekday, []).append(r)
    out: list[Interval] = []
    day = start.astimezone(zone).date() - _DAY
    last = end.astimezone(zone).date() + _DAY
    while day <= last:
        for r in by_weekday.get(day.weekday(), ()):
            ws, we = _resolve(day, r.start, zone), _resolve(day, r.end, zone)
            if ws < we and ws < end and we > start:
                out.append(Interval(ws, we))
        day += _DAY
    out.sort(key=lambda iv: (iv.start, iv.end))
    return out


class _BusyIndex:
    """Busy intervals merged into a disjoint sorted list for O(log n) overlap tests."""

    def __init__(self, busy: Sequence[Interval]) -> None:
        self.starts: list[datetime] = []
        self.ends: list[datetime] = []
        for iv in sorted(busy, key=lambda b: b.start):
            if self.ends and iv.start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], iv.end)
            else:
                self.starts.append(iv.start)
                self.ends.append(iv.end)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        i = bisect_right(self.ends, start)
        return i < len(self.starts) and self.starts[i] < end


def free_slots(
    *,
    ranges: Sequence[WorkingRange],
    zone: ZoneInfo,
    busy: Sequence[Interval],
    start: datetime,
    end: datetime,
    duration: timedelta,
    rules: BookingRules,
    now: datetime,
) -> list[Interval]:
    """Bookable slots of ``duration`` that overlap ``[start, end)``.

    Candidates start at each working interval's start and step by
    ``rules.slot_step_minutes`` of elapsed time while they fit in the interval.
    A candidate is kept when it overlaps the window, starts at or after
    ``now + min_notice``, starts before ``now + horizon_days``, and, widened
    by the buffers, overlaps no busy interval (touching is not overlapping).

    Args:
        ranges: The calendar's working ranges, resolved in ``zone``.
        busy: Pending or confirmed appointments and blocks, as-is.
        start: Aware start of the query window; ``end`` is exclusive.
        duration: Slot length; must be positive.
        now: The current instant (aware), for notice and horizon.

    Returns:
        Slots sorted by start, without duplicates, in UTC.

    Raises:
        ValueError: On naive datetimes or a non-positive duration.
    """
    _require_aware(start=start, end=end, now=now)
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    step = timedelta(minutes=rules.slot_step_minutes)
    before = timedelta(minutes=rules.buffer_before_minutes)
    after = timedelta(minutes=rules.buffer_after_minutes)
    not_before = now + timedelta(minutes=rules.min_notice_minutes)
    horizon = now + timedelta(days=rules.horizon_days)
    # Every kept slot overlaps this narrower window, so no working interval outside it matters.
    lo, hi = max(start, not_before), min(end, horizon)
    if lo >= hi:
        return []
    index = _BusyIndex(busy)
    found: set[tuple[datetime, datetime]] = set()
    for ws_iv in working_intervals(ranges, zone, lo, hi):
        ws, we = ws_iv.start, ws_iv.end
        k = max(0, (max(start - duration, not_before) - ws) // step)  # a lower bound only
        s = ws + k * step
        while s + duration <= we and s < hi:
            e = s + duration
            if e > start and s >= not_before and not index.overlaps(s - before, e + after):
                found.add((s, e))
            k += 1
            s = ws + k * step
    return [Interval(s, e) for s, e in sorted(found)]


def check_bookable(
    *,
    ranges: Sequence[WorkingRange],
    zone: ZoneInfo,
    busy: Sequence[Interval],
    slot: Interval,
    rules: BookingRules,
    now: datetime,
) -> str | None:
    """Check a user's booking against the calendar's rules.

    The slot must lie inside working time: inside one working interval or
    inside a chain of touching ones (Mon 22:00-24:00 + Tue 00:00-02:00 accepts
    23:00-01:00). It need not be aligned to the slot step. Overlap with
    appointments is left to the database; here ``busy`` only serves the
    buffers: a busy interval that the bare slot misses but the slot widened by
    the buffers overlaps breaks ``"buffer"``.

    Args:
        ranges: The calendar's working ranges, resolved in ``zone``.
        busy: Pending or confirmed appointments and blocks, minus the one
            being moved when updating.
        slot: The requested appointment; ``now`` is the current instant.

    Returns:
        None when allowed, else the first broken rule in this order:
        ``"working_hours"``, ``"min_notice"``, ``"horizon"``, ``"buffer"``.
    """
    _require_aware(now=now)
    reach = slot.start
    for iv in working_intervals(ranges, zone, slot.start, slot.end):
        if iv.start <= reach < iv.end:
            reach = iv.end
        if reach >= slot.end:
            break
    if reach < slot.end:
        return "working_hours"
    if slot.start < now + timedelta(minutes=rules.min_notice_minutes):
        return "min_notice"
    if slot.start >= now + timedelta(days=rules.horizon_days):
        return "horizon"
    before = timedelta(minutes=rules.buffer_before_minutes)
    after = timedelta(minutes=rules.buffer_after_minutes)
    if before or after:
        for b in busy:
            bare = b.start < slot.end and b.end > slot.start
            if not bare and b.start < slot.end + after and b.end > slot.start - before:
                return "buffer"
    return None
