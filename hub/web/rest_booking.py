"""REST appointment routes: thin shells over the booking service.

Bodies are validated with the socket protocol's own declarations, so a
field means the same on both transports, and writes publish the same events.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from hub.web.http import caller, json_response, read_json, runtime_of
from hub.web.openapi import Endpoint, routes_of
from hub.wire import json_schemas as wire
from hub.wire import operations
from hub.wire.messages import MESSAGES, PREVIEWED
from hub.wire.schema import INT32_MAX, Field, Shape, parse_id, validate

LIST_QUERY = Shape(
    (
        Field("calendar_id", "id", required=False),
        Field("from", "time", required=False),
        Field("to", "time", required=False),
    )
)
CANCEL_QUERY = Shape(
    (
        Field(
            "version",
            "int",
            required=False,
            minimum=1,
            maximum=INT32_MAX,
            in_query=True,
            description="the current version; refused with 409 when stale",
        ),
        Field(
            "scope",
            "str",
            required=False,
            choices=("one", "following", "all"),
            description="for an occurrence of a series: this one, this and later, or all",
        ),
    )
)


def _path_id(request: Request) -> str:
    return parse_id(request.path_params["appointment_id"], "appointment_id")


async def create(request: Request) -> JSONResponse:
    identity = await caller(request)
    data = validate(MESSAGES["appointment.create"].shape, await read_json(request))
    answer = await operations.run(runtime_of(request), identity, "appointment.create", data)
    if answer.get("preview"):  # nothing was booked: the occurrences and conflicts
        return json_response(answer)
    return json_response(answer["appointment"], status=201)


async def list_appointments(request: Request) -> JSONResponse:
    """A calendar's appointments as projected for the caller, or the caller's own."""
    identity = await caller(request)
    query = validate(LIST_QUERY, dict(request.query_params))
    channel = (
        f"calendar:{query['calendar_id']}" if "calendar_id" in query else f"user:{identity.user_id}"
    )
    data: dict[str, Any] = {"channel": channel}
    data.update({k: query[k] for k in ("from", "to") if k in query})
    answer = await operations.run(runtime_of(request), identity, "appointments.list", data)
    return json_response(answer["appointments"])


async def get_appointment(request: Request) -> JSONResponse:
    identity = await caller(request)
    found = await runtime_of(request).reading.appointment(identity, _path_id(request))
    return json_response(found)


async def update(request: Request) -> JSONResponse:
    identity = await caller(request)
    body = await read_json(request)
    body["appointment_id"] = request.path_params["appointment_id"]
    data = validate(MESSAGES["appointment.update"].shape, body)
    answer = await operations.run(runtime_of(request), identity, "appointment.update", data)
    return json_response(answer["appointment"])


async def cancel(request: Request) -> JSONResponse:
    """DELETE cancels (appointments are kept, with their status); ``?version=`` is optional."""
    identity = await caller(request)
    data: dict[str, Any] = {"appointment_id": _path_id(request)}
    data.update(validate(CANCEL_QUERY, dict(request.query_params)))
    data = validate(MESSAGES["appointment.cancel"].shape, data)
    answer = await operations.run(runtime_of(request), identity, "appointment.cancel", data)
    return json_response(answer["appointment"])


CREATE, UPDATE = MESSAGES["appointment.create"], MESSAGES["appointment.update"]
# The update body is appointment.update's shape; the id comes from the path.
UPDATE_BODY = Shape(tuple(f for f in UPDATE.shape.fields if f.name != "appointment_id"))
APPOINTMENT = wire.ref("Appointment")
TAG = "appointments"
SAME = "Same fields, rules and events as the socket's `{}`."

ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/v1/appointments/",
        create,
        "Book an appointment",
        TAG,
        name="create_appointment",
        body=CREATE.shape,
        answer=APPOINTMENT,
        status=201,
        auth=True,
        errors=(403, 404, 409),
        example=CREATE.example,
        answer_example=wire.EXAMPLE_APPOINTMENT,
        other_answers={200: PREVIEWED},
        description=SAME.format("appointment.create")
        + ' With `"preview": true` nothing is booked: 200 with the occurrences and conflicts.',
    ),
    Endpoint(
        "GET",
        "/api/v1/appointments/",
        list_appointments,
        "A calendar's appointments (as projected for you), or your own",
        TAG,
        query=LIST_QUERY,
        answer={"type": "array", "items": wire.ref("ProjectedAppointment")},
        auth=True,
        errors=(404,),
        answer_example=[wire.EXAMPLE_APPOINTMENT],
        description="Without calendar_id: your own appointments. Only those overlapping "
        "[from, to) when given; cancelled ones are included.",
    ),
    Endpoint(
        "GET",
        "/api/v1/appointments/{appointment_id}",
        get_appointment,
        "One appointment (a busy block unless it is yours or you are staff)",
        TAG,
        answer=wire.ref("ProjectedAppointment"),
        auth=True,
        errors=(404,),
        answer_example=wire.EXAMPLE_APPOINTMENT,
    ),
    Endpoint(
        "PATCH",
        "/api/v1/appointments/{appointment_id}",
        update,
        "Reschedule or edit an appointment",
        TAG,
        name="update_appointment",
        body=UPDATE_BODY,
        answer=APPOINTMENT,
        auth=True,
        errors=(403, 404, 409),
        example={k: v for k, v in UPDATE.example.items() if k != "appointment_id"},
        answer_example=UPDATE.answer_example["appointment"],
        description=SAME.format("appointment.update"),
    ),
    Endpoint(
        "DELETE",
        "/api/v1/appointments/{appointment_id}",
        cancel,
        "Cancel an appointment (it is kept, with status cancelled)",
        TAG,
        name="cancel_appointment",
        query=CANCEL_QUERY,
        answer=APPOINTMENT,
        auth=True,
        errors=(403, 404, 409),
        answer_example=wire.appointment_example(status="cancelled", version=2),
        description=SAME.format("appointment.cancel"),
    ),
]
routes = routes_of(ENDPOINTS)
