"""Recurring appointments that keep their local time, all or nothing, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.conftest import Account, make_calendar, sign_up
from tests.inproc import InProcessHub
from tests.wsclient import HubClient, session


def z(text: str) -> str:
    """A UTC time as the hub writes it."""
    return datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")


def local(zone: str, text: str) -> str:
    """Wall time in a zone (first occurrence when ambiguous), as the hub's UTC."""
    return z(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).isoformat())


def series_request(
    calendar: dict[str, Any], start: str, minutes: int, rule: str, **extra: Any
) -> dict[str, Any]:
    begin = datetime.fromisoformat(start.replace("Z", "+00:00"))
    return {
        "calendar_id": calendar["id"],
        "starts_at": start,
        "ends_at": z((begin + timedelta(minutes=minutes)).isoformat()),
        "title": "Physiotherapy",
        "recurrence": rule,
        **extra,
    }


def starts(answer: dict[str, Any]) -> list[str]:
    return [a["starts_at"] for a in answer["appointments"]]


async def zoned(admin_ws: HubClient, zone: str) -> dict[str, Any]:
    return await make_calendar(admin_ws, timezone=zone)


async def test_weekly_series_keep_local_time_across_both_changes(admin_ws: HubClient) -> None:
    """Berlin and New York, ten Tuesdays at 10:00 over spring and autumn: always 10:00 local."""
    for zone, spring_start, autumn_start in (
        ("Europe/Berlin", "2027-03-16T10:00:00", "2027-10-19T10:00:00"),
        ("America/New_York", "2027-03-02T10:00:00", "2027-10-26T10:00:00"),
    ):
        calendar = await zoned(admin_ws, zone)
        for first in (spring_start, autumn_start):
            answer = await admin_ws.ok(
                "appointment.create",
                series_request(calendar, local(zone, first), 45, "FREQ=WEEKLY;COUNT=4"),
            )
            begin = datetime.fromisoformat(first)
            expected = [local(zone, (begin + timedelta(weeks=w)).isoformat()) for w in range(4)]
            assert starts(answer) == expected, (zone, first)
            offsets = {datetime.fromisoformat(s.replace("Z", "+00:00")).hour for s in expected}
            assert len(offsets) == 2, "the series crosses a change of offset"
            for a in answer["appointments"]:
                begins = datetime.fromisoformat(a["starts_at"].replace("Z", "+00:00"))
                ends = datetime.fromisoformat(a["ends_at"].replace("Z", "+00:00"))
                assert ends - begins == timedelta(minutes=45)
                assert a["series_id"] == answer["series"]["id"]


async def test_gap_moves_forward_and_a_repeated_hour_takes_its_first(admin_ws: HubClient) -> None:
    """New York 02:30 daily over the spring gap is 03:30 EDT that day; 01:30 in autumn is EDT."""
    calendar = await zoned(admin_ws, "America/New_York")
    spring = await admin_ws.ok(
        "appointment.create",
        series_request(calendar, "2027-03-13T07:30:00Z", 30, "FREQ=DAILY;COUNT=3"),
    )
    assert starts(spring) == [
        "2027-03-13T07:30:00Z",  # 02:30 EST
        "2027-03-14T07:30:00Z",  # 02:30 does not exist: 03:30 EDT
        "2027-03-15T06:30:00Z",  # 02:30 EDT
    ]
    autumn = await admin_ws.ok(
        "appointment.create",
        series_request(calendar, "2027-11-06T05:30:00Z", 30, "FREQ=DAILY;COUNT=3"),
    )
    assert starts(autumn) == [
        "2027-11-06T05:30:00Z",  # 01:30 EDT
        "2027-11-07T05:30:00Z",  # 01:30 happens twice: the first, EDT
        "2027-11-08T06:30:00Z",  # 01:30 EST
    ]


