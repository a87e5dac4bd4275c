"""Health endpoints: 200 with the round-trip time when up, 503 when down.

Each check has its own deadline, so a hung service still gets an answer in
about ``health_timeout_seconds``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

from hub.web.http import runtime_of
from hub.web.openapi import Endpoint, routes_of
from hub.wire import json_schemas as wire


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def health_db(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    return await _probe(runtime.store.ping, runtime.settings.health_timeout_seconds)


async def health_redis(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    if runtime.redis is None:
        return JSONResponse({"status": "disabled"})
    return await _probe(runtime.throttle.ping, runtime.settings.health_timeout_seconds)


async def _probe(check: Callable[[], Awaitable[float]], deadline: float) -> JSONResponse:
    try:
        async with asyncio.timeout(deadline):
            rtt_ms = await check()
    except Exception as exc:
        body = {"status": "down", "error": type(exc).__name__}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "rtt_ms": round(rtt_ms, 3)})


HEALTH = wire.ref("Health")
DOWN = {503: HEALTH}

ENDPOINTS = [
    Endpoint(
        "GET",
        "/health",
        health,
        "The process is up",
        "health",
        answer=HEALTH,
        backends=False,
        answer_example={"status": "ok"},
    ),
    Endpoint(
        "GET",
        "/health/db",
        health_db,
        "Database round trip",
        "health",
        answer=HEALTH,
        backends=False,
        other_answers=DOWN,
        answer_example={"status": "ok", "rtt_ms": 0.42},
    ),
    Endpoint(
        "GET",
        "/health/redis",
        health_redis,
        "Redis round trip (disabled without Redis)",
        "health",
        answer=HEALTH,
        backends=False,
        other_answers=DOWN,
        answer_example={"status": "ok", "rtt_ms": 0.21},
    ),
]
routes = routes_of(ENDPOINTS)
