"""Webhooks end to end: real hubs, a real HTTP receiver in this process, both backends.

Delivering hubs run with ``HUB_WEBHOOK_ALLOW_PRIVATE=true`` (the receiver is
on 127.0.0.1), a 0.2 s retry base, a 3.6 s retry window and a 2 s attempt
timeout, on a database of their own: every hub process on a database
delivers its webhooks, so the shared hub (which refuses private addresses)
must not see these. The SSRF refusals are checked on that shared hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import standardwebhooks

from tests.conftest import (
    SHARED_SERVER_ENV,
    Account,
    Backend,
    make_calendar,
    run_sql,
    services_env,
    sign_in,
    sign_up,
)
from tests.inproc import InProcessHub
from tests.receiver import Receiver, in_process_admin
from tests.servers import HubServer
from tests.wsclient import HubClient, session

DELIVERING = {
    "HUB_WEBHOOK_ALLOW_PRIVATE": "true",
    "HUB_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "HUB_WEBHOOK_RETRY_HOURS": "0.001",
    "HUB_WEBHOOK_TIMEOUT_SECONDS": "2",
}
DAY = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def slot(index: int) -> dict[str, str]:
    start = DAY + timedelta(minutes=30 * index)
    end = start + timedelta(minutes=30)
    return {
        "starts_at": start.isoformat().replace("+00:00", "Z"),
        "ends_at": end.isoformat().replace("+00:00", "Z"),
    }


@dataclass
class Delivering:
    """A private hub that delivers to local receivers, its admin and an admin socket."""

    server: InProcessHub
    api: httpx.AsyncClient
    admin: Account


@contextlib.asynccontextmanager
async def private_database(kind: str) -> AsyncIterator[dict[str, str]]:
    """Settings naming a fresh database of this kind, removed afterwards."""
    if kind == "embedded":
        folder = tempfile.mkdtemp(prefix="hub-webhooks-")
        try:
            yield {"DATABASE_URL": f"sqlite:///{folder}/hub.db", **SHARED_SERVER_ENV}
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    async with services_env() as env:
        yield env


@pytest.fixture(scope="module")
async def delivering(backend: Backend) -> AsyncIterator[Delivering]:
    async with private_database(backend.name) as env:
        server = await InProcessHub({**env, **DELIVERING}).start()
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=15) as api:
                yield Delivering(server, api, await in_process_admin(server, api))
        finally:
            await server.stop()


@pytest.fixture
async def writer(delivering: Delivering) -> AsyncIterator[HubClient]:
    client = await session(delivering.server.ws_url, delivering.admin.access_token)
    yield client
    await client.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    yield started
    await started.stop()


async def promoted_admin(server: HubServer, env: dict[str, str]) -> Account:
    """An admin on a subprocess hub, promoted in its database (no ``hub`` command to wait for)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as api:
        account = await sign_up(api, "admin")
        await run_sql(
            env["DATABASE_URL"], [("UPDATE users SET role = 'admin' WHERE id = $1", (account.id,))]
        )
        return await sign_in(api, account)


async def add_webhook(
    api: httpx.AsyncClient, admin: Account, url: str, **fields: Any
) -> dict[str, Any]:
    reply = await api.post("/api/v1/webhooks", json={"url": url, **fields}, headers=admin.auth)
    assert reply.status_code == 201, reply.text
    hook: dict[str, Any] = reply.json()
    return hook


async def book(ws: HubClient, calendar: dict[str, Any], index: int) -> dict[str, Any]:
    data = {"calendar_id": calendar["id"], "title": f"Visit {index}", **slot(index)}
    appointment: dict[str, Any] = (await ws.ok("appointment.create", data))["appointment"]
    return appointment


async def log_of(api: httpx.AsyncClient, admin: Account, hook: dict[str, Any]) -> list[Any]:
    reply = await api.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin.auth)
    assert reply.status_code == 200, reply.text
    found: list[Any] = reply.json()
    return found


