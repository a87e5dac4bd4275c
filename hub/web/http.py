"""REST plumbing shared by every route: JSON bodies, errors, the caller.

Bodies are read with a size limit (413 past it); malformed JSON is 400; a
:class:`~hub.errors.HubError` becomes ``{"error": {...}}`` with its status.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub import logs
from hub.domain.errors import (
    BadRequest,
    BodyTooLarge,
    HubError,
    Internal,
    MalformedBody,
    Unauthorized,
)
from hub.service.accounts import User
from hub.service.credentials import AccessClaims

if TYPE_CHECKING:
    from hub.realtime.node import Node

_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited"}


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def error_response(error: HubError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
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
    logs.event("internal_error", logging.ERROR, path=request.url.path, error=repr(exc))
    return error_response(Internal("internal error; nothing was applied"))


async def read_body(request: Request) -> bytes:
    """The raw body, refusing one over the configured size (413)."""
    limit = node_of(request).settings.max_body_bytes
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
    """A JSON object body; 400 when it is not JSON, 422 when not an object."""
    raw = await read_body(request)
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MalformedBody("the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object", field="body")
    return value


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <access token>")
    return token.strip()


async def caller(request: Request) -> tuple[AccessClaims, User]:
    """The signed-in caller of a protected route."""
    return await node_of(request).accounts.authenticate(bearer_token(request))


def json_response(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)
