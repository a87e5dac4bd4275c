"""REST routes for sign-in and accounts (PROTOCOL.md, REST surface)."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.domain.errors import BadRequest, MalformedBody
from hub.domain.model import Role
from hub.web.http import caller, json_response, read_body, read_json, runtime_of
from hub.web.openapi import Endpoint, routes_of
from hub.wire import json_schemas as wire
from hub.wire import operations
from hub.wire.schema import Field, Shape, parse_id, validate

PASSWORD = Field("password", "str", min_length=8, max_length=1024)
FULL_NAME = Field("full_name", "str", min_length=1, max_length=200)

REGISTER = Shape((Field("email", "email"), PASSWORD, FULL_NAME))
LOGIN_JSON = Shape((Field("email", "email"), Field("password", "str", max_length=1024)))
LOGIN_FORM = Shape((Field("username", "email"), Field("password", "str", max_length=1024)))
REFRESH = Shape((Field("refresh_token", "str", min_length=1, max_length=200),))
LOGOUT = Shape(
    (
        Field("refresh_token", "str", required=False, max_length=200),
        Field("everywhere", "bool", required=False, description="revoke every sign-in"),
    )
)
ROLES = tuple(r.value for r in Role)
PROFILE = Shape(
    (
        Field("full_name", "str", required=False, min_length=1, max_length=200),
        Field("password", "str", required=False, min_length=8, max_length=1024, refuse_null=True),
    )
)


async def register(request: Request) -> JSONResponse:
    body = validate(REGISTER, await read_json(request))
    user = await runtime_of(request).accounts.register(
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
    tokens = await runtime_of(request).accounts.login(
        body["username"], body["password"], _client_ip(request)
    )
    return json_response(tokens.to_wire())


async def login_json(request: Request) -> JSONResponse:
    body = validate(LOGIN_JSON, await read_json(request))
    tokens = await runtime_of(request).accounts.login(
        body["email"], body["password"], _client_ip(request)
    )
    return json_response(tokens.to_wire())


def _client_ip(request: Request) -> str | None:
    # uvicorn resolves X-Forwarded-For only from HUB_TRUSTED_PROXIES (default: nobody).
    return request.client.host if request.client else None


async def refresh(request: Request) -> JSONResponse:
    body = validate(REFRESH, await read_json(request))
    tokens = await runtime_of(request).accounts.refresh(body["refresh_token"])
    return json_response(tokens.to_wire())


async def logout(request: Request) -> Response:
    """Revoke the caller's sign-in (its refresh and access tokens), or every one."""
    identity = await caller(request)
    body = validate(LOGOUT, await read_json(request))
    await runtime_of(request).accounts.logout(identity, everywhere=body.get("everywhere", False))
    return Response(status_code=204)


async def me(request: Request) -> JSONResponse:
    identity = await caller(request)
    return json_response((await runtime_of(request).accounts.me(identity)).to_wire())


async def update_me(request: Request) -> JSONResponse:
    identity = await caller(request)
    body = validate(PROFILE, await read_json(request))
    updated = await runtime_of(request).accounts.update_profile(
        identity, body.get("full_name"), body.get("password")
    )
    return json_response(updated.to_wire())


USERS_QUERY = Shape((Field("query", "str", required=False, description="in email or name"),))


async def list_users(request: Request) -> JSONResponse:
    identity = await caller(request)
    query = validate(USERS_QUERY, dict(request.query_params)).get("query")
    users = await runtime_of(request).accounts.search(identity, query, admin_only=True)
    return json_response([u.to_wire() for u in users])


async def get_user(request: Request) -> JSONResponse:
    identity = await caller(request)
    user_id = parse_id(request.path_params["user_id"], "user_id")
    return json_response((await runtime_of(request).accounts.get(identity, user_id)).to_wire())


USER_UPDATE = Shape(
    (
        Field("role", "str", required=False, choices=ROLES),
        Field("is_active", "bool", required=False),
    )
)