async def eventually(check: Any, timeout: float = 15) -> None:
    """Wait until the async ``check()`` is true."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def settled_log(
    api: httpx.AsyncClient, admin: Account, hook: dict[str, Any], count: int
) -> list[Any]:
    """The delivery log once it holds ``count`` deliveries, none pending (successes are
    written a few at a time, within a quarter second)."""
    found: list[Any] = []

    async def settled() -> bool:
        found[:] = await log_of(api, admin, hook)
        return len(found) == count and all(d["status"] != "pending" for d in found)

    await eventually(settled, timeout=5)
    return found


async def test_a_booking_arrives_signed_within_a_second(
    delivering: Delivering, writer: HubClient, receiver: Receiver
) -> None:
    """Standard Webhooks signature, the documented body and headers, the Host kept, well under 1 s."""
    api, admin = delivering.api, delivering.admin
    calendar = await make_calendar(writer)
    url = f"http://localhost:{receiver.port}/hook"  # a name: resolved, pinned, and kept as Host
    hook = await add_webhook(api, admin, url, calendar_id=calendar["id"])
    assert hook["secret"].startswith("whsec_") and hook["enabled"] and hook["events"] is None
    await asyncio.sleep(0.5)  # the worker is idle, not just woken by the creation
    booked_at = time.monotonic()
    appointment = await book(writer, calendar, 0)
    await receiver.wait_until(lambda: len(receiver.requests) == 1, timeout=5)
    request = receiver.requests[0]
    assert request.at - booked_at < 1.0
    assert request.method == "POST" and request.path == "/hook"
    assert request.headers["host"] == f"localhost:{receiver.port}"
    assert request.headers["content-type"] == "application/json"
    signed = standardwebhooks.Webhook(hook["secret"]).verify(request.body, request.headers)
    assert signed == {
        "type": "appointment.created",
        "timestamp": signed["timestamp"],
        "data": {"channel": f"calendar:{calendar['id']}", "seq": 1, "appointment": appointment},
    }
    at = datetime.fromisoformat(signed["timestamp"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - at).total_seconds()) < 5
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 5
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(hook["secret"]).verify(request.body + b" ", request.headers)
    log = await settled_log(api, admin, hook, 1)
    assert [(d["seq"], d["status"], d["attempts"], d["last_status_code"]) for d in log] == [
        (1, "success", 1, 200)
    ]
    assert log[0]["message_id"] == request.message_id and log[0]["next_attempt_at"] is None


async def test_only_later_events_of_the_chosen_names_and_calendars(
    delivering: Delivering, writer: HubClient, receiver: Receiver
) -> None:
    """Nothing from before creation; `events` filters; other events' fields inline; new calendars too."""
    api, admin = delivering.api, delivering.admin
    calendar = await make_calendar(writer)
    first = await book(writer, calendar, 0)
    await book(writer, calendar, 1)
    only = await add_webhook(
        api,
        admin,
        receiver.url + "/cancelled",
        calendar_id=calendar["id"],
        events=["appointment.cancelled"],
    )
    assert only["events"] == ["appointment.cancelled"]
    every = await add_webhook(api, admin, receiver.url + "/calendar", calendar_id=calendar["id"])
    everywhere = await add_webhook(api, admin, receiver.url + "/all")
    await book(writer, calendar, 2)
    await writer.ok("appointment.cancel", {"appointment_id": first["id"]})
    await writer.ok("calendar.update", {"calendar_id": calendar["id"], "name": "Renamed"})
    later = await make_calendar(writer)  # made after the webhooks: delivered from seq 1
    await book(writer, later, 0)

    def seen(path: str) -> list[tuple[str, str, int]]:
        return [
            (r.payload["type"], r.payload["data"]["channel"], r.seq)
            for r in receiver.requests
            if r.path == "/hook" + path
        ]

    here, there = f"calendar:{calendar['id']}", f"calendar:{later['id']}"
    await receiver.wait_until(lambda: len(seen("/calendar")) == 3 and len(seen("/all")) == 4)
    await asyncio.sleep(0.5)
    assert seen("/cancelled") == [("appointment.cancelled", here, 4)]
    assert seen("/calendar") == [
        ("appointment.created", here, 3),
        ("appointment.cancelled", here, 4),
        ("calendar.updated", here, 5),
    ]
    # Order holds per channel; the two channels' deliveries may interleave.
    assert [s for s in seen("/all") if s[1] == here] == seen("/calendar")
    assert [s for s in seen("/all") if s[1] == there] == [("appointment.created", there, 1)]
    renamed = next(r for r in receiver.requests if r.payload["type"] == "calendar.updated")
    data = renamed.payload["data"]
    assert data["name"] == "Renamed" and data["id"] == calendar["id"] and data["seq"] == 5
    for hook in (only, every, everywhere):
        assert (
            await api.delete(f"/api/v1/webhooks/{hook['id']}", headers=admin.auth)
        ).status_code == 204