async def test_half_hour_zones_and_lord_howes_half_hour_change(admin_ws: HubClient) -> None:
    """Kolkata, Adelaide and Lord Howe keep 09:00 local across their changes (or lack of them)."""
    cases = [
        ("Asia/Kolkata", "2027-03-01T09:00:00", "FREQ=MONTHLY;COUNT=3"),
        ("Australia/Adelaide", "2027-03-29T09:00:00", "FREQ=WEEKLY;INTERVAL=2;COUNT=4"),
        ("Australia/Lord_Howe", "2027-03-29T09:00:00", "FREQ=WEEKLY;COUNT=3"),
        ("Australia/Lord_Howe", "2027-09-27T09:00:00", "FREQ=WEEKLY;COUNT=3"),
    ]
    for zone, first, rule in cases:
        calendar = await zoned(admin_ws, zone)
        answer = await admin_ws.ok(
            "appointment.create", series_request(calendar, local(zone, first), 60, rule)
        )
        walls = [
            datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
            for s in starts(answer)
        ]
        assert all((w.hour, w.minute) == (9, 0) for w in walls), (zone, walls)
        assert len({w.utcoffset() for w in walls}) == (1 if zone == "Asia/Kolkata" else 2), zone


async def test_a_series_is_all_or_nothing_and_names_every_conflict(
    hub: InProcessHub, api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """One taken occurrence refuses the whole series with details.conflicts; nothing is written."""
    calendar = await make_calendar(admin_ws)
    channel = f"calendar:{calendar['id']}"
    first = "2027-02-01T10:00:00Z"
    taken = series_request(calendar, "2027-02-15T10:30:00Z", 30, "FREQ=DAILY;COUNT=1")
    del taken["recurrence"]
    await admin_ws.ok("appointment.create", taken)
    head = (await admin_ws.ok("appointments.list", {"channel": channel}))["seq"]
    refused = await admin_ws.error(
        "appointment.create", series_request(calendar, first, 60, "FREQ=WEEKLY;COUNT=4")
    )
    assert refused["code"] == "slot_taken"
    assert refused["details"]["conflicts"] == [
        {
            "starts_at": "2027-02-15T10:00:00Z",
            "ends_at": "2027-02-15T11:00:00Z",
            "code": "slot_taken",
        }
    ]
    after = await admin_ws.ok("appointments.list", {"channel": channel})
    assert after["seq"] == head and len(after["appointments"]) == 1


async def test_a_users_series_needs_every_occurrence_bookable(
    hub: InProcessHub, api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """A user's weekly series is refused when one week falls outside working hours or the horizon."""
    weekdays = [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(5)]
    calendar = await make_calendar(admin_ws, working_hours=weekdays, horizon_days=30)
    account = await sign_up(api)
    client = await session(hub.ws_url, account.access_token)
    monday = _next_weekday(0)
    start = f"{monday.isoformat()}T09:00:00Z"
    daily = await client.error(
        "appointment.create", series_request(calendar, start, 30, "FREQ=DAILY;COUNT=7")
    )
    assert daily["code"] == "outside_availability"
    codes = [(c["starts_at"][:10], c["code"]) for c in daily["details"]["conflicts"]]
    assert codes == [
        ((monday + timedelta(days=5)).isoformat(), "outside_availability"),
        ((monday + timedelta(days=6)).isoformat(), "outside_availability"),
    ]
    far = await client.error(
        "appointment.create", series_request(calendar, start, 30, "FREQ=WEEKLY;COUNT=6")
    )
    assert far["code"] == "outside_availability"
    assert len(far["details"]["conflicts"]) >= 1
    ok = await client.ok(
        "appointment.create", series_request(calendar, start, 30, "FREQ=WEEKLY;COUNT=3")
    )
    assert [a["status"] for a in ok["appointments"]] == ["pending"] * 3
    await client.close()


async def test_fifty_two_occurrences_commit_at_once_with_52_events_on_both_channels(
    hub: InProcessHub, api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """A weekly year: one answer, and 52 events in start order with consecutive seqs, twice."""
    calendar = await make_calendar(admin_ws)
    account = await sign_up(api)
    watch = await session(hub.ws_url, account.access_token)
    await watch.ok("subscribe", {"channel": f"user:{account.id}"})
    await admin_ws.ok("subscribe", {"channel": f"calendar:{calendar['id']}"})
    request = series_request(
        calendar, "2027-01-04T08:00:00Z", 30, "FREQ=WEEKLY;COUNT=52", client_id=account.id
    )
    answer = await admin_ws.ok("appointment.create", request)
    assert len(answer["appointments"]) == 52
    for socket in (admin_ws, watch):
        events = await socket.events_until(52)
        assert [e["event"] for e in events] == ["appointment.created"] * 52
        assert [e["data"]["id"] for e in events] == [a["id"] for a in answer["appointments"]]
        assert [e["seq"] for e in events] == list(range(events[0]["seq"], events[0]["seq"] + 52))
    assert answer["seqs"][f"calendar:{calendar['id']}"] == 52
    await admin_ws.ok("unsubscribe", {"channel": f"calendar:{calendar['id']}"})
    await watch.close()


async def test_each_scope_moves_and_cancels_the_right_occurrences(admin_ws: HubClient) -> None:
    """one, following and all; a shift keeps local time across a change; version on the named one."""
    calendar = await zoned(admin_ws, "Europe/Berlin")
    made = await admin_ws.ok(
        "appointment.create",
        series_request(
            calendar, local("Europe/Berlin", "2027-03-16T10:00:00"), 60, "FREQ=WEEKLY;COUNT=4"
        ),
    )
    occurrences = made["appointments"]
    one = await admin_ws.ok(
        "appointment.update",
        {"appointment_id": occurrences[0]["id"], "version": 1, "title": "First visit"},
    )
    assert one["appointment"]["title"] == "First visit" and "appointments" not in one
    second = occurrences[1]
    stale = await admin_ws.error(
        "appointment.update",
        {"appointment_id": second["id"], "version": 7, "title": "x", "scope": "all"},
    )
    assert stale["code"] == "version_conflict"
    moved = await admin_ws.ok(
        "appointment.update",
        {
            "appointment_id": second["id"],
            "version": 1,
            "starts_at": local("Europe/Berlin", "2027-03-23T11:00:00"),
            "ends_at": local("Europe/Berlin", "2027-03-23T12:00:00"),
            "scope": "following",
        },
    )
    walls = [
        datetime.fromisoformat(a["starts_at"].replace("Z", "+00:00")).astimezone(
            ZoneInfo("Europe/Berlin")
        )
        for a in moved["appointments"]
    ]
    assert [(w.day, w.hour) for w in walls] == [(23, 11), (30, 11), (6, 11)]  # across the change
    everything = await admin_ws.ok(
        "appointment.cancel",
        {"appointment_id": occurrences[3]["id"], "scope": "all"},
    )
    assert [a["status"] for a in everything["appointments"]] == ["cancelled"] * 4
    first = everything["appointments"][0]
    assert first["title"] == "First visit" and first["version"] == 3


async def test_a_series_retried_with_its_key_answers_the_same_and_appends_nothing(
    admin_ws: HubClient,
) -> None:
    """The idempotency key covers the whole series; another rule with it is bad_request."""
    calendar = await make_calendar(admin_ws)
    request = series_request(
        calendar, "2027-05-03T09:00:00Z", 30, "FREQ=WEEKLY;COUNT=5", idempotency_key="course-1"
    )
    first = await admin_ws.ok("appointment.create", request)
    again = await admin_ws.ok("appointment.create", request)
    assert again["series"] == first["series"]
    assert [a["id"] for a in again["appointments"]] == [a["id"] for a in first["appointments"]]
    assert again["seqs"] == {}
    snapshot = await admin_ws.ok("appointments.list", {"channel": f"calendar:{calendar['id']}"})
    assert snapshot["seq"] == 5
    other = await admin_ws.error(
        "appointment.create", {**request, "recurrence": "FREQ=WEEKLY;COUNT=6"}
    )
    assert other["code"] == "bad_request" and other["details"]["field"] == "idempotency_key"


async def test_rules_outside_the_subset_are_bad_request(admin_ws: HubClient) -> None:
    """Unsupported parts, COUNT and UNTIL together, more than HUB_MAX_OCCURRENCES."""
    calendar = await make_calendar(admin_ws)
    for rule in (
        "FREQ=YEARLY;COUNT=2",
        "FREQ=WEEKLY;COUNT=2;UNTIL=20270601T000000Z",
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;COUNT=53",
        "FREQ=WEEKLY;BYDAY=1MO;COUNT=2",
    ):
        refused = await admin_ws.error(
            "appointment.create", series_request(calendar, "2027-06-07T09:00:00Z", 30, rule)
        )
        assert refused["code"] == "bad_request" and refused["details"]["field"] == "recurrence", (
            rule
        )


async def test_rest_books_moves_and_cancels_series(
    api: httpx.AsyncClient, admin: Account, admin_ws: HubClient
) -> None:
    """POST with recurrence, PATCH and DELETE with scope."""
    calendar = await make_calendar(admin_ws)
    made = await api.post(
        "/api/v1/appointments/",
        json=series_request(calendar, "2027-07-05T09:00:00Z", 30, "RRULE:FREQ=WEEKLY;COUNT=3"),
        headers=admin.auth,
    )
    assert made.status_code == 201, made.text
    first = made.json()
    assert first["series_id"] is not None and first["starts_at"] == "2027-07-05T09:00:00Z"
    moved = await api.patch(
        f"/api/v1/appointments/{first['id']}",
        json={"version": 1, "title": "Renamed", "scope": "all"},
        headers=admin.auth,
    )
    assert moved.status_code == 200 and moved.json()["title"] == "Renamed"
    cancelled = await api.delete(
        f"/api/v1/appointments/{first['id']}?scope=following", headers=admin.auth
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    listed = await api.get(
        "/api/v1/appointments/", params={"calendar_id": calendar["id"]}, headers=admin.auth
    )
    assert [a["status"] for a in listed.json()] == ["cancelled"] * 3


def _next_weekday(weekday: int) -> Any:
    day = datetime.now(UTC).date() + timedelta(days=7)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


async def test_a_preview_books_nothing_and_marks_the_conflicts(admin_ws: HubClient) -> None:
    """preview: true answers the occurrences and the ones refused, writes and announces nothing."""
    calendar = await make_calendar(admin_ws)
    taken = series_request(calendar, "2027-09-13T10:00:00Z", 30, "FREQ=DAILY;COUNT=1")
    del taken["recurrence"]
    await admin_ws.ok("appointment.create", taken)
    channel = f"calendar:{calendar['id']}"
    head = (await admin_ws.ok("appointments.list", {"channel": channel}))["seq"]
    request = series_request(calendar, "2027-09-06T10:00:00Z", 60, "FREQ=WEEKLY;COUNT=3")
    answer = await admin_ws.ok("appointment.create", {**request, "preview": True})
    assert answer["preview"] is True
    assert [o["starts_at"] for o in answer["occurrences"]] == [
        "2027-09-06T10:00:00Z",
        "2027-09-13T10:00:00Z",
        "2027-09-20T10:00:00Z",
    ]
    assert answer["conflicts"] == [
        {
            "starts_at": "2027-09-13T10:00:00Z",
            "ends_at": "2027-09-13T11:00:00Z",
            "code": "slot_taken",
        }
    ]
    assert (await admin_ws.ok("appointments.list", {"channel": channel}))["seq"] == head
