"""Unit tests for hub.availability: working hours, DST, slots and booking checks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.domain.availability import (
    BookingRules,
    Interval,
    WorkingHoursError,
    WorkingRange,
    check_bookable,
    free_slots,
    parse_working_hours,
    validate_timezone,
    working_hours_to_wire,
    working_intervals,
)

NOW = datetime(2027, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
WIDE = BookingRules(slot_step_minutes=60, horizon_days=3650)


def z(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def every_day(start: str, end: str) -> list[WorkingRange]:
    return parse_working_hours([{"weekday": d, "start": start, "end": end} for d in range(7)])


def starts(slots: list[Interval]) -> list[datetime]:
    return [s.start for s in slots]


def slots(
    ranges: list[WorkingRange],
    zone: str,
    start: datetime,
    end: datetime,
    *,
    minutes: int = 60,
    rules: BookingRules = WIDE,
    busy: list[Interval] | None = None,
    now: datetime = NOW,
) -> list[Interval]:
    return free_slots(
        ranges=ranges,
        zone=ZoneInfo(zone),
        busy=busy or [],
        start=start,
        end=end,
        duration=timedelta(minutes=minutes),
        rules=rules,
        now=now,
    )


BERLIN_WEEK = parse_working_hours(
    [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
)


def test_berlin_friday_before_spring_forward() -> None:
    """Berlin 09:00-17:00 on Friday 2027-03-26 (UTC+1) gives hourly starts 08:00Z..15:00Z."""
    got = slots(BERLIN_WEEK, "Europe/Berlin", z(2027, 3, 26), z(2027, 3, 27))
    assert starts(got) == [z(2027, 3, 26, h) for h in range(8, 16)]
    assert all(s.end - s.start == HOUR for s in got)


def test_berlin_monday_after_spring_forward() -> None:
    """Berlin 09:00-17:00 on Monday 2027-03-29 (UTC+2) gives hourly starts 07:00Z..14:00Z."""
    got = slots(BERLIN_WEEK, "Europe/Berlin", z(2027, 3, 29), z(2027, 3, 30))
    assert starts(got) == [z(2027, 3, 29, h) for h in range(7, 15)]


def test_new_york_spring_forward_day_has_23_slots() -> None:
    """A 00:00-24:00 day in New York on 2027-03-14 has 23 elapsed-hour slots, none at 02:00."""
    zone = ZoneInfo("America/New_York")
    got = slots(
        every_day("00:00", "24:00"), "America/New_York", z(2027, 3, 14, 5), z(2027, 3, 15, 4)
    )
    assert starts(got) == [z(2027, 3, 14, 5) + k * HOUR for k in range(23)]
    local = [s.start.astimezone(zone) for s in got]
    assert all(t.hour != 2 for t in local)
    assert (local[1].hour, local[1].utcoffset()) == (1, timedelta(hours=-5))
    assert (got[2].start, local[2].hour) == (z(2027, 3, 14, 7), 3)
    assert local[2].utcoffset() == timedelta(hours=-4)


def test_chicago_fall_back_night_repeats_one_am() -> None:
    """Chicago 00:00-06:00 on 2027-11-07 (25-hour day) gives 7 slots, 01:00 local twice."""
    got = slots(every_day("00:00", "06:00"), "America/Chicago", z(2027, 11, 7), z(2027, 11, 8))
    assert starts(got) == [z(2027, 11, 7, h) for h in range(5, 12)]
    hours = [s.start.astimezone(ZoneInfo("America/Chicago")).hour for s in got]
    assert hours == [0, 1, 1, 2, 3, 4, 5]


def test_offset_is_taken_on_the_day_not_today() -> None:
    """Berlin 09:00 resolves to 08:00Z on 2027-01-15 and to 07:00Z on 2027-07-15."""
    zone = ZoneInfo("Europe/Berlin")
    winter = working_intervals(every_day("09:00", "10:00"), zone, z(2027, 1, 15), z(2027, 1, 16))
    summer = working_intervals(every_day("09:00", "10:00"), zone, z(2027, 7, 15), z(2027, 7, 16))
    assert winter == [Interval(z(2027, 1, 15, 8), z(2027, 1, 15, 9))]
    assert summer == [Interval(z(2027, 7, 15, 7), z(2027, 7, 15, 8))]


def test_sydney_range_lands_on_previous_utc_day() -> None:
    """Sydney 08:00-12:00 starts at 21:00Z (AEDT) or 22:00Z (AEST) of the previous UTC day."""
    zone = ZoneInfo("Australia/Sydney")
    ranges = every_day("08:00", "12:00")
    jan = working_intervals(ranges, zone, z(2027, 1, 14), z(2027, 1, 15))
    jul = working_intervals(ranges, zone, z(2027, 7, 14), z(2027, 7, 15))
    assert jan == [
        Interval(z(2027, 1, 13, 21), z(2027, 1, 14, 1)),
        Interval(z(2027, 1, 14, 21), z(2027, 1, 15, 1)),
    ]
    assert jul == [
        Interval(z(2027, 7, 13, 22), z(2027, 7, 14, 2)),
        Interval(z(2027, 7, 14, 22), z(2027, 7, 15, 2)),
    ]


def test_kolkata_half_hour_offset_crosses_utc_midnight() -> None:
    """Kolkata 04:00-07:00 (+05:30) on Friday 2027-01-15 gives 22:30Z, 23:30Z, 00:30Z."""
    ranges = parse_working_hours([{"weekday": 4, "start": "04:00", "end": "07:00"}])
    got = slots(ranges, "Asia/Kolkata", z(2027, 1, 14), z(2027, 1, 16))
    assert starts(got) == [z(2027, 1, 14, 22, 30), z(2027, 1, 14, 23, 30), z(2027, 1, 15, 0, 30)]


UTC_MON = parse_working_hours([{"weekday": 0, "start": "09:00", "end": "13:00"}])
APPT = Interval(z(2027, 1, 4, 10), z(2027, 1, 4, 11))


def test_buffers_remove_exactly_the_neighbouring_slots() -> None:
    """With 15-minute buffers, 30-minute slots on a 15-minute step keep only 09:00-09:15, 11:15+."""
    rules = BookingRules(slot_step_minutes=15, buffer_before_minutes=15, buffer_after_minutes=15)
    got = slots(UTC_MON, "UTC", z(2027, 1, 4), z(2027, 1, 5), minutes=30, rules=rules, busy=[APPT])
    expected = [(9, 0), (9, 15), (11, 15), (11, 30), (11, 45), (12, 0), (12, 15), (12, 30)]
    assert starts(got) == [z(2027, 1, 4, h, m) for h, m in expected]


def test_without_buffers_touching_busy_is_free() -> None:
    """Without buffers, slots that only touch a busy interval are kept (half-open)."""
    rules = BookingRules(slot_step_minutes=15)
    got = slots(UTC_MON, "UTC", z(2027, 1, 4), z(2027, 1, 5), minutes=30, rules=rules, busy=[APPT])
    expected = [(9, 0), (9, 15), (9, 30), (11, 0), (11, 15), (11, 30), (11, 45), (12, 0)]
    expected += [(12, 15), (12, 30)]
    assert starts(got) == [z(2027, 1, 4, h, m) for h, m in expected]


def test_min_notice_and_horizon_cut_exactly() -> None:
    """Min notice drops slots before now+notice; the horizon drops slots from now+horizon on."""
    ranges = every_day("09:00", "12:00")
    now = z(2027, 1, 4, 8, 30)
    rules = BookingRules(slot_step_minutes=60, min_notice_minutes=60, horizon_days=2)
    got = slots(ranges, "UTC", z(2027, 1, 4), z(2027, 1, 9), rules=rules, now=now)
    expected = [z(2027, 1, 4, 10), z(2027, 1, 4, 11)] + [z(2027, 1, 5, h) for h in (9, 10, 11)]
    assert starts(got) == expected


def test_boundaries_of_notice_and_horizon() -> None:
    """A slot exactly at now+notice is kept; one exactly at now+horizon is excluded."""
    ranges = every_day("09:00", "10:00")
    rules = BookingRules(slot_step_minutes=60, min_notice_minutes=0, horizon_days=1)
    got = slots(ranges, "UTC", z(2027, 1, 4), z(2027, 1, 9), rules=rules, now=z(2027, 1, 4, 9))
    assert starts(got) == [z(2027, 1, 4, 9)]


def test_window_keeps_partially_overlapping_slots() -> None:
    """Slots that only partly overlap the query window are returned."""
    got = slots(UTC_MON, "UTC", z(2027, 1, 4, 9, 30), z(2027, 1, 4, 10, 30))
    assert starts(got) == [z(2027, 1, 4, 9), z(2027, 1, 4, 10)]


def test_step_restarts_at_each_range() -> None:
    """Touching ranges are not merged: stepping restarts at the second range's start."""
    ranges = parse_working_hours(
        [
            {"weekday": 0, "start": "09:00", "end": "10:10"},
            {"weekday": 0, "start": "10:10", "end": "12:00"},
        ]
    )
    rules = BookingRules(slot_step_minutes=30)
    got = slots(ranges, "UTC", z(2027, 1, 4), z(2027, 1, 5), minutes=30, rules=rules)
    expected = [(9, 0), (9, 30), (10, 10), (10, 40), (11, 10)]
    assert starts(got) == [z(2027, 1, 4, h, m) for h, m in expected]