async def test_order_holds_under_retries(
    delivering: Delivering, writer: HubClient, receiver: Receiver
) -> None:
    """The 2nd event fails three times: nothing after it arrives before it; retries back off."""
    api, admin = delivering.api, delivering.admin
    calendar = await make_calendar(writer)
    hook = await add_webhook(api, admin, receiver.url, calendar_id=calendar["id"])
    receiver.fail_first = {2: 3}
    for index in range(4):
        await book(writer, calendar, index)
    await receiver.wait_until(lambda: len(receiver.successes()) == 4)
    await asyncio.sleep(0.3)
    assert [(r.seq, r.status) for r in receiver.requests] == [
        (1, 200),
        (2, 500),
        (2, 500),
        (2, 500),
        (2, 200),
        (3, 200),
        (4, 200),
    ]
    second = [r for r in receiver.requests if r.seq == 2]
    assert len({r.message_id for r in second}) == 1
    gaps = [b.at - a.at for a, b in itertools.pairwise(second)]
    assert gaps[0] >= 0.15 and gaps[2] > gaps[0]
    log = {d["seq"]: d for d in await settled_log(api, admin, hook, 4)}
    assert {seq: (d["status"], d["attempts"]) for seq, d in log.items()} == {
        1: ("success", 1),
        2: ("success", 4),
        3: ("success", 1),
        4: ("success", 1),
    }


async def test_a_stalled_receiver_does_not_delay_another_webhook(
    delivering: Delivering, writer: HubClient, receiver: Receiver
) -> None:
    """One receiver holds every answer back; the other webhook still gets each event within 1 s."""
    api, admin = delivering.api, delivering.admin
    stalled = await Receiver(stall_seconds=30).start()
    try:
        calendar = await make_calendar(writer)
        await add_webhook(api, admin, stalled.url, calendar_id=calendar["id"])
        await add_webhook(api, admin, receiver.url, calendar_id=calendar["id"])
        for index in range(3):
            booked_at = time.monotonic()
            await book(writer, calendar, index)
            await receiver.wait_until(arrived(receiver, index + 1), timeout=5)
            assert receiver.requests[-1].at - booked_at < 1.0
            assert receiver.requests[-1].seq == index + 1
        assert stalled.requests and {r.seq for r in stalled.requests} == {1}
        for hook in (await api.get("/api/v1/webhooks", headers=admin.auth)).json():
            if hook["url"] == stalled.url:
                await api.delete(f"/api/v1/webhooks/{hook['id']}", headers=admin.auth)
    finally:
        await stalled.stop()