async def update_user(request: Request) -> JSONResponse:
    """Admin change of role or activity: the REST twin of ``user.update``."""
    identity = await caller(request)
    user_id = parse_id(request.path_params["user_id"], "user_id")
    body = validate(USER_UPDATE, await read_json(request))
    answer = await operations.run(
        runtime_of(request), identity, "user.update", {"user_id": user_id, **body}
    )
    return json_response(answer["user"])


# Documentation of the form login_form reads: grant_type is checked by hand there.
LOGIN_FORM_DOC = Shape(
    (*LOGIN_FORM.fields, Field("grant_type", "str", required=False, choices=("password",)))
)
USER = wire.ref("User")
TOKENS = wire.ref("Tokens")
AUTH, USERS = "auth", "users"

ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/v1/auth/register",
        register,
        "Create an account (role user)",
        AUTH,
        body=REGISTER,
        answer=USER,
        status=201,
        errors=(409,),
        example={"email": "ada@example.com", "password": "correct horse", "full_name": "Ada"},
        answer_example=wire.EXAMPLE_USER,
    ),
    Endpoint(
        "POST",
        "/api/v1/auth/login",
        login_form,
        "Sign in: OAuth2 password form",
        AUTH,
        body=LOGIN_FORM_DOC,
        form=True,
        answer=TOKENS,
        errors=(401, 429),
        answer_example=wire.EXAMPLE_TOKENS,
        description="`username` is the email. Failed attempts are throttled (429).",
    ),
    Endpoint(
        "POST",
        "/api/v1/auth/login/json",
        login_json,
        "Sign in with a JSON body",
        AUTH,
        body=LOGIN_JSON,
        answer=TOKENS,
        errors=(401, 429),
        answer_example=wire.EXAMPLE_TOKENS,
        example={"email": "ada@example.com", "password": "correct horse"},
    ),
    Endpoint(
        "POST",
        "/api/v1/auth/refresh",
        refresh,
        "Rotate the refresh token for a new pair",
        AUTH,
        body=REFRESH,
        answer=TOKENS,
        errors=(401,),
        answer_example=wire.EXAMPLE_TOKENS,
        description="Refresh tokens are single-use: a reused one revokes its whole sign-in.",
    ),
    Endpoint(
        "POST",
        "/api/v1/auth/logout",
        logout,
        "Sign out: revoke this sign-in (or every one)",
        AUTH,
        body=LOGOUT,
        status=204,
        auth=True,
    ),
    Endpoint(
        "GET",
        "/api/v1/auth/me",
        me,
        "The signed-in user",
        AUTH,
        answer=USER,
        auth=True,
        answer_example=wire.EXAMPLE_USER,
    ),
    Endpoint(
        "GET",
        "/api/v1/users/me",
        me,
        "The signed-in user",
        USERS,
        answer=USER,
        auth=True,
        answer_example=wire.EXAMPLE_USER,
        name="users_me",
    ),
    Endpoint(
        "PATCH",
        "/api/v1/users/me",
        update_me,
        "Change your name or password",
        USERS,
        body=PROFILE,
        answer=USER,
        auth=True,
        answer_example=wire.EXAMPLE_USER,
    ),
    Endpoint(
        "GET",
        "/api/v1/users/",
        list_users,
        "List or find users (admin)",
        USERS,
        query=USERS_QUERY,
        answer={"type": "array", "items": USER},
        auth=True,
        errors=(403,),
        answer_example=[wire.EXAMPLE_USER],
    ),
    Endpoint(
        "GET",
        "/api/v1/users/{user_id}",
        get_user,
        "One user (admin)",
        USERS,
        answer=USER,
        auth=True,
        errors=(403, 404),
        answer_example=wire.EXAMPLE_USER,
    ),
    Endpoint(
        "PATCH",
        "/api/v1/users/{user_id}",
        update_user,
        "Change a role or deactivate (admin)",
        USERS,
        body=USER_UPDATE,
        answer=USER,
        auth=True,
        errors=(403, 404),
        example={"role": "staff"},
        answer_example={**wire.EXAMPLE_USER, "role": "staff"},
    ),
]
routes = routes_of(ENDPOINTS)