def test_gap_and_fold_resolution() -> None:
    """A start in the spring gap moves forward (fold=0); an ambiguous end takes its first moment."""
    ny = ZoneInfo("America/New_York")
    gap = parse_working_hours(
        [
            {"weekday": 6, "start": "02:00", "end": "03:00"},
            {"weekday": 6, "start": "03:00", "end": "05:00"},
        ]
    )
    got = working_intervals(gap, ny, z(2027, 3, 14, 6), z(2027, 3, 14, 10))
    assert got == [Interval(z(2027, 3, 14, 7), z(2027, 3, 14, 9))]
    inside = parse_working_hours([{"weekday": 6, "start": "02:30", "end": "05:00"}])
    got = working_intervals(inside, ny, z(2027, 3, 14, 6), z(2027, 3, 14, 10))
    assert got == [Interval(z(2027, 3, 14, 7, 30), z(2027, 3, 14, 9))]
    fold = parse_working_hours([{"weekday": 6, "start": "00:00", "end": "01:30"}])
    got = working_intervals(fold, ZoneInfo("America/Chicago"), z(2027, 11, 7), z(2027, 11, 8))
    assert got == [Interval(z(2027, 11, 7, 5), z(2027, 11, 7, 6, 30))]


def test_results_are_utc_and_unique() -> None:
    """Output is in timezone.utc even when inputs use other offsets."""
    berlin = ZoneInfo("Europe/Berlin")
    busy = [
        Interval(datetime(2027, 1, 4, 11, tzinfo=berlin), datetime(2027, 1, 4, 12, tzinfo=berlin))
    ]
    start = datetime(2027, 1, 4, 1, tzinfo=berlin)
    got = slots(UTC_MON, "UTC", start, z(2027, 1, 5), busy=busy)
    assert starts(got) == [z(2027, 1, 4, h) for h in (9, 11, 12)]
    assert all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in got)


