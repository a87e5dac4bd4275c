"""Calendar feeds end to end on both backends: REST, the secret URL, two independent parsers.

Every feed is read back by icalendar and by Mozilla's ical.js under Node
(tests/js/parse_ics.mjs), and each event is checked against the appointment
the hub answered when it was made: UID, times, STATUS, SEQUENCE, SUMMARY,
DESCRIPTION.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import icalendar

from tests.conftest import Account, make_calendar, make_staff, sign_up
from tests.inproc import InProcessHub
from tests.receiver import in_process_admin
from tests.servers import HubServer
from tests.wsclient import HubClient, session

PARSE_ICS = Path(__file__).parent / "js" / "parse_ics.mjs"
STATUS = {
    "pending": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "completed": "CONFIRMED",
    "cancelled": "CANCELLED",
    "no_show": "CANCELLED",
}
DAY = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def at(days: float, hour: float = 0) -> str:
    """RFC 3339 UTC, ``days`` after tomorrow 00:00 plus ``hour`` hours."""
    moment = DAY + timedelta(days=days, hours=hour)
    return moment.isoformat().replace("+00:00", "Z")


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def book(
    ws: HubClient, calendar: dict[str, Any], start: str, **fields: Any
) -> dict[str, Any]:
    data = {
        "calendar_id": calendar["id"],
        "starts_at": start,
        "ends_at": (stamp(start) + timedelta(minutes=45)).isoformat().replace("+00:00", "Z"),
        "title": "Check-up",
        **fields,
    }
    appointment: dict[str, Any] = (await ws.ok("appointment.create", data))["appointment"]
    return appointment


def expected(appointment: dict[str, Any], host: str) -> dict[str, Any]:
    """What a feed must say of this appointment (the wire form the hub answered)."""
    block = appointment["kind"] == "block"
    if block:
        summary = "Time off"
        description = None if appointment["title"] == "Time off" else appointment["title"]
    else:
        summary, description = appointment["title"], appointment["notes"] or None
    return {
        "uid": f"{appointment['id']}@{host}",
        "start": stamp(appointment["starts_at"]),
        "end": stamp(appointment["ends_at"]),
        "status": STATUS[appointment["status"]],
        "sequence": appointment["version"] - 1,
        "summary": summary,
        "description": description,
    }


def read_icalendar(body: bytes) -> dict[str, dict[str, Any]]:
    """The feed's events by UID, as icalendar reads them."""
    events = {}
    for vevent in icalendar.Calendar.from_ical(body).walk("VEVENT"):
        assert vevent.decoded("DTSTART").utcoffset() == timedelta(0)
        events[str(vevent["UID"])] = {
            "uid": str(vevent["UID"]),
            "start": vevent.decoded("DTSTART"),
            "end": vevent.decoded("DTEND"),
            "status": str(vevent["STATUS"]),
            "sequence": vevent.decoded("SEQUENCE"),
            "summary": str(vevent["SUMMARY"]),
            "description": None if "DESCRIPTION" not in vevent else str(vevent["DESCRIPTION"]),
        }
    return events


def read_ical_js(body: bytes) -> dict[str, dict[str, Any]]:
    """The feed's events by UID, as Mozilla's ical.js reads them under Node."""
    done = subprocess.run(
        ["node", str(PARSE_ICS)], input=body, capture_output=True, check=True, timeout=60
    )
    events = {}
    for event in json.loads(done.stdout)["events"]:
        assert event["start_zone"] == "UTC"
        events[event["uid"]] = {
            "uid": event["uid"],
            "start": stamp(event["start"]),
            "end": stamp(event["end"]),
            "status": event["status"],
            "sequence": event["sequence"],
            "summary": event["summary"],
            "description": event["description"],
        }
    return events


def check_feed(body: bytes, appointments: list[dict[str, Any]], host: str) -> None:
    """Both parsers read exactly these appointments, each as :func:`expected` says."""
    want = {a["id"] + "@" + host: expected(a, host) for a in appointments}
    assert read_icalendar(body) == want
    assert read_ical_js(body) == want


async def new_feed(api: httpx.AsyncClient, account: Account, **body: Any) -> dict[str, Any]:
    reply = await api.post("/api/v1/feeds", json=body, headers=account.auth)
    assert reply.status_code == 201, reply.text
    feed: dict[str, Any] = reply.json()
    assert set(feed) == {"id", "url", "calendar_id", "created_at"}
    return feed


async def fetch(url: str, **headers: str) -> httpx.Response:
    """GET a feed URL as a calendar app would: no sign-in."""
    async with httpx.AsyncClient(timeout=15) as client:
        return await client.get(url, headers=headers)