async def test_the_retry_window_disables_the_webhook_and_retry_now_resumes(
    delivering: Delivering, writer: HubClient, receiver: Receiver
) -> None:
    """500s past HUB_WEBHOOK_RETRY_HOURS: failed, disabled, no more attempts; retry now delivers."""
    api, admin = delivering.api, delivering.admin
    calendar = await make_calendar(writer)
    hook = await add_webhook(api, admin, receiver.url, calendar_id=calendar["id"])
    receiver.status = 500
    await book(writer, calendar, 0)

    async def disabled() -> bool:
        listed = (await api.get("/api/v1/webhooks", headers=admin.auth)).json()
        return not next(h for h in listed if h["id"] == hook["id"])["enabled"]

    started = time.monotonic()
    await eventually(disabled, timeout=15)
    assert time.monotonic() - started >= 3.6 - 0.5  # not before the window ran out
    [failed] = await log_of(api, admin, hook)
    assert failed["status"] == "failed" and failed["last_status_code"] == 500
    assert failed["attempts"] == len(receiver.requests) >= 4
    count = len(receiver.requests)
    await book(writer, calendar, 1)
    await asyncio.sleep(1.0)
    assert len(receiver.requests) == count

    receiver.status = 200
    retried = await api.post(f"/api/v1/webhooks/{hook['id']}/retry", headers=admin.auth)
    assert retried.status_code == 200 and retried.json()["enabled"] is True
    await receiver.wait_until(lambda: [r.seq for r in receiver.successes()] == [1, 2])
    log = {d["seq"]: d for d in await settled_log(api, admin, hook, 2)}
    assert log[1]["status"] == "success" and log[1]["attempts"] == count + 1
    assert log[2]["status"] == "success"


async def test_a_redirect_is_not_followed(
    delivering: Delivering, writer: HubClient, receiver: Receiver
) -> None:
    """A 302 is a failed attempt; the place it points to never hears from the hub."""
    api, admin = delivering.api, delivering.admin
    redirecting = await Receiver(redirect_to=receiver.url).start()
    try:
        calendar = await make_calendar(writer)
        hook = await add_webhook(api, admin, redirecting.url, calendar_id=calendar["id"])
        await book(writer, calendar, 0)
        await redirecting.wait_until(lambda: len(redirecting.requests) >= 2)
        [pending] = await log_of(api, admin, hook)
        assert pending["status"] == "pending" and pending["last_status_code"] == 302
        assert pending["next_attempt_at"] is not None
        assert receiver.requests == []
        await api.delete(f"/api/v1/webhooks/{hook['id']}", headers=admin.auth)
    finally:
        await redirecting.stop()


async def test_webhooks_belong_to_their_admin(
    delivering: Delivering, writer: HubClient, receiver: Receiver
) -> None:
    """Lists carry no secret; another admin's webhook id is 404 everywhere; bad fields are 422/404."""
    api, admin = delivering.api, delivering.admin
    calendar = await make_calendar(writer)
    hook = await add_webhook(api, admin, receiver.url, calendar_id=calendar["id"])
    listed = (await api.get("/api/v1/webhooks", headers=admin.auth)).json()
    mine = next(h for h in listed if h["id"] == hook["id"])
    assert mine == {k: v for k, v in hook.items() if k != "secret"}
    other = await in_process_admin(delivering.server, api)
    assert (await api.get("/api/v1/webhooks", headers=other.auth)).json() == []
    base = f"/api/v1/webhooks/{hook['id']}"
    for method, path in (("GET", "/deliveries"), ("POST", "/retry"), ("DELETE", "")):
        reply = await api.request(method, base + path, headers=other.auth)
        assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"
    user = await sign_up(api, "user")
    assert (await api.get("/api/v1/webhooks", headers=user.auth)).status_code == 403
    for body, status, field in (
        ({"url": receiver.url, "events": ["appointment.exploded"]}, 422, "events"),
        ({"url": receiver.url, "events": []}, 422, "events"),
        (
            {"url": receiver.url, "calendar_id": "00000000-0000-4000-8000-000000000000"},
            404,
            "calendar_id",
        ),
        ({"events": ["appointment.created"]}, 422, "url"),
    ):
        reply = await api.post("/api/v1/webhooks", json=body, headers=admin.auth)
        assert reply.status_code == status, reply.text
        assert reply.json()["error"]["details"]["field"] == field
    assert (await api.delete(base, headers=admin.auth)).status_code == 204
    assert (await api.get(base + "/deliveries", headers=admin.auth)).status_code == 404