def test_naive_datetimes_are_rejected() -> None:
    """Naive datetimes are a programming error, not silently read as UTC."""
    with pytest.raises(ValueError):
        slots(UTC_MON, "UTC", datetime(2027, 1, 4), z(2027, 1, 5))
    with pytest.raises(ValueError):
        Interval(datetime(2027, 1, 4), z(2027, 1, 5))


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"weekday": 0}, "working_hours"),
        ([["x"]], "working_hours[0]"),
        ([{"weekday": 7, "start": "09:00", "end": "10:00"}], "working_hours[0].weekday"),
        ([{"weekday": -1, "start": "09:00", "end": "10:00"}], "working_hours[0].weekday"),
        ([{"weekday": "1", "start": "09:00", "end": "10:00"}], "working_hours[0].weekday"),
        ([{"weekday": True, "start": "09:00", "end": "10:00"}], "working_hours[0].weekday"),
        ([{"weekday": 1, "start": "9:00", "end": "10:00"}], "working_hours[0].start"),
        ([{"weekday": 1, "start": "09:00:00", "end": "10:00"}], "working_hours[0].start"),
        ([{"weekday": 1, "start": "24:00", "end": "24:00"}], "working_hours[0].start"),
        ([{"weekday": 1, "start": 900, "end": "10:00"}], "working_hours[0].start"),
        ([{"weekday": 1, "start": "09:00", "end": "24:30"}], "working_hours[0].end"),
        ([{"weekday": 1, "start": "10:00", "end": "09:00"}], "working_hours[0].end"),
        ([{"weekday": 1, "start": "10:00", "end": "10:00"}], "working_hours[0].end"),
        ([{"weekday": 1, "start": "09:00"}], "working_hours[0].end"),
        ([{"weekday": 1, "start": "09:00", "end": "10:00", "tz": "UTC"}], "working_hours[0].tz"),
        (
            [
                {"weekday": 2, "start": "09:00", "end": "12:00"},
                {"weekday": 1, "start": "09:00", "end": "12:00"},
                {"weekday": 2, "start": "11:00", "end": "13:00"},
            ],
            "working_hours[2].start",
        ),
    ],
)
def test_parse_working_hours_names_the_field(value: object, field: str) -> None:
    """Every kind of invalid working hours raises WorkingHoursError naming the exact field."""
    with pytest.raises(WorkingHoursError) as info:
        parse_working_hours(value)
    assert info.value.field == field
    assert info.value.message


def test_parse_uses_the_given_field_prefix() -> None:
    """The field prefix is configurable for nested request fields."""
    with pytest.raises(WorkingHoursError) as info:
        parse_working_hours([{"weekday": 9, "start": "09:00", "end": "10:00"}], "data.hours")
    assert info.value.field == "data.hours[0].weekday"


