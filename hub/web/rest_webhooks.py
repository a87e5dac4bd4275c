"""REST routes for webhooks (admin only): thin shells over the webhook service."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.domain.errors import BadRequest
from hub.domain.times import format_time
from hub.service.sender import message_id
from hub.storage.webhooks import Delivery, Webhook
from hub.web.http import caller, json_response, read_json, runtime_of
from hub.web.openapi import Endpoint, routes_of
from hub.wire import json_schemas as wire
from hub.wire.schema import Field, Shape, parse_id, validate

EVENT_NAMES = tuple(wire.EVENTS)
MAX_DELIVERIES = 1000

CREATE = Shape(
    (
        Field("url", "str", min_length=1, max_length=2000, description="http:// or https://"),
        Field(
            "events",
            "any",
            required=False,
            schema={
                "type": "array",
                "items": {"type": "string", "enum": list(EVENT_NAMES)},
                "minItems": 1,
                "description": "deliver only these events (default: every event)",
            },
        ),
        Field("calendar_id", "id", required=False, description="only this calendar's events"),
    )
)
DELIVERIES_QUERY = Shape(
    (
        Field(
            "limit",
            "str",
            required=False,
            max_length=4,
            description=f"how many (default 100, at most {MAX_DELIVERIES})",
            schema={"type": "integer", "minimum": 1, "maximum": MAX_DELIVERIES},
        ),
    )
)


def webhook_to_wire(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "url": hook.url,
        "events": None if hook.events is None else list(hook.events),
        "calendar_id": hook.calendar_id,
        "enabled": hook.enabled,
        "created_at": format_time(hook.created_at),
    }


def delivery_to_wire(delivery: Delivery) -> dict[str, Any]:
    d = delivery
    return {
        "webhook_id": d.webhook_id,
        "channel": d.channel,
        "seq": d.seq,
        "event": d.event,
        "status": d.status,
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "next_attempt_at": None if d.next_attempt_at is None else format_time(d.next_attempt_at),
        "message_id": message_id(d.webhook_id, d.channel, d.seq),
        "last_error": d.last_error,
        "last_attempt_at": format_time(d.last_attempt_at),
    }


def _events(value: object) -> tuple[str, ...] | None:
    """Known event names, at least one, each once."""
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise BadRequest("events must be a non-empty list of event names", field="events")
    for name in value:
        if name not in EVENT_NAMES:
            raise BadRequest(
                f"events: {str(name)[:60]!r} is not one of {', '.join(EVENT_NAMES)}",
                field="events",
            )
    return tuple(dict.fromkeys(value))


def _path_id(request: Request) -> str:
    return parse_id(request.path_params["webhook_id"], "webhook_id")


async def create_webhook(request: Request) -> JSONResponse:
    identity = await caller(request)
    body = validate(CREATE, await read_json(request))
    hook = await runtime_of(request).webhooks.create(
        identity, body["url"], _events(body.get("events")), body.get("calendar_id")
    )
    return json_response({**webhook_to_wire(hook), "secret": hook.secret}, status=201)


async def list_webhooks(request: Request) -> JSONResponse:
    identity = await caller(request)
    hooks = await runtime_of(request).webhooks.owned(identity)
    return json_response([webhook_to_wire(h) for h in hooks])


async def delete_webhook(request: Request) -> Response:
    identity = await caller(request)
    await runtime_of(request).webhooks.delete(identity, _path_id(request))
    return Response(status_code=204)


async def list_deliveries(request: Request) -> JSONResponse:
    identity = await caller(request)
    webhook_id = _path_id(request)
    raw = validate(DELIVERIES_QUERY, dict(request.query_params)).get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DELIVERIES:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_DELIVERIES}", field="limit")
    found = await runtime_of(request).webhooks.deliveries(identity, webhook_id, int(raw))
    return json_response([delivery_to_wire(d) for d in found])


async def retry_webhook(request: Request) -> JSONResponse:
    identity = await caller(request)
    hook = await runtime_of(request).webhooks.retry(identity, _path_id(request))
    return json_response(webhook_to_wire(hook))


WEBHOOK = wire.ref("Webhook")
TAG = "webhooks"

ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/v1/webhooks",
        create_webhook,
        "Add a webhook (admin)",
        TAG,
        body=CREATE,
        answer=wire.ref("NewWebhook"),
        status=201,
        auth=True,
        errors=(403, 404),
        example={"url": "https://billing.example.org/hooks/hub", "events": ["appointment.created"]},
        answer_example=wire.EXAMPLE_NEW_WEBHOOK,
        description="Every event committed from now on to the calendar channels (all, or "
        "calendar_id's; only `events` when given) is POSTed as `{type, timestamp, data: "
        "{channel, seq, appointment | the event's fields}}`, signed as Standard Webhooks "
        "says with `secret`, shown only here. In seq order per channel, at least once; "
        "retried with backoff for HUB_WEBHOOK_RETRY_HOURS, then the webhook is disabled. "
        "The URL must be http(s) and resolve to public addresses only.",
    ),
    Endpoint(
        "GET",
        "/api/v1/webhooks",
        list_webhooks,
        "Your webhooks (admin; no secrets)",
        TAG,
        answer={"type": "array", "items": WEBHOOK},
        auth=True,
        errors=(403,),
        answer_example=[wire.EXAMPLE_WEBHOOK],
    ),
    Endpoint(
        "DELETE",
        "/api/v1/webhooks/{webhook_id}",
        delete_webhook,
        "Delete a webhook and its delivery log (admin)",
        TAG,
        status=204,
        auth=True,
        errors=(403, 404),
    ),
    Endpoint(
        "GET",
        "/api/v1/webhooks/{webhook_id}/deliveries",
        list_deliveries,
        "A webhook's latest deliveries, the most recently attempted first (admin)",
        TAG,
        query=DELIVERIES_QUERY,
        answer={"type": "array", "items": wire.ref("Delivery")},
        auth=True,
        errors=(403, 404),
        answer_example=[wire.EXAMPLE_DELIVERY],
        description="One row per event attempted: `pending` (being retried; "
        "`next_attempt_at` says when), `success`, or `failed` (its retry window ran out and "
        "the webhook was disabled). Events waiting behind a pending one are not listed yet.",
    ),
    Endpoint(
        "POST",
        "/api/v1/webhooks/{webhook_id}/retry",
        retry_webhook,
        "Retry now: attempt every undelivered event at once; re-enables the webhook (admin)",
        TAG,
        answer=WEBHOOK,
        auth=True,
        errors=(403, 404),
        answer_example=wire.EXAMPLE_WEBHOOK,
        description="Each channel's next undelivered event is attempted now, in order as "
        "always, with a fresh retry window; a disabled webhook is enabled again and "
        "resumes where it stopped (events older than HUB_LOG_RETENTION_DAYS are gone).",
    ),
]
routes = routes_of(ENDPOINTS)