async def test_deliveries_pause_while_the_owner_is_no_admin(
    delivering: Delivering, writer: HubClient, receiver: Receiver
) -> None:
    """Demoting a webhook's owner stops its deliveries; promoting them again resumes, in order."""
    api, admin = delivering.api, delivering.admin
    owner = await in_process_admin(delivering.server, api)
    calendar = await make_calendar(writer)
    await add_webhook(api, owner, receiver.url, calendar_id=calendar["id"])
    await book(writer, calendar, 0)
    await receiver.wait_until(lambda: len(receiver.requests) == 1, timeout=5)
    change = f"/api/v1/users/{owner.id}"
    assert (await api.patch(change, json={"role": "staff"}, headers=admin.auth)).status_code == 200
    await asyncio.sleep(1.5)  # the workers see the account as it is now within a second
    await book(writer, calendar, 1)
    await asyncio.sleep(1.0)
    assert len(receiver.requests) == 1
    assert (await api.patch(change, json={"role": "admin"}, headers=admin.auth)).status_code == 200
    await receiver.wait_until(lambda: [r.seq for r in receiver.successes()] == [1, 2], timeout=5)


REFUSED_URLS = [
    "http://127.0.0.1:9/hook",
    "http://localhost:8080/",  # a name resolving to 127.0.0.1
    "http://2130706433/",  # 127.0.0.1 written as one number
    "http://10.1.2.3/",
    "http://192.168.0.10:8080/x",
    "http://169.254.169.254/latest/meta-data/",  # link-local: cloud metadata
    "http://100.64.0.1/",  # shared address space
    "http://224.0.0.1/",
    "http://0.0.0.0/",
    "http://[::1]:8080/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[::]/",
    "https://does-not-exist.invalid/",
    "ftp://192.0.2.10/",
    "file:///etc/passwd",
    "not a url",
]


async def test_ssrf_refusals(api: httpx.AsyncClient, admin: Account, admin_ws: HubClient) -> None:
    """Loopback, private, link-local, multicast, unspecified, IPv6, names, schemes: 422 on url."""
    for url in REFUSED_URLS:
        reply = await api.post("/api/v1/webhooks", json={"url": url}, headers=admin.auth)
        assert reply.status_code == 422, (url, reply.text)
        error = reply.json()["error"]
        assert error["code"] == "bad_request" and error["details"]["field"] == "url", url
    assert (await api.get("/api/v1/webhooks", headers=admin.auth)).json() == []
    quiet = await make_calendar(admin_ws)  # no event will ever reach the accepted one
    accepted = await api.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.215.14/hook", "calendar_id": quiet["id"]},
        headers=admin.auth,
    )
    assert accepted.status_code == 201, accepted.text
    deleted = await api.delete(f"/api/v1/webhooks/{accepted.json()['id']}", headers=admin.auth)
    assert deleted.status_code == 204


