"""Slot holds, every rule of PROTOCOL.md's "Slot holds", on both backends."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import Account, make_calendar, make_staff, sign_up
from tests.inproc import InProcessHub
from tests.test_booking import at
from tests.wsclient import HubClient, session

WORKDAYS_NINE_TO_FIVE = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(7)]


def slot(calendar: dict[str, Any], start: float, end: float, day: int = 1) -> dict[str, Any]:
    return {"calendar_id": calendar["id"], "starts_at": at(start, day), "ends_at": at(end, day)}


def appointment(
    calendar: dict[str, Any], start: float, end: float, day: int = 1, **extra: Any
) -> dict[str, Any]:
    return {**slot(calendar, start, end, day), "title": "Check-up", **extra}


async def person(hub: InProcessHub, api: httpx.AsyncClient) -> tuple[Account, HubClient]:
    account = await sign_up(api)
    return account, await session(hub.ws_url, account.access_token)


async def watching(hub: InProcessHub, token: str, calendar: dict[str, Any]) -> HubClient:
    client = await session(hub.ws_url, token)
    await client.ok("subscribe", {"channel": f"calendar:{calendar['id']}"})
    return client


async def test_a_hold_is_seen_taken_by_everyone_else_at_once(
    hub: InProcessHub, api: httpx.AsyncClient, admin: Account, admin_ws: HubClient
) -> None:
    """slot.held reaches every watcher (held_by only for holder and staff); others lose the slot."""
    calendar = await make_calendar(admin_ws, working_hours=WORKDAYS_NINE_TO_FIVE)
    ada, ada_ws = await person(hub, api)
    bob, bob_ws = await person(hub, api)
    staff_view = await watching(hub, admin.access_token, calendar)
    bob_view = await watching(hub, bob.access_token, calendar)
    held = await ada_ws.ok("slot.hold", slot(calendar, 10, 10.5))
    hold = held["hold"]
    assert hold["held_by"] == ada.id and held["seqs"] == {f"calendar:{calendar['id']}": 1}
    assert (await staff_view.next_event())["data"] == hold
    others = await bob_view.next_event()
    assert others["event"] == "slot.held" and "held_by" not in others["data"]
    assert others["data"]["expires_at"] == hold["expires_at"]
    day = {"from": at(0, 1), "to": at(0, 2), "duration_minutes": 30}
    free_for_bob = await bob_ws.ok("availability.get", {"calendar_id": calendar["id"], **day})
    free_for_ada = await ada_ws.ok("availability.get", {"calendar_id": calendar["id"], **day})
    assert at(10, 1) not in [s["starts_at"] for s in free_for_bob["slots"]]
    assert at(10, 1) in [s["starts_at"] for s in free_for_ada["slots"]]
    for taker, data in (
        (bob_ws, {**appointment(calendar, 10.25, 11)}),
        (bob_ws, slot(calendar, 9.75, 10.25)),
        (admin_ws, {**appointment(calendar, 10, 10.5), "client_id": bob.id}),
    ):
        kind = "slot.hold" if "title" not in data else "appointment.create"
        refused = await taker.error(kind, data)
        assert refused["code"] == "slot_taken" and refused["details"]["rule"] == "held", refused
    snapshot = await bob_ws.ok("appointments.list", {"channel": f"calendar:{calendar['id']}"})
    assert snapshot["holds"] == [others["data"]] and snapshot["seq"] == 1
    for client in (ada_ws, bob_ws, staff_view, bob_view):
        await client.close()


async def test_booking_a_held_slot_ends_the_hold_in_the_same_event(
    hub: InProcessHub, api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """With hold_id, or with exactly its times, the booking's event carries the hold's id."""
    calendar = await make_calendar(admin_ws)
    _, ada = await person(hub, api)
    watcher = await watching(hub, (await sign_up(api)).access_token, calendar)
    for with_id in (True, False):
        start = 10 if with_id else 12
        hold = (await ada.ok("slot.hold", slot(calendar, start, start + 1)))["hold"]
        assert (await watcher.next_event())["event"] == "slot.held"
        data = appointment(calendar, start, start + 1)
        if with_id:
            data["hold_id"] = hold["id"]
        made = await ada.ok("appointment.create", data)
        event = await watcher.next_event()
        assert event["event"] == "appointment.created" and event["data"]["hold_id"] == hold["id"]
        assert event["seq"] == made["seqs"][f"calendar:{calendar['id']}"]
        await watcher.no_event(0.2)  # no slot.released of its own
    snapshot = await ada.ok("appointments.list", {"channel": f"calendar:{calendar['id']}"})
    assert snapshot["holds"] == [] and len(snapshot["appointments"]) == 2
    await ada.close()
    await watcher.close()


async def test_own_hold_never_blocks_own_booking_or_reschedule(
    hub: InProcessHub, api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """Booking other times over one's hold releases it (replaced); a reschedule takes it over."""
    calendar = await make_calendar(admin_ws)
    _, ada = await person(hub, api)
    watcher = await watching(hub, (await sign_up(api)).access_token, calendar)
    await ada.ok("slot.hold", slot(calendar, 10, 11))
    await ada.ok("appointment.create", appointment(calendar, 10.5, 11.5))
    kinds = [(e["event"], e["data"].get("reason")) for e in await watcher.events_until(3)]
    assert kinds == [
        ("slot.held", None),
        ("slot.released", "replaced"),
        ("appointment.created", None),
    ]
    made = (await ada.ok("appointment.create", appointment(calendar, 14, 15)))["appointment"]
    await watcher.next_event()
    hold = (await ada.ok("slot.hold", slot(calendar, 16, 17)))["hold"]
    await watcher.next_event()
    moved = await ada.ok(
        "appointment.update",
        {
            "appointment_id": made["id"],
            "version": made["version"],
            "starts_at": at(16, 1),
            "ends_at": at(17, 1),
        },
    )
    event = await watcher.next_event()
    assert event["event"] == "appointment.updated" and event["data"]["hold_id"] == hold["id"]
    assert moved["appointment"]["starts_at"] == at(16, 1)
    await ada.close()
    await watcher.close()


