"""REST routes for sign-in and accounts (PROTOCOL.md, REST surface)."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.accounts import ROLES, require_admin
from hub.errors import BadRequest, MalformedBody
from hub.http import caller, json_response, node_of, read_body, read_json
from hub.schema import Field, Shape, parse_id, validate

PASSWORD = Field("password", "str", min_length=8, max_length=1024)
FULL_NAME = Field("full_name", "str", min_length=1, max_length=200)

REGISTER = Shape((Field("email", "email"), PASSWORD, FULL_NAME))
LOGIN_JSON = Shape((Field("email", "email"), Field("password", "str", max_length=1024)))
LOGIN_FORM = Shape((Field("username", "email"), Field("password", "str", max_length=1024)))
REFRESH = Shape((Field("refresh_token", "str", min_length=1, max_length=200),))
LOGOUT = Shape((Field("refresh_token", "str", required=False, max_length=200),))
PROFILE = Shape(
    (
        Field("full_name", "str", required=False, min_length=1, max_length=200),
        Field("password", "str", required=False, min_length=8, max_length=1024),
    )
)


async def register(request: Request) -> JSONResponse:
    body = validate(REGISTER, await read_json(request))
    user = await node_of(request).accounts.register(
        body["email"], body["password"], body["full_name"]
    )
    return json_response(user.to_wire(), status=201)


async def login_form(request: Request) -> JSONResponse:
    """OAuth2 password grant: ``application/x-www-form-urlencoded`` body."""
    raw = await read_body(request)
    try:
        pairs = parse_qs(raw.decode(), keep_blank_values=True, strict_parsing=bool(raw))
    except (ValueError, UnicodeDecodeError):
        raise MalformedBody("the body is not a valid form") from None
    form = {key: values[0] for key, values in pairs.items()}
    grant = form.get("grant_type")
    if grant not in (None, "", "password"):
        raise BadRequest("grant_type must be password", field="grant_type")
    body = validate(LOGIN_FORM, form)
    tokens = await node_of(request).accounts.login(
        body["username"], body["password"], _client_ip(request)
    )
    return json_response(tokens)


async def login_json(request: Request) -> JSONResponse:
    body = validate(LOGIN_JSON, await read_json(request))
    tokens = await node_of(request).accounts.login(
        body["email"], body["password"], _client_ip(request)
    )
    return json_response(tokens)


def _client_ip(request: Request) -> str | None:
    # uvicorn resolves X-Forwarded-For only from trusted proxies (its default: localhost).
    return request.client.host if request.client else None


async def refresh(request: Request) -> JSONResponse:
    body = validate(REFRESH, await read_json(request))
    return json_response(await node_of(request).accounts.refresh(body["refresh_token"]))


async def logout(request: Request) -> Response:
    claims, _ = await caller(request)
    body = validate(LOGOUT, await read_json(request))
    await node_of(request).accounts.logout(claims, body.get("refresh_token"))
    await node_of(request).on_access_revoked(claims)
    return Response(status_code=204)


async def me(request: Request) -> JSONResponse:
    _, user = await caller(request)
    return json_response(user.to_wire())


async def update_me(request: Request) -> JSONResponse:
    _, user = await caller(request)
    body = validate(PROFILE, await read_json(request))
    updated = await node_of(request).accounts.update_profile(
        user, body.get("full_name"), body.get("password")
    )
    return json_response(updated.to_wire())


async def list_users(request: Request) -> JSONResponse:
    _, user = await caller(request)
    require_admin(user)
    query = request.query_params.get("query")
    users = await node_of(request).accounts.list(query)
    return json_response([u.to_wire() for u in users])


async def get_user(request: Request) -> JSONResponse:
    _, user = await caller(request)
    require_admin(user)
    user_id = parse_id(request.path_params["user_id"], "user_id")
    return json_response((await node_of(request).accounts.get(user_id)).to_wire())


USER_UPDATE = Shape(
    (
        Field("role", "str", required=False, choices=ROLES),
        Field("is_active", "bool", required=False),
    )
)


async def update_user(request: Request) -> JSONResponse:
    """Admin change of role or activity: the REST twin of ``user.update``."""
    _, user = await caller(request)
    require_admin(user)
    user_id = parse_id(request.path_params["user_id"], "user_id")
    body = validate(USER_UPDATE, await read_json(request))
    node = node_of(request)
    updated = await node.accounts.set_role_and_activity(
        user_id, body.get("role"), body.get("is_active")
    )
    if body.get("is_active") is False:
        await node.on_user_deactivated(user_id)
    return json_response(updated.to_wire())


routes = [
    Route("/api/v1/auth/register", register, methods=["POST"]),
    Route("/api/v1/auth/login", login_form, methods=["POST"]),
    Route("/api/v1/auth/login/json", login_json, methods=["POST"]),
    Route("/api/v1/auth/refresh", refresh, methods=["POST"]),
    Route("/api/v1/auth/logout", logout, methods=["POST"]),
    Route("/api/v1/auth/me", me, methods=["GET"]),
    Route("/api/v1/users/me", me, methods=["GET"]),
    Route("/api/v1/users/me", update_me, methods=["PATCH"]),
    Route("/api/v1/users/", list_users, methods=["GET"]),
    Route("/api/v1/users/{user_id}", get_user, methods=["GET"]),
    Route("/api/v1/users/{user_id}", update_user, methods=["PATCH"]),
]
