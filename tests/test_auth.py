"""Sign-in over REST against a real hub, on both backends."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import jwt
import pytest

from tests.conftest import Account, Backend, clear_redis_prefix, sign_in, sign_up
from tests.servers import HubServer


def _email() -> str:
    return f"u-{uuid.uuid4().hex[:10]}@example.test"


async def test_register_returns_user_without_password(api: httpx.AsyncClient) -> None:
    """Registration answers 201 with the user and never the password or its hash."""
    email = _email()
    reply = await api.post(
        "/api/v1/auth/register",
        json={"email": email, "password": "longenough1", "full_name": "Ada Lovelace"},
    )
    assert reply.status_code == 201
    body = reply.json()
    assert set(body) == {"id", "email", "full_name", "role", "is_active", "created_at"}
    assert body["email"] == email and body["role"] == "user" and body["is_active"] is True
    assert body["created_at"].endswith("Z")
    assert "longenough1" not in reply.text


async def test_duplicate_email_in_other_case_is_409(api: httpx.AsyncClient) -> None:
    """Emails are unique without regard to case."""
    email = _email()
    first = await api.post(
        "/api/v1/auth/register", json={"email": email, "password": "longenough1", "full_name": "A"}
    )
    assert first.status_code == 201
    again = await api.post(
        "/api/v1/auth/register",
        json={"email": email.upper(), "password": "longenough1", "full_name": "B"},
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_exists"


async def test_concurrent_duplicate_registrations_make_one_account(api: httpx.AsyncClient) -> None:
    """Racing registrations of one email: exactly one 201, the rest 409."""
    email = _email()
    replies = await asyncio.gather(
        *[
            api.post(
                "/api/v1/auth/register",
                json={"email": email, "password": "longenough1", "full_name": "R"},
            )
            for _ in range(5)
        ]
    )
    codes = sorted(r.status_code for r in replies)
    assert codes == [201, 409, 409, 409, 409]


async def test_login_form_and_json_give_bearer_tokens(api: httpx.AsyncClient) -> None:
    """Both login forms answer a token pair whose JWT carries sub, role, exp, iat, jti."""
    account = await sign_up(api)
    form = await api.post(
        "/api/v1/auth/login", data={"username": account.email, "password": account.password}
    )
    assert form.status_code == 200, form.text
    tokens = form.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 1800
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["sub"] == account.id and claims["role"] == "user"
    assert {"exp", "iat", "jti"} <= set(claims)
    assert claims["exp"] - claims["iat"] == pytest.approx(1800, abs=2)
    assert jwt.get_unverified_header(tokens["access_token"])["alg"] == "HS256"
    me = await api.get(
        "/api/v1/auth/me", headers={"Authorization": "Bearer " + tokens["access_token"]}
    )
    assert me.status_code == 200 and me.json()["email"] == account.email


async def test_wrong_password_and_unknown_email_look_the_same(api: httpx.AsyncClient) -> None:
    """401 with one message for both, so emails cannot be probed."""
    account = await sign_up(api)
    wrong = await api.post(
        "/api/v1/auth/login/json", json={"email": account.email, "password": "wrong-password"}
    )
    unknown = await api.post(
        "/api/v1/auth/login/json", json={"email": _email(), "password": "wrong-password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "unauthorized"


async def test_unknown_email_costs_as_much_as_wrong_password(api: httpx.AsyncClient) -> None:
    """An unknown email is verified against a dummy hash: no fast path to probe."""
    account = await sign_up(api)

    async def timed(email: str) -> float:
        started = time.perf_counter()
        await api.post("/api/v1/auth/login/json", json={"email": email, "password": "nope-nope"})
        return time.perf_counter() - started

    known = sorted([await timed(account.email) for _ in range(3)])[1]
    unknown = sorted([await timed(_email()) for _ in range(3)])[1]
    # A missing hash check would make the unknown case several times faster.
    assert unknown > known * 0.4


async def test_repeated_failed_logins_are_rate_limited(api: httpx.AsyncClient) -> None:
    """The sixth failed login for one email in the window is 429 with retry_after_ms."""
    account = await sign_up(api)
    for _ in range(5):
        reply = await api.post(
            "/api/v1/auth/login/json", json={"email": account.email, "password": "bad-password"}
        )
        assert reply.status_code == 401
    limited = await api.post(
        "/api/v1/auth/login/json", json={"email": account.email, "password": account.password}
    )
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["code"] == "rate_limited" and error["details"]["retry_after_ms"] > 0


async def test_refresh_rotates_and_reuse_revokes_the_family(api: httpx.AsyncClient) -> None:
    """A refresh token works once; presenting it again revokes every descendant."""
    account = await sign_up(api)
    first = await api.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != account.refresh_token
    reuse = await api.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert reuse.status_code == 401
    # The descendant refresh token and its access token are revoked too.
    child = await api.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert child.status_code == 401
    me = await api.get(
        "/api/v1/auth/me", headers={"Authorization": "Bearer " + rotated["access_token"]}
    )
    assert me.status_code == 401


async def test_concurrent_refresh_of_one_token_never_gives_two_pairs(
    api: httpx.AsyncClient,
) -> None:
    """Two racing refreshes of one token: at most one succeeds."""
    account = await sign_up(api)
    replies = await asyncio.gather(
        *[
            api.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
            for _ in range(4)
        ]
    )
    assert sum(r.status_code == 200 for r in replies) <= 1
    assert sum(r.status_code == 401 for r in replies) >= 3


async def test_logout_revokes_access_and_refresh(api: httpx.AsyncClient) -> None:
    """After logout the same access token is 401 and the refresh token is dead."""
    account = await sign_up(api)
    out = await api.post(
        "/api/v1/auth/logout", json={"refresh_token": account.refresh_token}, headers=account.auth
    )
    assert out.status_code == 204
    me = await api.get("/api/v1/auth/me", headers=account.auth)
    assert me.status_code == 401
    again = await api.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert again.status_code == 401


async def test_expired_access_token_is_401(backend: Backend) -> None:
    """A token past its exp is refused (a private hub with 0.02-minute tokens)."""
    env = dict(backend.env, ACCESS_TOKEN_EXPIRE_MINUTES="0.02")
    server = HubServer(env)
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as api:
            account = await sign_up(api)
            assert (await api.get("/api/v1/auth/me", headers=account.auth)).status_code == 200
            await asyncio.sleep(1.6)
            expired = await api.get("/api/v1/auth/me", headers=account.auth)
            assert expired.status_code == 401
            assert "expired" in expired.json()["error"]["message"]
    finally:
        await asyncio.to_thread(server.stop)


async def test_forged_and_missing_tokens_are_401(api: httpx.AsyncClient) -> None:
    """No token, garbage, a token signed with another key or alg=none: all 401."""
    account = await sign_up(api)
    claims = jwt.decode(account.access_token, options={"verify_signature": False})
    forged = jwt.encode(claims, "another-secret-key-that-is-long-enough-123", algorithm="HS256")
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer " + forged},
        {"Authorization": "Bearer " + unsigned},
    ):
        reply = await api.get("/api/v1/auth/me", headers=headers)
        assert reply.status_code == 401, headers
        assert reply.json()["error"]["code"] == "unauthorized"


async def test_users_me_patch_changes_name_and_password(api: httpx.AsyncClient) -> None:
    """PATCH /users/me updates the name, and a new password works at the next login."""
    account = await sign_up(api)
    reply = await api.patch(
        "/api/v1/users/me",
        json={"full_name": "New Name", "password": "a-new-password"},
        headers=account.auth,
    )
    assert reply.status_code == 200 and reply.json()["full_name"] == "New Name"
    assert (await api.get("/api/v1/users/me", headers=account.auth)).json()[
        "full_name"
    ] == "New Name"
    old = await api.post(
        "/api/v1/auth/login/json", json={"email": account.email, "password": account.password}
    )
    new = await api.post(
        "/api/v1/auth/login/json", json={"email": account.email, "password": "a-new-password"}
    )
    assert old.status_code == 401 and new.status_code == 200


async def test_admin_endpoints(api: httpx.AsyncClient, admin: Account) -> None:
    """Admins list and read users; a user gets 403; unknown ids 404."""
    account = await sign_up(api)
    listed = await api.get("/api/v1/users/", headers=admin.auth)
    assert listed.status_code == 200
    assert account.id in {u["id"] for u in listed.json()}
    one = await api.get(f"/api/v1/users/{account.id}", headers=admin.auth)
    assert one.status_code == 200 and one.json()["email"] == account.email
    missing = await api.get(f"/api/v1/users/{uuid.uuid4()}", headers=admin.auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    for path in ("/api/v1/users/", f"/api/v1/users/{account.id}"):
        refused = await api.get(path, headers=account.auth)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


async def test_deactivated_user_cannot_sign_in_or_refresh(
    api: httpx.AsyncClient, admin: Account
) -> None:
    """Deactivation kills the refresh tokens and the access tokens of the account."""
    account = await sign_up(api)
    reply = await api.patch(
        f"/api/v1/users/{account.id}", json={"is_active": False}, headers=admin.auth
    )
    assert reply.status_code == 200 and reply.json()["is_active"] is False
    assert (
        await api.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    ).status_code == 401
    assert (await api.get("/api/v1/auth/me", headers=account.auth)).status_code == 401
    login = await api.post(
        "/api/v1/auth/login/json", json={"email": account.email, "password": account.password}
    )
    assert login.status_code == 401


async def test_create_admin_promotes_existing_account(
    backend: Backend, hub: HubServer, admin: Account, api: httpx.AsyncClient
) -> None:
    """The admin made by `hub create-admin` carries role admin in its token."""
    claims = jwt.decode(admin.access_token, options={"verify_signature": False})
    assert claims["role"] == "admin"
    account = await sign_up(api)
    again = await sign_in(api, account)
    assert again.role == "user"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "longenough1", "full_name": "A"}, "email"),
        ({"email": "not-an-email", "password": "longenough1", "full_name": "A"}, "email"),
        ({"email": 5, "password": "longenough1", "full_name": "A"}, "email"),
        ({"email": "a\x00b@x.io", "password": "longenough1", "full_name": "A"}, "email"),
        ({"email": "a@b.io", "password": "short", "full_name": "A"}, "password"),
        ({"email": "a@b.io", "password": 12345678, "full_name": "A"}, "password"),
        ({"email": "a@b.io", "password": "x" * 1025, "full_name": "A"}, "password"),
        ({"email": "a@b.io", "password": "longenough1"}, "full_name"),
        ({"email": "a@b.io", "password": "longenough1", "full_name": "   "}, "full_name"),
        ({"email": "a@b.io", "password": "longenough1", "full_name": "x" * 201}, "full_name"),
    ],
)
async def test_register_bad_fields_are_422_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    """Each invalid field is named in details.field and nothing is created."""
    reply = await api.post("/api/v1/auth/register", json=body)
    assert reply.status_code == 422
    error = reply.json()["error"]
    assert error["code"] == "bad_request" and error["details"]["field"] == field


async def test_other_bad_inputs(api: httpx.AsyncClient) -> None:
    """Malformed JSON 400, a non-object 422, oversized 413, bad form 422, refresh shape 422."""
    bad_json = await api.post(
        "/api/v1/auth/register", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "bad_request"
    not_object = await api.post("/api/v1/auth/register", json=[1, 2])
    assert not_object.status_code == 422
    huge = await api.post("/api/v1/auth/register", content=b"{" + b" " * (1 << 20) + b"}")
    assert huge.status_code == 413
    form = await api.post("/api/v1/auth/login", data={"username": "a@b.io"})
    assert form.status_code == 422 and form.json()["error"]["details"]["field"] == "password"
    grant = await api.post(
        "/api/v1/auth/login",
        data={"username": "a@b.io", "password": "x", "grant_type": "client_credentials"},
    )
    assert grant.status_code == 422 and grant.json()["error"]["details"]["field"] == "grant_type"
    refresh = await api.post("/api/v1/auth/refresh", json={"refresh_token": 7})
    assert (
        refresh.status_code == 422
        and refresh.json()["error"]["details"]["field"] == "refresh_token"
    )
    unknown_route = await api.get("/api/v1/nothing-here")
    assert unknown_route.status_code == 404 and unknown_route.json()["error"]["code"] == "not_found"


async def test_health_endpoints(api: httpx.AsyncClient, backend: Backend) -> None:
    """Health, database and Redis (disabled on the embedded default) all answer."""
    assert (await api.get("/health")).json() == {"status": "ok"}
    db = (await api.get("/health/db")).json()
    assert db["status"] == "ok" and db["rtt_ms"] >= 0
    redis_health = (await api.get("/health/redis")).json()
    assert redis_health["status"] == ("disabled" if backend.name == "embedded" else "ok")


async def test_cors_allows_only_configured_origins(backend: Backend) -> None:
    """A preflight from an allowed origin is accepted; others get no CORS headers."""
    server = HubServer(dict(backend.env, HUB_ALLOWED_ORIGINS="https://app.example.test"))
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as api:
            headers = {
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            }
            ok = await api.options(
                "/api/v1/auth/login/json", headers={"Origin": "https://app.example.test", **headers}
            )
            assert ok.headers.get("access-control-allow-origin") == "https://app.example.test"
            bad = await api.options(
                "/api/v1/auth/login/json", headers={"Origin": "https://evil.test", **headers}
            )
            assert bad.headers.get("access-control-allow-origin") is None
    finally:
        await asyncio.to_thread(server.stop)


async def test_failed_logins_are_throttled_per_address(backend: Backend) -> None:
    """Many emails failing from one address: that address gets 429, whatever the email."""
    prefix = f"hubtest:{uuid.uuid4().hex[:8]}:"
    # Its own Redis prefix: the shared server's failures from 127.0.0.1 must not count.
    server = HubServer(
        dict(
            backend.env,
            HUB_LOGIN_MAX_FAILURES_PER_IP="3",
            HUB_REDIS_PREFIX=prefix,
        )
    )
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url) as api:
            account = await sign_up(api)
            for _ in range(3):
                wrong = await api.post(
                    "/api/v1/auth/login/json",
                    json={"email": _email(), "password": "wrong-password"},
                )
                assert wrong.status_code == 401
            blocked = await api.post(
                "/api/v1/auth/login/json",
                json={"email": account.email, "password": account.password},
            )
            assert blocked.status_code == 429
            assert blocked.json()["error"]["details"]["retry_after_ms"] > 0
    finally:
        await asyncio.to_thread(server.stop)
        if backend.name == "services":
            await clear_redis_prefix(prefix)


async def test_admin_cannot_deactivate_themself_over_rest(
    api: httpx.AsyncClient, admin: Account
) -> None:
    """The REST twin of user.update obeys the same rule: no self-deactivation."""
    reply = await api.patch(
        f"/api/v1/users/{admin.id}", json={"is_active": False}, headers=admin.auth
    )
    assert reply.status_code == 422 and reply.json()["error"]["details"]["field"] == "is_active"
    assert (await api.get("/api/v1/auth/me", headers=admin.auth)).status_code == 200
