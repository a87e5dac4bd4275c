"""The socket session: hello, answers, bad input and close codes."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import Backend, sign_up
from tests.servers import HubServer
from tests.wsclient import HubClient, session


async def test_hello_answers_session_details(hub: HubServer, api: httpx.AsyncClient) -> None:
    """hello returns the session id, the user, server time, expiry and protocol 1."""
    account = await sign_up(api)
    client = await HubClient.open(hub.ws_url)
    data = await client.ok("hello", {"token": account.access_token})
    assert data["protocol"] == 1 and data["session_id"]
    assert data["user"] == {
        "id": account.id,
        "email": account.email,
        "full_name": "User",
        "role": "user",
    }
    assert data["server_time"].endswith("Z") and data["access_expires_at"].endswith("Z")
    assert (await client.ok("ping"))["server_time"].endswith("Z")
    await client.close()


async def test_hello_with_authorization_header(hub: HubServer, api: httpx.AsyncClient) -> None:
    """The token may come in the upgrade request's Authorization header instead."""
    account = await sign_up(api)
    client = await HubClient.open(hub.ws_url, additional_headers=account.auth)
    data = await client.ok("hello")
    assert data["user"]["id"] == account.id
    await client.close()


async def test_request_before_hello_is_unauthorized_and_closes(hub: HubServer) -> None:
    """Anything but hello first: error unauthorized, then close 4001."""
    client = await HubClient.open(hub.ws_url)
    error = await client.error("ping")
    assert error["code"] == "unauthorized"
    assert await client.closed_with() == 4001


async def test_bad_token_in_hello_closes_4001(hub: HubServer) -> None:
    """A forged token: unauthorized and close 4001."""
    client = await HubClient.open(hub.ws_url)
    error = await client.error("hello", {"token": "not.a.jwt"})
    assert error["code"] == "unauthorized"
    assert await client.closed_with() == 4001


async def test_no_hello_in_time_closes_4001(backend: Backend) -> None:
    """A socket that never says hello is closed with 4001 at the deadline."""
    server = HubServer(dict(backend.env, HUB_HELLO_TIMEOUT="0.5"))
    await asyncio.to_thread(server.start)
    try:
        client = await HubClient.open(server.ws_url)
        assert await client.closed_with(5) == 4001
    finally:
        await asyncio.to_thread(server.stop)


async def test_binary_frame_closes_1003(hub: HubServer, api: httpx.AsyncClient) -> None:
    """A binary frame closes the socket with 1003."""
    account = await sign_up(api)
    client = await session(hub.ws_url, account.access_token)
    await client.send_raw(b"\x00\x01")
    assert await client.closed_with() == 1003


async def test_oversized_message_closes_1009(hub: HubServer, api: httpx.AsyncClient) -> None:
    """A message over HUB_WS_MAX_BYTES (65536) closes with 1009."""
    account = await sign_up(api)
    client = await session(hub.ws_url, account.access_token)
    await client.send_raw(json.dumps({"id": 1, "type": "ping", "pad": "x" * 70000}))
    assert await client.closed_with() == 1009


async def test_foreign_origin_is_refused_403(hub: HubServer) -> None:
    """A browser handshake from another site is refused; same origin and none are fine."""
    with pytest.raises(InvalidStatus) as refused:
        await connect(hub.ws_url, origin="https://evil.example")  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    same = await connect(hub.ws_url, origin=f"http://127.0.0.1:{hub.port}")  # type: ignore[arg-type]
    await same.close()


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ("not json", None),
        ("[1,2]", None),
        ('{"id": 1}', "type"),
        ('{"id": 1, "type": 5}', "type"),
        ('{"id": 1, "type": "no.such.type"}', "type"),
        ('{"id": {"x": 1}, "type": "ping"}', "id"),
        ('{"id": true, "type": "ping"}', "id"),
        ('{"id": 1, "type": "subscribe", "data": []}', "data"),
        ('{"id": 1, "type": "subscribe", "data": {}}', "channel"),
        ('{"id": 1, "type": "subscribe", "data": {"channel": "room:1"}}', "channel"),
        (
            '{"id": 1, "type": "subscribe", "data": {"channel": "calendar:00000000-0000-0000-0000-000000000000", "since": "3"}}',
            "since",
        ),
        (
            '{"id": 1, "type": "subscribe", "data": {"channel": "calendar:00000000-0000-0000-0000-000000000000", "since": -1}}',
            "since",
        ),
        ('{"id": 1, "type": "appointment.create", "data": {"calendar_id": "x"}}', "calendar_id"),
        (
            '{"id": 1, "type": "appointment.cancel", "data": {"appointment_id": "00000000-0000-0000-0000-000000000000", "version": 1.5}}',
            "version",
        ),
    ],
)
async def test_malformed_messages_get_bad_request_and_socket_stays(
    hub: HubServer, api: httpx.AsyncClient, frame: str, field: str | None
) -> None:
    """Each malformed message is answered bad_request naming the field; ping still works."""
    account = await sign_up(api)
    client = await session(hub.ws_url, account.access_token)
    await client.send_raw(frame)
    async with asyncio.timeout(5):
        while not (errors := [f for f in client.frames if f.get("type") == "error"]):
            await asyncio.sleep(0.02)
    answer = errors[0]
    assert answer["type"] == "error" and answer["error"]["code"] == "bad_request", answer
    assert answer["error"].get("details", {}).get("field") == field
    assert (await client.ok("ping"))["server_time"]
    await client.close()


