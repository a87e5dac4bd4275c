"""Availability through a live hub: real time zones, DST days, blocks, buffers, notice, horizon."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import make_calendar, sign_up
from tests.servers import HubServer
from tests.wsclient import HubClient, session

FAR = {"horizon_days": 400}


def hours(*weekdays: int, start: str = "00:00", end: str = "24:00") -> list[dict[str, Any]]:
    return [{"weekday": d, "start": start, "end": end} for d in weekdays]


def starts(answer: dict[str, Any]) -> list[str]:
    return [slot["starts_at"] for slot in answer["slots"]]


def z(day: str, *times: str) -> list[str]:
    return [f"{day}T{t}:00Z" for t in times]


async def slots(
    client: HubClient, calendar: dict[str, Any], start: str, end: str, minutes: int
) -> dict[str, Any]:
    return await client.ok(
        "availability.get",
        {"calendar_id": calendar["id"], "from": start, "to": end, "duration_minutes": minutes},
    )


async def test_new_york_spring_forward_day_has_23_hourly_slots(admin_ws: HubClient) -> None:
    """2027-03-14 in New York: 23 slots, none at 02:00 local (it does not exist)."""
    calendar = await make_calendar(
        admin_ws,
        timezone="America/New_York",
        working_hours=hours(*range(7)),
        slot_step_minutes=60,
        **FAR,
    )
    answer = await slots(admin_ws, calendar, "2027-03-14T05:00:00Z", "2027-03-15T04:00:00Z", 60)
    expected = [
        (datetime(2027, 3, 14, 5, tzinfo=UTC) + timedelta(hours=h))
        .isoformat()
        .replace("+00:00", "Z")
        for h in range(23)
    ]
    assert starts(answer) == expected and answer["timezone"] == "America/New_York"


async def test_chicago_fall_back_night_repeats_one_am(admin_ws: HubClient) -> None:
    """2027-11-07 00:00-06:00 in Chicago: 7 hourly slots, 05:00Z to 11:00Z."""
    calendar = await make_calendar(
        admin_ws,
        timezone="America/Chicago",
        working_hours=hours(6, start="00:00", end="06:00"),
        slot_step_minutes=60,
        **FAR,
    )
    answer = await slots(admin_ws, calendar, "2027-11-07T00:00:00Z", "2027-11-08T00:00:00Z", 60)
    assert starts(answer) == z(
        "2027-11-07", "05:00", "06:00", "07:00", "08:00", "09:00", "10:00", "11:00"
    )


async def test_berlin_before_and_after_the_change(admin_ws: HubClient) -> None:
    """Berlin 09:00-17:00: 08:00Z on Friday 2027-03-26, 07:00Z on Monday 2027-03-29."""
    calendar = await make_calendar(
        admin_ws,
        timezone="Europe/Berlin",
        working_hours=hours(0, 1, 2, 3, 4, start="09:00", end="17:00"),
        slot_step_minutes=60,
        **FAR,
    )
    friday = await slots(admin_ws, calendar, "2027-03-26T00:00:00Z", "2027-03-27T00:00:00Z", 60)
    monday = await slots(admin_ws, calendar, "2027-03-29T00:00:00Z", "2027-03-30T00:00:00Z", 60)
    assert starts(friday) == z("2027-03-26", *[f"{h:02d}:00" for h in range(8, 16)])
    assert starts(monday) == z("2027-03-29", *[f"{h:02d}:00" for h in range(7, 15)])
    weekend = await slots(admin_ws, calendar, "2027-03-27T00:00:00Z", "2027-03-29T00:00:00Z", 60)
    assert weekend["slots"] == []


async def test_ranges_crossing_utc_midnight(admin_ws: HubClient) -> None:
    """Kolkata 04:00-07:00 (+05:30) starts at 22:30Z the day before; Sydney too."""
    kolkata = await make_calendar(
        admin_ws,
        timezone="Asia/Kolkata",
        working_hours=hours(*range(7), start="04:00", end="07:00"),
        slot_step_minutes=60,
        **FAR,
    )
    answer = await slots(admin_ws, kolkata, "2027-01-10T20:00:00Z", "2027-01-11T03:00:00Z", 60)
    assert starts(answer) == [
        "2027-01-10T22:30:00Z",
        "2027-01-10T23:30:00Z",
        "2027-01-11T00:30:00Z",
    ]
    sydney = await make_calendar(
        admin_ws,
        timezone="Australia/Sydney",
        working_hours=hours(*range(7), start="08:00", end="10:00"),
        slot_step_minutes=60,
        **FAR,
    )
    summer = await slots(admin_ws, sydney, "2027-01-10T18:00:00Z", "2027-01-11T02:00:00Z", 60)
    assert starts(summer) == ["2027-01-10T21:00:00Z", "2027-01-10T22:00:00Z"]  # AEDT +11
    winter = await slots(admin_ws, sydney, "2027-07-10T18:00:00Z", "2027-07-11T02:00:00Z", 60)
    assert starts(winter) == ["2027-07-10T22:00:00Z", "2027-07-10T23:00:00Z"]  # AEST +10


async def test_block_and_appointment_with_buffers(
    hub: HubServer, api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """A block and an appointment, 15-minute buffers: exactly the right slots disappear."""
    calendar = await make_calendar(
        admin_ws,
        working_hours=hours(*range(7), start="09:00", end="17:00"),
        slot_step_minutes=30,
        buffer_before_minutes=15,
        buffer_after_minutes=15,
    )
    day = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    await admin_ws.ok(
        "appointment.create",
        {
            "calendar_id": calendar["id"],
            "title": "Visit",
            "starts_at": f"{day}T11:00:00Z",
            "ends_at": f"{day}T12:00:00Z",
        },
    )
    block = await admin_ws.ok(
        "calendar.block",
        {
            "calendar_id": calendar["id"],
            "starts_at": f"{day}T14:00:00Z",
            "ends_at": f"{day}T15:00:00Z",
            "reason": "Staff meeting",
        },
    )
    assert block["block"]["kind"] == "block" and list(block["seqs"]) == [
        f"calendar:{calendar['id']}"
    ]
    answer = await slots(admin_ws, calendar, f"{day}T00:00:00Z", f"{day}T23:59:00Z", 30)
    assert starts(answer) == z(
        day, "09:00", "09:30", "10:00", "12:30", "13:00", "15:30", "16:00", "16:30"
    )
    user = await session(hub.ws_url, (await sign_up(api)).access_token)
    listed = await user.ok("appointments.list", {"channel": f"calendar:{calendar['id']}"})
    assert (
        all(
            set(a) == {"id", "calendar_id", "starts_at", "ends_at", "status"}
            for a in listed["appointments"]
        )
        and len(listed["appointments"]) == 2
    )
    refused = await user.error(
        "appointment.create",
        {
            "calendar_id": calendar["id"],
            "title": "x",
            "starts_at": f"{day}T14:30:00Z",
            "ends_at": f"{day}T15:00:00Z",
        },
    )
    assert refused["code"] == "slot_taken"
    await admin_ws.ok("calendar.unblock", {"block_id": block["block"]["id"]})
    after = await slots(admin_ws, calendar, f"{day}T00:00:00Z", f"{day}T23:59:00Z", 30)
    assert f"{day}T14:00:00Z" in starts(after)
    await user.close()


async def test_notice_and_horizon(
    hub: HubServer, api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """Users meet min notice and the horizon (outside_availability naming the rule); staff may not."""
    calendar = await make_calendar(
        admin_ws, min_notice_minutes=180, horizon_days=3, slot_step_minutes=60
    )
    user = await session(hub.ws_url, (await sign_up(api)).access_token)
    soon = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    late = soon + timedelta(days=5)

    def request(start: datetime) -> dict[str, Any]:
        return {
            "calendar_id": calendar["id"],
            "title": "x",
            "starts_at": start.isoformat().replace("+00:00", "Z"),
            "ends_at": (start + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        }

    for start, rule in ((soon, "min_notice"), (late, "horizon")):
        error = await user.error("appointment.create", request(start))
        assert error["code"] == "outside_availability" and error["details"]["rule"] == rule
        await admin_ws.ok("appointment.create", request(start))
    window = await slots(
        admin_ws, calendar, soon.isoformat(), (soon + timedelta(days=6)).isoformat(), 60
    )
    offered = starts(window)
    first = datetime.fromisoformat(offered[0].replace("Z", "+00:00"))
    last = datetime.fromisoformat(offered[-1].replace("Z", "+00:00"))
    now = datetime.now(UTC)
    assert first >= now + timedelta(minutes=180) - timedelta(seconds=5)
    assert last < now + timedelta(days=3)
    too_long = await admin_ws.error(
        "availability.get",
        {
            "calendar_id": calendar["id"],
            "from": "2027-01-01T00:00:00Z",
            "to": "2027-02-05T00:00:00Z",
            "duration_minutes": 30,
        },
    )
    assert too_long["code"] == "bad_request" and too_long["details"]["field"] == "to"
    await user.close()


async def test_offered_slot_books_once_under_a_race(
    hub: HubServer, api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """Ten users read availability and book the first slot at once: one wins, it is gone after."""
    calendar = await make_calendar(admin_ws, slot_step_minutes=30)
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    users = [await session(hub.ws_url, (await sign_up(api)).access_token) for _ in range(10)]
    offers = await asyncio.gather(
        *[slots(u, calendar, f"{day}T09:00:00Z", f"{day}T12:00:00Z", 30) for u in users]
    )
    first = offers[0]["slots"][0]
    answers = await asyncio.gather(
        *[
            u.request("appointment.create", {"calendar_id": calendar["id"], "title": "x", **first})
            for u in users
        ]
    )
    assert sum(a["type"] == "ok" for a in answers) == 1
    assert first["starts_at"] not in starts(
        await slots(users[0], calendar, f"{day}T09:00:00Z", f"{day}T12:00:00Z", 30)
    )
    for user in users:
        await user.close()