async def test_a_wrong_hold_id_books_nothing(
    hub: InProcessHub, api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """Someone else's hold, other times, or an ended hold: not_found on hold_id, nothing booked."""
    calendar = await make_calendar(admin_ws)
    _, ada = await person(hub, api)
    _, bob = await person(hub, api)
    ada_hold = (await ada.ok("slot.hold", slot(calendar, 10, 11)))["hold"]
    bob_hold = (await bob.ok("slot.hold", slot(calendar, 12, 13)))["hold"]
    watcher = await watching(hub, (await sign_up(api)).access_token, calendar)
    attempts = [
        {**appointment(calendar, 12, 13), "hold_id": bob_hold["id"]},
        {**appointment(calendar, 10, 10.5), "hold_id": ada_hold["id"]},
    ]
    for data in attempts:
        refused = await ada.error("appointment.create", data)
        assert refused["code"] == "not_found" and refused["details"]["field"] == "hold_id"
    await ada.ok("slot.release", {"hold_id": ada_hold["id"]})
    assert (await watcher.next_event())["data"]["reason"] == "released"
    ended = {**appointment(calendar, 10, 11), "hold_id": ada_hold["id"]}
    assert (await ada.error("appointment.create", ended))["code"] == "not_found"
    assert (await ada.error("slot.release", {"hold_id": ada_hold["id"]}))["code"] == "not_found"
    await watcher.no_event(0.3)
    await ada.close()
    await bob.close()
    await watcher.close()


async def test_same_slot_extends_another_slot_replaces(
    hub: InProcessHub, api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """Holding the same slot again extends it (same id); another slot replaces it, in seq order."""
    calendar = await make_calendar(admin_ws)
    _, ada = await person(hub, api)
    watcher = await watching(hub, (await sign_up(api)).access_token, calendar)
    first = (await ada.ok("slot.hold", slot(calendar, 10, 11)))["hold"]
    await asyncio.sleep(0.01)
    again = (await ada.ok("slot.hold", slot(calendar, 10, 11)))["hold"]
    assert again["id"] == first["id"] and again["expires_at"] > first["expires_at"]
    other = (await ada.ok("slot.hold", slot(calendar, 13, 14)))["hold"]
    events = await watcher.events_until(4)
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert [e["event"] for e in events] == ["slot.held", "slot.held", "slot.released", "slot.held"]
    assert events[1]["data"]["expires_at"] == again["expires_at"]
    assert events[2]["data"] == {
        "id": first["id"],
        "calendar_id": calendar["id"],
        "starts_at": at(10, 1),
        "ends_at": at(11, 1),
        "reason": "replaced",
    }
    assert events[3]["data"]["id"] == other["id"] != first["id"]
    await ada.close()
    await watcher.close()


async def test_release_is_for_the_holder_and_staff(
    hub: InProcessHub, api: httpx.AsyncClient, admin: Account, admin_ws: HubClient
) -> None:
    """Only its holder, staff and admins release a hold; a user's hold obeys the user's rules."""
    calendar = await make_calendar(admin_ws, working_hours=WORKDAYS_NINE_TO_FIVE)
    _, ada = await person(hub, api)
    _, bob = await person(hub, api)
    staff = await make_staff(api, admin)
    desk = await session(hub.ws_url, staff.access_token)
    hold = (await ada.ok("slot.hold", slot(calendar, 10, 11)))["hold"]
    assert (await bob.error("slot.release", {"hold_id": hold["id"]}))["code"] == "forbidden"
    released = await desk.ok("slot.release", {"hold_id": hold["id"]})
    assert released["seqs"] == {f"calendar:{calendar['id']}": 2}
    closed = await ada.error("slot.hold", slot(calendar, 20, 21))
    assert closed["code"] == "outside_availability"
    past = await ada.error("slot.hold", slot(calendar, 10, 11, day=-3))
    assert past["code"] == "bad_request" and past["details"]["field"] == "starts_at"
    assert (await desk.ok("slot.hold", slot(calendar, 20, 21)))["hold"]["held_by"] == staff.id
    for client in (ada, bob, desk):
        await client.close()


async def test_rest_mirror_of_holds(api: httpx.AsyncClient, admin_ws: HubClient) -> None:
    """POST /api/v1/holds answers 201 with the hold; DELETE answers 204, then 404."""
    calendar = await make_calendar(admin_ws)
    account = await sign_up(api)
    made = await api.post("/api/v1/holds", json=slot(calendar, 10, 11), headers=account.auth)
    assert made.status_code == 201 and made.json()["held_by"] == account.id
    booked = await api.post(
        "/api/v1/appointments/",
        json={**appointment(calendar, 10, 11), "hold_id": made.json()["id"]},
        headers=account.auth,
    )
    assert booked.status_code == 201, booked.text
    again = await api.post("/api/v1/holds", json=slot(calendar, 12, 13), headers=account.auth)
    path = f"/api/v1/holds/{again.json()['id']}"
    assert (await api.delete(path, headers=account.auth)).status_code == 204
    gone = await api.delete(path, headers=account.auth)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


async def test_twenty_people_race_for_one_slot_across_processes(
    hubs: list[InProcessHub], api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """Exactly one hold wins; the rest get slot_taken (held); one slot.held everywhere."""
    calendar = await make_calendar(admin_ws)
    watchers = [await watching(h, (await sign_up(api)).access_token, calendar) for h in hubs]
    people = [
        await session(hubs[i % len(hubs)].ws_url, (await sign_up(api)).access_token)
        for i in range(20)
    ]
    answers = await asyncio.gather(*[p.request("slot.hold", slot(calendar, 9, 10)) for p in people])
    kinds = sorted(a["type"] for a in answers)
    assert kinds == ["error"] * 19 + ["ok"]
    assert all(a["error"]["details"] == {"rule": "held"} for a in answers if a["type"] == "error")
    for watcher in watchers:
        assert (await watcher.next_event())["event"] == "slot.held"
        await watcher.no_event(0.3)
    for client in (*people, *watchers):
        await client.close()
