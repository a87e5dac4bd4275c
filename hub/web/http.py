"""REST plumbing shared by every route: JSON bodies, errors, the caller.

Bodies are read with a size limit (413 past it); malformed JSON is 400; a
:class:`~hub.domain.errors.HubError` becomes ``{"error": {...}}`` with its
status (and ``Retry-After`` on a 429).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub import logs
from hub.domain.errors import (
    BodyTooLarge,
    HubError,
    Internal,
    RateLimited,
    Unauthorized,
)
from hub.service.access import Identity
from hub.wire.jsontext import decode_object

if TYPE_CHECKING:
    from hub.service.runtime import Runtime

_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited"}
# An unexpected error is logged, but a client cannot flood the log with them.
_internal_errors = logs.Limited("internal_error")


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def error_response(error: HubError) -> JSONResponse:
    headers: dict[str, str] = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after_ms / 1000)))
    return JSONResponse({"error": error.to_wire()}, status_code=error.status, headers=headers)


async def hub_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HubError)
    return error_response(exc)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "bad_request")
    body = {"error": {"code": code, "message": str(exc.detail)}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def internal_error_handler(request: Request, exc: Exception) -> Response:
    _internal_errors.event(path=request.url.path, error=repr(exc)[:300])
    return error_response(Internal("internal error; nothing was applied"))


async def read_body(request: Request) -> bytes:
    """The raw body, refusing one over the configured size (413)."""
    limit = runtime_of(request).settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> dict[str, Any]:
    """A JSON object body; 400 when it is not JSON (or nests too deep), 422 when not an object."""
    return decode_object(await read_body(request))


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <access token>")
    return token.strip()


async def caller(request: Request) -> Identity:
    """Who calls a protected route: the account and sign-in of its access token.

    The token is checked here (signature, expiry, sign-in not revoked, account
    active); what the account may do is the services' to decide.
    """
    _, identity, _ = await runtime_of(request).accounts.authenticate(bearer_token(request))
    return identity


def json_response(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)