async def test_answers_come_in_request_order(hub: HubServer, api: httpx.AsyncClient) -> None:
    """Many pipelined requests of mixed kinds: answers arrive in the order sent."""
    account = await sign_up(api)
    client = await session(hub.ws_url, account.access_token)
    kinds = ["ping", "calendars.list", "no.such", "ping"] * 5
    for index, kind in enumerate(kinds):
        await client.send_raw(json.dumps({"id": f"o{index}", "type": kind}))
    async with asyncio.timeout(10):
        while sum(1 for f in client.frames if str(f.get("id", "")).startswith("o")) < len(kinds):
            await asyncio.sleep(0.02)
    order = [f["id"] for f in client.frames if str(f.get("id", "")).startswith("o")]
    assert order == [f"o{i}" for i in range(len(kinds))]
    await client.close()


async def test_role_gated_messages_are_forbidden(hub: HubServer, api: httpx.AsyncClient) -> None:
    """A user may not create calendars, list users or set statuses."""
    account = await sign_up(api)
    client = await session(hub.ws_url, account.access_token)
    calendar_id = str(uuid.uuid4())
    assert (
        await client.error("calendar.create", {"name": "x", "timezone": "UTC", "working_hours": []})
    )["code"] == "forbidden"
    assert (await client.error("users.list"))["code"] == "forbidden"
    assert (await client.error("user.update", {"user_id": account.id, "role": "admin"}))[
        "code"
    ] == "forbidden"
    assert (
        await client.error(
            "appointment.set_status", {"appointment_id": calendar_id, "status": "confirmed"}
        )
    )["code"] == "forbidden"
    await client.close()


async def test_token_expiry_on_live_socket_closes_4001(backend: Backend) -> None:
    """A live session whose token expires without auth.refresh is told and closed with 4001."""
    server = HubServer(dict(backend.env, ACCESS_TOKEN_EXPIRE_MINUTES="0.03"))
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as api:
            account = await sign_up(api)
        client = await session(server.ws_url, account.access_token)
        notice = await asyncio.wait_for(client.unsolicited.get(), 10)
        assert notice["type"] == "error" and notice["error"]["code"] == "unauthorized"
        assert "id" not in notice
        assert await client.closed_with() == 4001
    finally:
        await asyncio.to_thread(server.stop)


async def test_auth_refresh_extends_the_session(backend: Backend) -> None:
    """auth.refresh with a new token of the same user keeps the socket open past the old expiry."""
    server = HubServer(dict(backend.env, ACCESS_TOKEN_EXPIRE_MINUTES="0.04"))
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as api:
            account = await sign_up(api)
            other = await sign_up(api)
            client = await session(server.ws_url, account.access_token)
            await asyncio.sleep(1.0)
            fresh = (
                await api.post(
                    "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
                )
            ).json()
            wrong = await client.error("auth.refresh", {"token": other.access_token})
            assert wrong["code"] == "forbidden"
            data = await client.ok("auth.refresh", {"token": fresh["access_token"]})
            assert data["access_expires_at"].endswith("Z")
            await asyncio.sleep(1.8)  # past the first token's 2.4 s lifetime
            assert (await client.ok("ping"))["server_time"]
            await client.close()
    finally:
        await asyncio.to_thread(server.stop)


async def test_logout_closes_live_socket(hub: HubServer, api: httpx.AsyncClient) -> None:
    """Logout revokes the access token, and the socket using it closes with 4001."""
    account = await sign_up(api)
    client = await session(hub.ws_url, account.access_token)
    out = await api.post("/api/v1/auth/logout", json={}, headers=account.auth)
    assert out.status_code == 204
    notice = await asyncio.wait_for(client.unsolicited.get(), 10)
    assert notice["error"]["code"] == "unauthorized"
    assert await client.closed_with() == 4001


async def test_deactivation_closes_live_socket(
    hub: HubServer, api: httpx.AsyncClient, admin_ws: HubClient
) -> None:
    """user.update is_active=false closes the user's sockets with 4001."""
    account = await sign_up(api)
    client = await session(hub.ws_url, account.access_token)
    data = await admin_ws.ok("user.update", {"user_id": account.id, "is_active": False})
    assert data["user"]["is_active"] is False
    assert await client.closed_with() == 4001
    assert (
        await api.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    ).status_code == 401


async def test_flooding_is_rate_limited_then_closed_4029(backend: Backend) -> None:
    """Past the burst: rate_limited with retry_after_ms; kept flooding: close 4029."""
    env = dict(
        backend.env,
        HUB_RATE_LIMIT_PER_SECOND="5",
        HUB_RATE_LIMIT_BURST="5",
        HUB_RATE_LIMIT_STRIKES="10",
    )
    server = HubServer(env)
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as api:
            account = await sign_up(api)
        client = await session(server.ws_url, account.access_token)
        for index in range(40):
            await client.send_raw(json.dumps({"id": index, "type": "ping"}))
        assert await client.closed_with() == 4029
        limited = [f for f in client.frames if f.get("type") == "error"]
        assert limited and limited[0]["error"]["code"] == "rate_limited"
        assert limited[0]["error"]["details"]["retry_after_ms"] > 0
    finally:
        await asyncio.to_thread(server.stop)
