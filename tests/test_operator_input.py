"""Hostile or mistaken input at the edges: REST methods, 429s, proxies, tokens, the command line."""

from __future__ import annotations

import asyncio
import math
import socket
import time
import uuid

import httpx
import jwt
import pytest

from tests.conftest import Backend, sign_in, sign_up
from tests.inproc import InProcessHub
from tests.servers import HubServer, free_port, run_hub


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/api/v1/auth/login", "POST"),
        ("PUT", "/api/v1/users/me", "GET, HEAD, PATCH"),
        ("DELETE", "/api/v1/auth/me", "GET, HEAD"),
        (
            "POST",
            "/api/v1/appointments/00000000-0000-4000-8000-000000000000",
            "DELETE, GET, HEAD, PATCH",
        ),
        ("PATCH", "/health", "GET, HEAD"),
    ],
)
async def test_a_method_a_path_does_not_serve_is_405_with_a_true_allow(
    api: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    """Not the static files' 405 (Allow: GET, HEAD), nor a 404: the API's own methods."""
    reply = await api.request(method, path)
    assert reply.status_code == 405, reply.text
    assert reply.headers["allow"] == allow
    assert reply.json()["error"]["code"] == "bad_request"


async def test_every_429_carries_retry_after(api: httpx.AsyncClient) -> None:
    """Sign-in throttling answers 429 with Retry-After in seconds, beside details.retry_after_ms."""
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.test"
    answers = [
        await api.post("/api/v1/auth/login/json", json={"email": email, "password": "wrong one"})
        for _ in range(6)
    ]
    throttled = answers[-1]
    assert throttled.status_code == 429
    waited_ms = throttled.json()["error"]["details"]["retry_after_ms"]
    assert int(throttled.headers["retry-after"]) == max(1, math.ceil(waited_ms / 1000))


async def failures_until_throttled(api: httpx.AsyncClient, headers: list[dict[str, str]]) -> int:
    """Failed sign-ins (one per header set) until the first 429; len+1 when none came."""
    for count, header in enumerate(headers, start=1):
        email = f"x-{uuid.uuid4().hex[:8]}@example.test"
        reply = await api.post(
            "/api/v1/auth/login/json", json={"email": email, "password": "wrong"}, headers=header
        )
        if reply.status_code == 429:
            return count
    return len(headers) + 1


async def test_forwarded_for_is_believed_only_from_trusted_proxies(backend: Backend) -> None:
    """By default a rotated X-Forwarded-For does not escape the per-address limit; behind a
    trusted proxy the forwarded address is the one counted."""
    rotating = [{"X-Forwarded-For": f"203.0.113.{i}"} for i in range(1, 8)]
    same = [{"X-Forwarded-For": "198.51.100.7"}] * 7
    limit = {"HUB_LOGIN_MAX_FAILURES_PER_IP": "3", "HUB_REDIS_PREFIX": f"t:{uuid.uuid4().hex}:"}
    for trusted, expected_rotating, expected_same in (("", 4, 4), ("127.0.0.1", 8, 4)):
        env = {**backend.env, **limit, "HUB_TRUSTED_PROXIES": trusted}
        env["HUB_REDIS_PREFIX"] = f"t:{uuid.uuid4().hex}:"
        server = HubServer(env)
        await asyncio.to_thread(server.start)
        try:
            async with httpx.AsyncClient(base_url=server.url) as api:
                assert await failures_until_throttled(api, rotating) == expected_rotating
                if trusted:
                    assert await failures_until_throttled(api, same) == expected_same
        finally:
            await asyncio.to_thread(server.stop)


async def test_token_claims_that_cannot_be_honoured_are_unauthorized(
    hub: InProcessHub, api: httpx.AsyncClient
) -> None:
    """Signed with the real key, but exp 1e20, exp as text, or no sign-in: 401, never 500."""
    account = await sign_up(api)
    claims = jwt.decode(account.access_token, options={"verify_signature": False})
    key = hub.settings.secret_key
    for changes in ({"exp": 1e20}, {"exp": str(int(time.time()) + 600)}, {"fam": None}):
        bad = {**claims, **changes}
        bad = {k: v for k, v in bad.items() if v is not None}
        token = jwt.encode(bad, key, algorithm="HS256")
        reply = await api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert reply.status_code == 401, (changes, reply.text)


async def test_create_admin_with_a_password_sets_it_on_an_existing_account(
    backend: Backend, api: httpx.AsyncClient
) -> None:
    """create-admin --password on an existing account promotes it and resets its password."""
    account = await sign_up(api)
    result = await asyncio.to_thread(
        run_hub,
        ["create-admin", "--email", account.email, "--password", "reset by the operator"],
        backend.env,
    )
    assert result.returncode == 0, result.stderr
    old = await api.post(
        "/api/v1/auth/login/json", json={"email": account.email, "password": account.password}
    )
    assert old.status_code == 401
    account.password = "reset by the operator"
    admin = await sign_in(api, account)
    assert admin.role == "admin"
    # The reset ended every earlier sign-in.
    stale = {"Authorization": f"Bearer {account.access_token}"}
    assert (await api.get("/api/v1/auth/me", headers=stale)).status_code == 401


def test_serving_on_a_port_in_use_is_one_line_and_status_1(tmp_path: object) -> None:
    """hub serve --demo on a taken port says so in one line and exits 1, announcing nothing."""
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        env = {"DATABASE_URL": f"sqlite:///{tmp_path}/hub.db"}
        result = run_hub(["serve", "--demo", "--port", str(port)], env, timeout=60)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.strip().count("\n") == 0 and "cannot listen" in result.stderr
    assert "Demo clinic ready" not in result.stdout