async def test_calendar_feed_reads_the_same_in_both_parsers(
    hub: HubServer, api: httpx.AsyncClient, admin: Account, admin_ws: HubClient
) -> None:
    """Every status, edits, notes and time off, in the window only, as icalendar and ical.js read them."""
    calendar = await make_calendar(admin_ws)
    client = await sign_up(api, "client")
    client_ws = await session(hub.ws_url, client.access_token)
    shown = [
        await book(admin_ws, calendar, at(0, 9), title="Knee, left; week 1", notes="Shoes, towel"),
        await book(client_ws, calendar, at(0, 11), title="Señora Núñez — café"),
        await book(admin_ws, calendar, at(-2, 9), title="Done"),
        await book(admin_ws, calendar, at(-3, 9), title="Missed"),
    ]
    cancelled = await book(admin_ws, calendar, at(0, 13), title="Called off")
    edited = await book(admin_ws, calendar, at(0, 15), title="Before")
    for data in ({"title": "After, line 1"}, {"notes": "Line one\nLine two\\three"}):
        answer = await admin_ws.ok(
            "appointment.update",
            {"appointment_id": edited["id"], "version": edited["version"], **data},
        )
        edited = answer["appointment"]
    done = await admin_ws.ok(
        "appointment.set_status", {"appointment_id": shown[2]["id"], "status": "completed"}
    )
    missed = await admin_ws.ok(
        "appointment.set_status", {"appointment_id": shown[3]["id"], "status": "no_show"}
    )
    cancelled = (await admin_ws.ok("appointment.cancel", {"appointment_id": cancelled["id"]}))[
        "appointment"
    ]
    blocks = [
        (await admin_ws.ok("calendar.block", data))["block"]
        for data in (
            {
                "calendar_id": calendar["id"],
                "starts_at": at(3),
                "ends_at": at(4),
                "reason": "Congress",
            },
            {"calendar_id": calendar["id"], "starts_at": at(5, 12), "ends_at": at(5, 13)},
        )
    ]
    await book(admin_ws, calendar, at(400, 9), title="Too far ahead")
    await book(admin_ws, calendar, at(-40, 9), title="Too long ago")
    await client_ws.close()

    feed = await new_feed(api, admin, calendar_id=calendar["id"])
    assert feed["calendar_id"] == calendar["id"]
    assert feed["url"].startswith(hub.url + "/feeds/") and feed["url"].endswith(".ics")
    reply = await fetch(feed["url"])
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/calendar; charset=utf-8"
    final = [
        shown[0],
        shown[1],
        done["appointment"],
        missed["appointment"],
        cancelled,
        edited,
        *blocks,
    ]
    assert edited["version"] == 3 and cancelled["status"] == "cancelled"
    check_feed(reply.content, final, "127.0.0.1")
    calendar_name = icalendar.Calendar.from_ical(reply.content)["X-WR-CALNAME"]
    assert calendar_name == calendar["name"]


async def test_personal_feed_holds_only_your_own_appointments(
    hub: HubServer, api: httpx.AsyncClient, admin: Account, admin_ws: HubClient
) -> None:
    """Your appointments on every calendar, nobody else's, and no time off."""
    first, second = await make_calendar(admin_ws), await make_calendar(admin_ws)
    me, other = await sign_up(api, "me"), await sign_up(api, "other")
    my_ws = await session(hub.ws_url, me.access_token)
    mine = [
        await book(my_ws, first, at(1, 10), title="Mine, booked by me", notes="n"),
        await book(admin_ws, second, at(2, 10), title="Mine, booked by staff", client_id=me.id),
    ]
    await book(admin_ws, first, at(1, 12), title="Someone else's", client_id=other.id)
    await admin_ws.ok(
        "calendar.block", {"calendar_id": first["id"], "starts_at": at(3), "ends_at": at(3, 2)}
    )
    await my_ws.close()
    feed = await new_feed(api, me)
    assert feed["calendar_id"] is None
    reply = await fetch(feed["url"])
    assert reply.status_code == 200
    check_feed(reply.content, mine, "127.0.0.1")


