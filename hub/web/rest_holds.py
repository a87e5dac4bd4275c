"""REST slot holds: the socket's ``slot.hold`` and ``slot.release``, for clients without one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.web.http import caller, json_response, read_json, runtime_of
from hub.web.openapi import Endpoint, routes_of
from hub.wire import json_schemas as wire
from hub.wire import operations
from hub.wire.messages import MESSAGES
from hub.wire.schema import parse_id, validate

HOLD = MESSAGES["slot.hold"]


async def hold(request: Request) -> JSONResponse:
    identity = await caller(request)
    data = validate(HOLD.shape, await read_json(request))
    answer = await operations.run(runtime_of(request), identity, "slot.hold", data)
    return json_response(answer["hold"], status=201)


async def release(request: Request) -> Response:
    identity = await caller(request)
    hold_id = parse_id(request.path_params["hold_id"], "hold_id")
    await operations.run(runtime_of(request), identity, "slot.release", {"hold_id": hold_id})
    return Response(status_code=204)


ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/v1/holds",
        hold,
        "Hold a slot while you book it",
        "holds",
        name="hold_slot",
        body=HOLD.shape,
        answer=wire.ref("Hold"),
        status=201,
        auth=True,
        errors=(403, 404, 409),
        example=HOLD.example,
        answer_example=wire.EXAMPLE_HOLD,
        description="Same rules and events as the socket's `slot.hold`; book it with "
        "`hold_id` on `POST /api/v1/appointments/`.",
    ),
    Endpoint(
        "DELETE",
        "/api/v1/holds/{hold_id}",
        release,
        "Release a hold (its holder, staff or an admin)",
        "holds",
        name="release_hold",
        status=204,
        auth=True,
        errors=(403, 404),
        description="Same as the socket's `slot.release`; a hold that already ended is 404.",
    ),
]
routes = routes_of(ENDPOINTS)