def test_working_hours_round_trip_with_midnight_end() -> None:
    """Valid hours (touching ranges, "24:00" end) parse, sort and render back unchanged."""
    wire: list[dict[str, object]] = [
        {"weekday": 1, "start": "13:00", "end": "24:00"},
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 1, "start": "00:00", "end": "13:00"},
    ]
    ranges = parse_working_hours(wire)
    assert ranges[2] == WorkingRange(1, time(13), None)
    assert working_hours_to_wire(ranges) == [wire[1], wire[2], wire[0]]
    assert parse_working_hours(working_hours_to_wire(ranges)) == ranges


LATE = parse_working_hours(
    [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "14:00", "end": "16:00"},
        {"weekday": 0, "start": "22:00", "end": "24:00"},
        {"weekday": 1, "start": "00:00", "end": "02:00"},
    ]
)


@pytest.mark.parametrize(
    ("slot", "now", "rules", "expected"),
    [
        ((z(2027, 1, 4, 9), z(2027, 1, 4, 12)), NOW, BookingRules(), None),
        ((z(2027, 1, 4, 23), z(2027, 1, 5, 1)), NOW, BookingRules(), None),
        ((z(2027, 1, 4, 8, 30), z(2027, 1, 4, 9, 30)), NOW, BookingRules(), "working_hours"),
        ((z(2027, 1, 4, 11), z(2027, 1, 4, 15)), NOW, BookingRules(), "working_hours"),
        ((z(2027, 1, 5, 1), z(2027, 1, 5, 3)), NOW, BookingRules(), "working_hours"),
        (
            (z(2027, 1, 4, 8), z(2027, 1, 4, 9)),
            z(2027, 1, 4, 8, 30),
            BookingRules(),
            "working_hours",
        ),
        ((z(2027, 1, 4, 9), z(2027, 1, 4, 10)), z(2027, 1, 4, 9), BookingRules(), None),
        (
            (z(2027, 1, 4, 9), z(2027, 1, 4, 10)),
            z(2027, 1, 4, 8, 30),
            BookingRules(min_notice_minutes=31),
            "min_notice",
        ),
        ((z(2027, 1, 4, 9), z(2027, 1, 4, 10)), NOW, BookingRules(horizon_days=3), "horizon"),
        (
            (z(2027, 1, 4, 9), z(2027, 1, 4, 10)),
            z(2027, 1, 1, 9),
            BookingRules(horizon_days=3),
            "horizon",
        ),
        (
            (z(2027, 1, 4, 11), z(2027, 1, 4, 12)),
            NOW,
            BookingRules(buffer_after_minutes=1),
            "buffer",
        ),
        ((z(2027, 1, 4, 14), z(2027, 1, 4, 15)), NOW, BookingRules(buffer_after_minutes=1), None),
    ],
)
def test_check_bookable(
    slot: tuple[datetime, datetime], now: datetime, rules: BookingRules, expected: str | None
) -> None:
    """check_bookable names the first broken rule (working hours, notice, horizon, buffer)."""
    busy = [Interval(z(2027, 1, 4, 12), z(2027, 1, 4, 13))]
    got = check_bookable(
        ranges=LATE, zone=ZoneInfo("UTC"), busy=busy, slot=Interval(*slot), rules=rules, now=now
    )
    assert got == expected


def test_check_bookable_uses_the_calendar_zone() -> None:
    """Working hours for check_bookable are resolved in the calendar's zone on that day."""
    berlin = ZoneInfo("Europe/Berlin")
    summer = Interval(z(2027, 7, 15, 7), z(2027, 7, 15, 8))
    winter = Interval(z(2027, 1, 15, 7), z(2027, 1, 15, 8))
    got = [
        check_bookable(ranges=BERLIN_WEEK, zone=berlin, busy=[], slot=s, rules=WIDE, now=NOW)
        for s in (summer, winter)
    ]
    assert got == [None, "working_hours"]


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Base",
        "",
        5,
        None,
        "../etc/passwd",
        "/etc/localtime",
        "Europe/../UTC",
        "zone.tab",
        "localtime",
        "America",
    ],
)
def test_validate_timezone_rejects(name: object) -> None:
    """Unknown, empty, non-string and path-like zone names are rejected."""
    with pytest.raises(ValueError, match="unknown time zone"):
        validate_timezone(name)


def test_validate_timezone_accepts_iana_names() -> None:
    """Real IANA names load, including ones with signs and digits."""
    assert validate_timezone("Europe/Berlin").key == "Europe/Berlin"
    assert validate_timezone("Etc/GMT+5").key == "Etc/GMT+5"
    assert validate_timezone("UTC").key == "UTC"