async def test_etag_answers_304_until_something_changes(
    api: httpx.AsyncClient, admin: Account, admin_ws: HubClient
) -> None:
    """A matching If-None-Match (strong, weak, or in a list) is 304; a change makes a new ETag."""
    calendar = await make_calendar(admin_ws)
    await book(admin_ws, calendar, at(0, 9))
    feed = await new_feed(api, admin, calendar_id=calendar["id"])
    first = await fetch(feed["url"])
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert (await fetch(feed["url"])).headers["etag"] == etag
    for header in (etag, "W/" + etag, f'"other", {etag}', "*"):
        cached = await fetch(feed["url"], **{"If-None-Match": header})
        assert cached.status_code == 304 and cached.content == b""
        assert cached.headers["etag"] == etag
    assert (await fetch(feed["url"], **{"If-None-Match": '"stale"'})).status_code == 200
    await book(admin_ws, calendar, at(0, 11))
    changed = await fetch(feed["url"], **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert len(read_icalendar(changed.content)) == 2


async def test_deleted_feed_answers_404(api: httpx.AsyncClient) -> None:
    """DELETE revokes: 204, then the URL is 404, the list is empty and a second DELETE is 404."""
    me = await sign_up(api, "me")
    feed = await new_feed(api, me)
    assert (await fetch(feed["url"])).status_code == 200
    listed = await api.get("/api/v1/feeds", headers=me.auth)
    assert listed.json() == [
        {"id": feed["id"], "calendar_id": None, "created_at": feed["created_at"]}
    ]
    assert (await api.delete(f"/api/v1/feeds/{feed['id']}", headers=me.auth)).status_code == 204
    gone = await fetch(feed["url"])
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    assert (await api.get("/api/v1/feeds", headers=me.auth)).json() == []
    again = await api.delete(f"/api/v1/feeds/{feed['id']}", headers=me.auth)
    assert again.status_code == 404
    guessed = feed["url"][:-10] + "AAAAAA.ics"
    assert (await fetch(guessed)).status_code == 404


async def test_demotion_and_deactivation_close_feeds_from_that_commit(
    api: httpx.AsyncClient, admin: Account, admin_ws: HubClient
) -> None:
    """Out of staff: the calendar feed is 404 at once, the personal one stays; deactivated: both 404."""
    staff = await make_staff(api, admin)
    calendar = await make_calendar(admin_ws)
    await book(admin_ws, calendar, at(0, 9), client_id=staff.id)
    calendar_feed = await new_feed(api, staff, calendar_id=calendar["id"])
    own_feed = await new_feed(api, staff)
    assert (await fetch(calendar_feed["url"])).status_code == 200
    demoted = await api.patch(
        f"/api/v1/users/{staff.id}", json={"role": "user"}, headers=admin.auth
    )
    assert demoted.status_code == 200
    assert (await fetch(calendar_feed["url"])).status_code == 404
    assert (await fetch(own_feed["url"])).status_code == 200
    off = await api.patch(
        f"/api/v1/users/{staff.id}", json={"is_active": False}, headers=admin.auth
    )
    assert off.status_code == 200
    assert (await fetch(own_feed["url"])).status_code == 404
    assert (await fetch(calendar_feed["url"])).status_code == 404


async def test_another_persons_feed_is_404(api: httpx.AsyncClient) -> None:
    """Someone else's feed id cannot be deleted (404) or listed, and their feed keeps working."""
    owner, stranger = await sign_up(api, "owner"), await sign_up(api, "stranger")
    feed = await new_feed(api, owner)
    reply = await api.delete(f"/api/v1/feeds/{feed['id']}", headers=stranger.auth)
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"
    assert (await api.get("/api/v1/feeds", headers=stranger.auth)).json() == []
    assert (await fetch(feed["url"])).status_code == 200


async def test_who_may_make_which_feed(
    api: httpx.AsyncClient, admin: Account, admin_ws: HubClient
) -> None:
    """A user cannot make a calendar feed (403); an unknown calendar is 404, a bad id 422; no token 401."""
    calendar = await make_calendar(admin_ws)
    user = await sign_up(api, "user")
    refused = await api.post(
        "/api/v1/feeds", json={"calendar_id": calendar["id"]}, headers=user.auth
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert (await api.get("/api/v1/feeds", headers=user.auth)).json() == []
    unknown = await api.post(
        "/api/v1/feeds",
        json={"calendar_id": "00000000-0000-4000-8000-000000000000"},
        headers=admin.auth,
    )
    assert unknown.status_code == 404
    bad = await api.post("/api/v1/feeds", json={"calendar_id": "nope"}, headers=admin.auth)
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "calendar_id"
    assert (await api.post("/api/v1/feeds", json={})).status_code == 401


async def test_url_and_uids_follow_the_host_the_feed_was_made_for(
    api: httpx.AsyncClient, admin: Account, admin_ws: HubClient
) -> None:
    """Without HUB_PUBLIC_URL the URL comes from the request; UIDs keep that host afterwards."""
    calendar = await make_calendar(admin_ws)
    made = await book(admin_ws, calendar, at(0, 9))
    reply = await api.post(
        "/api/v1/feeds",
        json={"calendar_id": calendar["id"]},
        headers={**admin.auth, "Host": "calendar.clinic.example:8443"},
    )
    url = reply.json()["url"]
    assert url.startswith("http://calendar.clinic.example:8443/feeds/")
    local = str(api.base_url).rstrip("/") + urlsplit(url).path
    check_feed((await fetch(local)).content, [made], "calendar.clinic.example")


async def test_public_url_setting_makes_the_url(tmp_path: Path) -> None:
    """With HUB_PUBLIC_URL the URL and the UIDs use it, whatever host the request named."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/hub.db",
        "HUB_PUBLIC_URL": "https://hub.clinic.example/scheduling/",
    }
    server = await InProcessHub(env).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as api:
            admin = await in_process_admin(server, api)
            writer = await session(server.ws_url, admin.access_token)
            calendar = await make_calendar(writer)
            made = await book(writer, calendar, at(0, 9))
            await writer.close()
            feed = await new_feed(api, admin, calendar_id=calendar["id"])
            assert feed["url"].startswith("https://hub.clinic.example/scheduling/feeds/")
            path = urlsplit(feed["url"]).path.removeprefix("/scheduling")
            check_feed((await fetch(server.url + path)).content, [made], "hub.clinic.example")
    finally:
        await server.stop()
