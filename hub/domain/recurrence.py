"""Recurring appointments: an RFC 5545 RRULE subset, expanded in wall-clock time, free of I/O.

A rule is an RRULE value (an ``RRULE:`` prefix is accepted, names and values
in any case) made of ``FREQ`` (``DAILY``, ``WEEKLY``, ``MONTHLY``),
``INTERVAL``, ``COUNT`` or ``UNTIL`` (exactly one), ``BYDAY`` and
``BYMONTHDAY``. Anything else is refused with a :class:`RecurrenceError`
whose ``message`` a client can read: another part or frequency, a repeated
part, an empty or malformed value, a ``BYDAY`` ordinal (``1MO``, ``-1FR``,
from 1 to 5 either way) without ``MONTHLY``, ``BYMONTHDAY`` with ``WEEKLY``
(RFC 5545 §3.3.10 forbids it), and more occurrences than the series limit.

Expansion, in the calendar's IANA zone:

- The first start is always the first occurrence and counts toward
  ``COUNT`` (RFC 5545 §3.8.5.3), even when it does not match the rule.
- python-dateutil's ``rrule`` does the calendar arithmetic on naive local
  dates (week start Monday; invalid dates such as 31 April are skipped).
  Every occurrence takes the first one's local time of day, resolved with
  PEP 495 ``fold=0``: a time in a spring-forward gap moves forward by the
  gap (New York 02:30 on 2027-03-14 is 03:30 EDT, 07:30Z), a time that
  occurs twice takes its first occurrence. Each lasts the first one's
  duration in elapsed time. A date a zone skipped entirely (Samoa, 30
  December 2011) lands on the next date's occurrence: it counts toward
  ``COUNT`` but, as a duplicate, is dropped (RFC 5545 §3.8.5.3).
- ``UNTIL`` is inclusive. A UTC time (``20270301T090000Z``) bounds the
  occurrences' starts; a date (``20270301``) keeps the occurrences whose
  local date is that date or earlier. A floating time (``20270301T090000``,
  no ``Z``) is refused: RFC 5545 requires UTC when the start has a zone, and
  guessing which zone the client meant would move the end silently.
- Occurrences stay before 3000-01-01 UTC, the end of the hub's time range.

:func:`shift_wall` moves a start by an amount of wall-clock time with the
same gap and fold rules, so a series update keeps 10:00 at 11:00 on either
side of a daylight-saving change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import rrule as du

_PREFIX = "RRULE:"
_MAX_TEXT = 1000
_PARTS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_NUMBER = re.compile(r"[0-9]{1,12}")
_BYDAY = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_MONTHDAY = re.compile(r"[+-]?[0-9]{1,2}")
_UNTIL = re.compile(r"([0-9]{8})(?:T([0-9]{6})(Z?))?")
# The wire accepts times up to 2999-12-31 UTC; no occurrence may leave that range.
_END_OF_TIME = datetime(3000, 1, 1, tzinfo=UTC)
# dateutil looks for the next match until the year 9999 before it gives up: about
# 0.7 s for a rule that never matches again (DAILY;INTERVAL=7;BYDAY=TU from a
# Monday). The Gregorian calendar repeats every 400 years (146,097 days, exactly
# 20,871 weeks), so the rule is expanded 17 cycles later and every date moved
# back: the search then stops at 3199, late enough to see a series leave 2999.
_CYCLE_SHIFT_YEARS = 17 * 400
_SEARCH_END = datetime(9999 - _CYCLE_SHIFT_YEARS, 12, 31, 23, 59, 59)


class RecurrenceError(ValueError):
    """A recurrence the hub refuses; ``message`` is one sentence for the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Frequency(StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


_DATEUTIL_FREQ: dict[Frequency, Literal[1, 2, 3]] = {
    Frequency.DAILY: du.DAILY,
    Frequency.WEEKLY: du.WEEKLY,
    Frequency.MONTHLY: du.MONTHLY,
}


@dataclass(frozen=True)
class ByDay:
    """One ``BYDAY`` entry: a weekday (Monday = 0), with an ordinal in the month or not."""

    weekday: int
    ordinal: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be between 0 and 6")

    def __str__(self) -> str:
        return f"{self.ordinal or ''}{_WEEKDAYS[self.weekday]}"


@dataclass(frozen=True, kw_only=True)
class Recurrence:
    """A parsed rule; ``str(rule)`` is its canonical RRULE text, without the prefix.

    ``until`` is an aware UTC datetime or a local date. ``max_occurrences`` is
    the series limit the rule was checked against, so that :func:`expand`
    can enforce it for ``UNTIL`` too.
    """

    freq: Frequency
    interval: int = 1
    count: int | None = None
    until: datetime | date | None = None
    by_day: tuple[ByDay, ...] = ()
    by_month_day: tuple[int, ...] = ()
    max_occurrences: int

    def __post_init__(self) -> None:
        if self.max_occurrences < 1:
            raise ValueError("max_occurrences must be at least 1")
        if isinstance(self.until, datetime) and self.until.utcoffset() != timedelta(0):
            raise ValueError("a datetime UNTIL must be in UTC")
        _check_combination(self)

    def __str__(self) -> str:
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if isinstance(self.until, datetime):
            parts.append(f"UNTIL={self.until:%Y%m%dT%H%M%SZ}")
        elif self.until is not None:
            parts.append(f"UNTIL={self.until:%Y%m%d}")
        if self.by_day:
            parts.append("BYDAY=" + ",".join(map(str, self.by_day)))
        if self.by_month_day:
            parts.append("BYMONTHDAY=" + ",".join(map(str, self.by_month_day)))
        return ";".join(parts)


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a series: aware UTC ``[starts_at, ends_at)``."""

    starts_at: datetime
    ends_at: datetime


def parse_recurrence(text: str, max_occurrences: int) -> Recurrence:
    """Parse an RRULE value into a :class:`Recurrence`.

    Raises:
        RecurrenceError: the text is outside the supported subset, malformed,
            or allows more than ``max_occurrences`` occurrences by ``COUNT``.
    """
    if len(text) > _MAX_TEXT:
        raise RecurrenceError(f"The recurrence is longer than {_MAX_TEXT} characters.")
    body = text.strip().upper()
    body = body.removeprefix(_PREFIX)
    if not body:
        raise RecurrenceError("The recurrence is empty; give a rule such as FREQ=WEEKLY;COUNT=10.")
    parts = _split_parts(body)
    if "FREQ" not in parts:
        raise RecurrenceError("The recurrence needs FREQ=DAILY, FREQ=WEEKLY or FREQ=MONTHLY.")
    return Recurrence(
        freq=_frequency(parts["FREQ"]),
        interval=_whole_number("INTERVAL", parts.get("INTERVAL", "1")),
        count=_whole_number("COUNT", parts["COUNT"]) if "COUNT" in parts else None,
        until=_until(parts["UNTIL"]) if "UNTIL" in parts else None,
        by_day=_by_day(parts["BYDAY"]) if "BYDAY" in parts else (),
        by_month_day=_by_month_day(parts["BYMONTHDAY"]) if "BYMONTHDAY" in parts else (),
        max_occurrences=max_occurrences,
    )


def expand(
    rule: Recurrence, first_start: datetime, duration: timedelta, zone: ZoneInfo
) -> list[Occurrence]:
    """Every occurrence of ``rule`` from ``first_start``, in start order (module docstring).

    Raises:
        RecurrenceError: ``UNTIL`` is before the first start, the rule gives more
            than ``rule.max_occurrences`` occurrences, or one would end after 2999.
    """
    if first_start.tzinfo is None:
        raise ValueError("first_start must be timezone-aware")
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    first = first_start.astimezone(UTC)
    if first + duration > _END_OF_TIME:
        raise RecurrenceError("The series would run past 2999-12-31; end it sooner.")
    wall = _wall(first, zone)
    _check_until_not_before(rule, first, wall.date())
    starts = [first]
    counted = 1
    dates = _later_dates(rule, wall)
    while counted != rule.count and (day := next(dates, None)) is not None:
        start = _resolve(datetime.combine(day, wall.time()), zone)
        if isinstance(rule.until, datetime) and start > rule.until:
            break  # starts never decrease from one date to the next, so none later fits
        if start + duration > _END_OF_TIME:
            raise RecurrenceError("The series would run past 2999-12-31; end it sooner.")
        counted += 1
        if start == starts[-1]:
            continue  # a whole day in a gap lands on the next one; RFC 5545 drops duplicates
        if len(starts) == rule.max_occurrences:
            raise RecurrenceError(
                f"This rule gives more than {rule.max_occurrences} occurrences, "
                "the most a series may have."
            )
        starts.append(start)
    return [Occurrence(start, start + duration) for start in starts]


def shift_wall(start: datetime, delta: timedelta, zone: ZoneInfo) -> datetime:
    """``start`` moved by ``delta`` of wall-clock time in ``zone``, as aware UTC.

    10:00 + 1 h is 11:00 local whatever the offset on that date; a result in a
    gap moves forward by the gap, one that occurs twice is its first occurrence.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if not delta:
        return start.astimezone(UTC)
    return _resolve(_wall(start, zone) + delta, zone)


def wall_delta(before: datetime, after: datetime, zone: ZoneInfo) -> timedelta:
    """How far ``after`` is from ``before`` on the wall clock in ``zone``: a shift_wall delta."""
    return _wall(after, zone) - _wall(before, zone)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def _resolve(wall: datetime, zone: ZoneInfo) -> datetime:
    """A naive local time as aware UTC: fold=0 takes the offset before any transition."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _later_dates(rule: Recurrence, wall: datetime) -> Iterator[date]:
    """The local dates the rule gives after the first one's, from dateutil, lazily."""
    shift = _CYCLE_SHIFT_YEARS
    horizon = _SEARCH_END
    if isinstance(rule.until, datetime):
        # A day of margin, as local times run ahead of UTC by up to 14 hours:
        # expand() checks the exact bound on each resolved start.
        if rule.until < _END_OF_TIME:
            horizon = rule.until.replace(tzinfo=None) + timedelta(days=1)
    elif rule.until is not None:
        horizon = min(horizon, datetime.combine(rule.until, time.max))
    dates = du.rrule(
        _DATEUTIL_FREQ[rule.freq],
        dtstart=wall.replace(year=wall.year + shift),
        interval=rule.interval,
        wkst=du.MO,
        until=horizon.replace(year=horizon.year + shift),
        byweekday=_dateutil_weekdays(rule),
        bymonthday=list(rule.by_month_day) or None,
        cache=False,
    )
    for found in dates:
        day = found.date().replace(year=found.year - shift)
        if day != wall.date():  # dateutil yields the first date when it matches the rule
            yield day


def _dateutil_weekdays(rule: Recurrence) -> list[du.weekday] | None:
    """BYDAY for dateutil, which keeps only the days that fit a plain weekday *and* an
    ordinal one (BYDAY=1WE,FR: first Wednesdays that are Fridays, so none) where RFC
    5545 means either; so beside any ordinal, a plain weekday goes as its 1st to 5th."""
    if not any(d.ordinal for d in rule.by_day):
        return [du.weekdays[d.weekday] for d in rule.by_day] or None
    return [
        du.weekdays[d.weekday](n)
        for d in rule.by_day
        for n in ([d.ordinal] if d.ordinal else range(1, 6))
    ]


def _check_until_not_before(rule: Recurrence, first: datetime, first_day: date) -> None:
    if isinstance(rule.until, datetime):
        too_early = rule.until < first
    else:
        too_early = rule.until is not None and rule.until < first_day
    if too_early:
        raise RecurrenceError("UNTIL is before the first occurrence.")


def _check_combination(rule: Recurrence) -> None:
    """The checks across parts, for parsed and constructed rules alike."""
    if rule.interval < 1:
        raise RecurrenceError("INTERVAL must be a whole number of at least 1.")
    if rule.count is None and rule.until is None:
        raise RecurrenceError("The recurrence needs COUNT or UNTIL to end it.")
    if rule.count is not None and rule.until is not None:
        raise RecurrenceError("Give COUNT or UNTIL, not both.")
    if rule.count is not None and not 1 <= rule.count <= rule.max_occurrences:
        raise RecurrenceError(
            f"COUNT must be from 1 to {rule.max_occurrences}, the most a series may have."
        )
    if rule.freq is not Frequency.MONTHLY and any(d.ordinal for d in rule.by_day):
        raise RecurrenceError("BYDAY takes an ordinal (1MO, -1FR) only with FREQ=MONTHLY.")
    if any(d.ordinal is not None and not 1 <= abs(d.ordinal) <= 5 for d in rule.by_day):
        raise RecurrenceError("A BYDAY ordinal runs from 1 to 5, or -1 to -5 from the month's end.")
    if rule.freq is Frequency.WEEKLY and rule.by_month_day:
        raise RecurrenceError("BYMONTHDAY cannot be used with FREQ=WEEKLY.")
    if any(not 1 <= abs(d) <= 31 for d in rule.by_month_day):
        raise RecurrenceError("BYMONTHDAY values run from 1 to 31, or -1 to -31.")


def _split_parts(body: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for item in body.split(";"):
        name, equals, value = item.partition("=")
        if not item:
            raise RecurrenceError("The recurrence has an empty part (';;' or a ';' at an end).")
        if not equals or not name:
            raise RecurrenceError(f"'{_clip(item)}' is not a NAME=VALUE part of a recurrence.")
        if not value:
            raise RecurrenceError(f"{_clip(name)} has an empty value.")
        if name not in _PARTS:
            raise RecurrenceError(
                f"{_clip(name)} is not supported; use FREQ, INTERVAL, COUNT, UNTIL, "
                "BYDAY and BYMONTHDAY."
            )
        if name in parts:
            raise RecurrenceError(f"{name} appears more than once in the recurrence.")
        parts[name] = value
    return parts


def _frequency(value: str) -> Frequency:
    try:
        return Frequency(value)
    except ValueError:
        raise RecurrenceError(
            f"FREQ={_clip(value)} is not supported; use DAILY, WEEKLY or MONTHLY."
        ) from None


def _whole_number(name: str, value: str) -> int:
    if not _NUMBER.fullmatch(value) or int(value) < 1:
        raise RecurrenceError(f"{name} must be a whole number of at least 1.")
    return int(value)


def _until(value: str) -> datetime | date:
    match = _UNTIL.fullmatch(value)
    if not match or (match[2] and not match[3]):
        raise RecurrenceError("UNTIL must be a date (20270301) or a UTC time (20270301T090000Z).")
    try:
        if match[2]:
            return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise RecurrenceError(f"UNTIL={_clip(value)} is not a real date or time.") from None


def _by_day(value: str) -> tuple[ByDay, ...]:
    days = set()
    for item in value.split(","):
        match = _BYDAY.fullmatch(item)
        if not match:
            raise RecurrenceError(
                f"BYDAY={_clip(item)} is not a weekday; use MO, TU, WE, TH, FR, SA or SU, "
                "with an ordinal such as 1MO or -1FR for MONTHLY."
            )
        ordinal = int(match[1]) if match[1] else None
        days.add(ByDay(_WEEKDAYS.index(match[2]), ordinal))
    return tuple(sorted(days, key=lambda d: (d.weekday, d.ordinal or 0)))


def _by_month_day(value: str) -> tuple[int, ...]:
    days = set()
    for item in value.split(","):
        if not _MONTHDAY.fullmatch(item):
            raise RecurrenceError(f"BYMONTHDAY={_clip(item)} is not a day of the month.")
        days.add(int(item))
    return tuple(sorted(days))


def _clip(text: str) -> str:
    """Client text for a message, cut short so that an error never echoes a whole payload."""
    return text if len(text) <= 40 else text[:40] + "…"