async def test_every_attempt_checks_the_address_again(tmp_path: Path) -> None:
    """A webhook made while private addresses were allowed is refused at delivery once they are not."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/hub.db", **SHARED_SERVER_ENV}
    target = await Receiver().start()
    lenient = await InProcessHub({**env, **DELIVERING}).start()
    try:
        async with httpx.AsyncClient(base_url=lenient.url, timeout=15) as api:
            admin = await in_process_admin(lenient, api)
            ws = await session(lenient.ws_url, admin.access_token)
            calendar = await make_calendar(ws)
            await ws.close()
            hook = await add_webhook(api, admin, target.url, calendar_id=calendar["id"])
    finally:
        await lenient.stop()
    strict = {**DELIVERING, "HUB_WEBHOOK_ALLOW_PRIVATE": "false"}
    server = await InProcessHub({**env, **strict}).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as api:
            ws = await session(server.ws_url, admin.access_token)
            await book(ws, calendar, 0)
            await ws.close()

            async def refused() -> bool:
                log = await log_of(api, admin, hook)
                return bool(log) and log[0]["attempts"] >= 2

            await eventually(refused)
            [pending] = await log_of(api, admin, hook)
            assert pending["status"] == "pending" and pending["last_status_code"] is None
            assert "loopback" in pending["last_error"]
            assert target.requests == []
    finally:
        await server.stop()
        await target.stop()


async def test_receiver_down_and_process_killed_then_all_five_arrive_in_order(
    private_env: dict[str, str],
) -> None:
    """5 bookings while the receiver is down, the delivering process SIGKILLed: all 5 arrive, in order."""
    env = {**private_env, **DELIVERING, "HUB_WEBHOOK_RETRY_HOURS": "1"}
    down = await Receiver().start()
    port = down.port
    await down.stop()
    first, second = HubServer(env), HubServer(env)
    receiver = Receiver(port=port)
    try:
        await asyncio.to_thread(first.start)
        admin = await promoted_admin(first, env)
        async with httpx.AsyncClient(base_url=first.url, timeout=15) as api:
            ws = await session(first.ws_url, admin.access_token)
            calendar = await make_calendar(ws)
            await ws.close()
            hook = await add_webhook(api, admin, receiver.url, calendar_id=calendar["id"])
            booked = []
            for index in range(5):
                body = {"calendar_id": calendar["id"], "title": f"Visit {index}", **slot(index)}
                reply = await api.post("/api/v1/appointments/", json=body, headers=admin.auth)
                assert reply.status_code == 201, reply.text
                booked.append(reply.json()["id"])

            async def tried() -> bool:
                log = await log_of(api, admin, hook)
                return bool(log) and log[0]["attempts"] >= 2

            await eventually(tried)
        first.kill()
        await receiver.start()
        await asyncio.to_thread(second.start)
        await receiver.wait_until(lambda: len(receiver.successes()) == 5, timeout=30)
        delivered = receiver.successes()
        assert [r.seq for r in delivered] == [1, 2, 3, 4, 5]
        assert [r.payload["data"]["appointment"]["id"] for r in delivered] == booked
        assert len(receiver.requests) == 5  # none attempted twice
    finally:
        first.kill()
        await asyncio.to_thread(second.stop)
        await receiver.stop()
        for server in (first, second):
            server.log_path.unlink(missing_ok=True)


async def test_two_processes_attempt_each_delivery_once() -> None:
    """Two hubs on PostgreSQL, 20 bookings over 4 calendars, 2 webhooks: each attempt made once."""
    receiver = await Receiver(fail_new_messages=True).start()
    async with services_env() as base:
        env = {**base, **DELIVERING, "HUB_WEBHOOK_CONCURRENCY": "2"}
        hubs = [await InProcessHub(env).start(), await InProcessHub(env).start()]
        try:
            async with httpx.AsyncClient(base_url=hubs[0].url, timeout=15) as api:
                admin = await in_process_admin(hubs[0], api)
                writers = [await session(h.ws_url, admin.access_token) for h in hubs]
                calendars = [await make_calendar(writers[0]) for _ in range(4)]
                hooks = [
                    await add_webhook(api, admin, receiver.url + path) for path in ("/a", "/b")
                ]
                for index in range(20):
                    await book(writers[index % 2], calendars[index % 4], index)
                for writer in writers:
                    await writer.close()
                await receiver.wait_until(lambda: len(receiver.successes()) == 40, timeout=30)
                await asyncio.sleep(0.5)
                per_message = Counter(r.message_id for r in receiver.requests)
                assert set(per_message.values()) == {2}  # the failed first attempt, then one
                logged = {}
                for hook in hooks:
                    for delivery in await settled_log(api, admin, hook, 20):
                        logged[delivery["message_id"]] = delivery["attempts"]
                        assert delivery["status"] == "success"
                assert logged == dict(per_message)
                for path in ("/hook/a", "/hook/b"):
                    for calendar in calendars:
                        channel = f"calendar:{calendar['id']}"
                        seqs = [
                            r.seq
                            for r in receiver.requests
                            if r.path == path and r.payload["data"]["channel"] == channel
                        ]
                        assert seqs == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
            made = [h.runtime.deliveries.attempts for h in hubs]
            assert sum(made) == len(receiver.requests) == 80
            assert all(made), f"one process did every attempt: {made}"
        finally:
            for hub in hubs:
                await hub.stop()
            await receiver.stop()


def arrived(receiver: Any, count: int) -> Callable[[], bool]:
    """A condition: the receiver has had ``count`` requests."""
    return lambda: len(receiver.requests) == count
