"""JSON Schemas and examples of the objects the hub answers with.

Both API documents (:mod:`hub.asyncapi`, :mod:`hub.openapi`) put
:data:`SCHEMAS` under ``components.schemas``, and the message and route
declarations point at them with :func:`ref`, so an appointment is described
once for both transports. Nullable values are written the JSON Schema way
(``["string", "null"]``); the OpenAPI 3.0 generator rewrites them.

Examples use the fixed ids in :data:`EXAMPLE_IDS` and :data:`EXAMPLE_TOKEN`;
the test that replays every documented example against a live hub swaps them
for real ones.
"""

from __future__ import annotations

from typing import Any

from hub.domain.errors import HubError

EXAMPLE_IDS = {
    "calendar": "5b1c7e0a-3f4d-4e8a-9c2b-7d6e5f4a3b21",
    "appointment": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
    "user": "2f3e4d5c-6b7a-4898-a7b6-c5d4e3f2a1b0",
    "client": "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d",
    "block": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
    "hold": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
}
EXAMPLE_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyZjNlNGQ1YyJ9.c2lnbmF0dXJl"
EXAMPLE_REFRESH_TOKEN = "Qm9va2luZ3NBcmVGdW4tcmVmcmVzaC10b2tlbi1leGFtcGxl"
EXAMPLE_IDEMPOTENCY_KEY = "booking-2030-03-04-0900"
CALENDAR_CHANNEL = f"calendar:{EXAMPLE_IDS['calendar']}"

EVENTS = {
    "appointment.created": "a new appointment (data: the appointment, projected)",
    "appointment.updated": "rescheduled or edited (data: the appointment after the change)",
    "appointment.cancelled": "cancelled (data: the appointment after the change)",
    "appointment.status_changed": "confirmed, completed or no-show (data: the appointment)",
    "calendar.updated": "the calendar changed (data: the calendar)",
    "slot.held": "a slot is held, or a hold extended (data: the hold, projected)",
    "slot.released": "a hold ended: released, expired or replaced (data: SlotReleased)",
}

STATUSES = ["pending", "confirmed", "cancelled", "completed", "no_show"]
_TIME = {"type": "string", "format": "date-time", "description": "UTC, RFC 3339 with Z"}
_UUID = {"type": "string", "format": "uuid"}
_MINUTES = {"type": "integer", "minimum": 0}
_NULLABLE_UUID = {"type": ["string", "null"], "format": "uuid"}
_WEBHOOK: dict[str, Any] = {
    "id": _UUID,
    "url": {"type": "string", "format": "uri"},
    "events": {
        "type": ["array", "null"],
        "items": {"type": "string"},
        "description": "the event names delivered; null: every event",
    },
    "calendar_id": {**_NULLABLE_UUID, "description": "null: every calendar"},
    "enabled": {
        "type": "boolean",
        "description": "false once an event kept failing for HUB_WEBHOOK_RETRY_HOURS",
    },
    "created_at": _TIME,
}


def error_statuses() -> dict[str, list[int]]:
    """Every protocol error code and the HTTP statuses REST answers it with, from the tree."""
    found: dict[str, set[int]] = {}
    pending: list[type[HubError]] = [HubError]
    while pending:
        cls = pending.pop(0)
        found.setdefault(cls.code, set()).add(cls.status)
        pending.extend(cls.__subclasses__())
    return {code: sorted(statuses) for code, statuses in found.items()}


def ref(name: str) -> dict[str, Any]:
    """A reference to one of :data:`SCHEMAS`."""
    return {"$ref": f"#/components/schemas/{name}"}


def answer(**properties: Any) -> dict[str, Any]:
    """The schema of an ok answer's data: an object with exactly these fields present."""
    return {"type": "object", "required": list(properties), "properties": properties}


TIME = {"type": "string", "format": "date-time"}
SEQ = {"type": "integer", "minimum": 0}
EXAMPLE_SEQS = {CALENDAR_CHANNEL: 7, f"user:{EXAMPLE_IDS['client']}": 3}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


SCHEMAS: dict[str, dict[str, Any]] = {
    "User": _object(
        {
            "id": _UUID,
            "email": {"type": "string", "format": "email"},
            "full_name": {"type": "string"},
            "role": {"type": "string", "enum": ["user", "staff", "admin"]},
            "is_active": {"type": "boolean"},
            "created_at": _TIME,
        },
        "An account; the password is never returned.",
    ),
    "SessionUser": _object(
        {
            "id": _UUID,
            "email": {"type": "string", "format": "email"},
            "full_name": {"type": "string"},
            "role": {"type": "string", "enum": ["user", "staff", "admin"]},
        },
        "The signed-in user of a socket session.",
    ),
    "Tokens": _object(
        {
            "access_token": {"type": "string", "description": "JWT (sub, role, exp, iat, jti)"},
            "refresh_token": {"type": "string", "description": "opaque, single-use, 7 days"},
            "token_type": {"type": "string", "enum": ["bearer"]},
            "expires_in": {"type": "integer", "description": "seconds the access token lives"},
        },
        "A token pair; refresh rotates the refresh token.",
    ),
    "WorkingRange": {
        "type": "object",
        "required": ["weekday", "start", "end"],
        "additionalProperties": False,
        "properties": {
            "weekday": {"type": "integer", "minimum": 0, "maximum": 6, "description": "Monday = 0"},
            "start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
            "end": {
                "type": "string",
                "pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
                "description": "after start; 24:00 for midnight",
            },
        },
        "description": "Opening hours of one weekday, in the calendar's time zone.",
    },
    "Calendar": _object(
        {
            "id": _UUID,
            "name": {"type": "string"},
            "timezone": {"type": "string", "description": "IANA time zone, e.g. Europe/Paris"},
            "working_hours": {"type": "array", "items": ref("WorkingRange")},
            "owner_id": {"type": ["string", "null"], "format": "uuid"},
            "is_active": {"type": "boolean"},
            "slot_step_minutes": {"type": "integer", "minimum": 1},
            "min_notice_minutes": _MINUTES,
            "buffer_before_minutes": _MINUTES,
            "buffer_after_minutes": _MINUTES,
            "horizon_days": _MINUTES,
        }
    ),
    "Appointment": _object(
        {
            "id": _UUID,
            "calendar_id": _UUID,
            "client_id": _UUID,
            "title": {"type": "string"},
            "notes": {"type": "string"},
            "starts_at": _TIME,
            "ends_at": _TIME,
            "status": {"type": "string", "enum": STATUSES},
            "version": {"type": "integer", "minimum": 1},
            "created_by": _UUID,
            "created_at": _TIME,
            "updated_at": _TIME,
            "kind": {
                "type": "string",
                "enum": ["appointment", "block"],
                "description": "block: time off made with calendar.block (its client_id is the "
                "staff member who made it)",
            },
            "series_id": {
                "type": ["string", "null"],
                "format": "uuid",
                "description": "the recurring series it belongs to; null outside a series",
            },
        },
        "An appointment as staff, admins and its own client see it. In the event of a "
        "booking that took over a hold, also hold_id (that hold has ended).",
    ),
    "BusyBlock": _object(
        {
            "id": _UUID,
            "calendar_id": _UUID,
            "starts_at": _TIME,
            "ends_at": _TIME,
            "status": {"type": "string", "enum": STATUSES},
        },
        "An appointment as anyone else sees it. In an event that booked a hold, also "
        "hold_id (that hold has ended).",
    ),
    "Hold": _object(
        {
            "id": _UUID,
            "calendar_id": _UUID,
            "starts_at": _TIME,
            "ends_at": _TIME,
            "expires_at": _TIME,
            "held_by": _UUID,
        },
        "A live slot hold as its holder, staff and admins see it.",
    ),
    "OthersHold": _object(
        {
            "id": _UUID,
            "calendar_id": _UUID,
            "starts_at": _TIME,
            "ends_at": _TIME,
            "expires_at": _TIME,
        },
        "Someone else's live hold: the slot is taken until expires_at.",
    ),
    "ProjectedHold": {
        "anyOf": [ref("Hold"), ref("OthersHold")],
        "description": "With held_by for its holder, staff and admins.",
    },
    "Series": _object(
        {
            "id": _UUID,
            "recurrence": {"type": "string", "description": "the RRULE, canonical form"},
            "calendar_id": _UUID,
            "client_id": _UUID,
        },
        "A recurring series; each occurrence is an appointment with its series_id.",
    ),
    "SlotReleased": _object(
        {
            "id": _UUID,
            "calendar_id": _UUID,
            "starts_at": _TIME,
            "ends_at": _TIME,
            "reason": {"type": "string", "enum": ["released", "expired", "replaced"]},
        },
        "A hold that ended (data of slot.released).",
    ),
    "ProjectedAppointment": {
        "anyOf": [ref("Appointment"), ref("BusyBlock")],
        "description": "In full for staff, admins and its client; a busy block for others.",
    },
    "Slot": _object({"starts_at": _TIME, "ends_at": _TIME}),
    "Seqs": {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 1},
        "description": "The committed seq of each channel the write was appended to.",
    },
    "Error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "enum": sorted(error_statuses())},
            "message": {"type": "string"},
            "details": {
                "type": "object",
                "description": "field (the field at fault), current (version_conflict), "
                "retry_after_ms (rate_limited), …",
            },
        },
    },
    "ErrorBody": _object({"error": ref("Error")}, "Every REST error."),
    "Feed": _object(
        {"id": _UUID, "calendar_id": _NULLABLE_UUID, "created_at": _TIME},
        "A calendar feed (calendar_id null: your own appointments). Its URL holds a secret "
        "that the hub keeps only as a digest, so the URL is in the answer that makes it, "
        "and nowhere else.",
    ),
    "NewFeed": _object(
        {
            "id": _UUID,
            "url": {
                "type": "string",
                "format": "uri",
                "description": "subscribe to this in a calendar app; keep it secret",
            },
            "calendar_id": _NULLABLE_UUID,
            "created_at": _TIME,
        },
        "A new feed and its secret URL, shown this once.",
    ),
    "Webhook": _object(_WEBHOOK, "A webhook (the secret is shown only when it is made)."),
    "NewWebhook": _object(
        {
            **_WEBHOOK,
            "secret": {
                "type": "string",
                "description": "whsec_ + base64 of the signing key (Standard Webhooks); "
                "shown this once",
            },
        },
        "A new webhook and its signing secret, shown this once.",
    ),
    "Delivery": _object(
        {
            "webhook_id": _UUID,
            "channel": {"type": "string"},
            "seq": {"type": "integer", "minimum": 1},
            "event": {"type": "string"},
            "status": {"type": "string", "enum": ["pending", "success", "failed"]},
            "attempts": {"type": "integer", "minimum": 1},
            "last_status_code": {"type": ["integer", "null"]},
            "next_attempt_at": {**_TIME, "type": ["string", "null"]},
            "message_id": {
                "type": "string",
                "description": "the webhook-id header it is sent with",
            },
            "last_error": {
                "type": ["string", "null"],
                "description": "why the last attempt failed when no status explains it",
            },
            "last_attempt_at": _TIME,
        },
        "One event attempted for a webhook. failed: its retry window ran out and the "
        "webhook was disabled.",
    ),
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "disabled", "down"]},
            "rtt_ms": {"type": "number", "description": "round trip to the service"},
            "error": {"type": "string", "description": "why it is down"},
        },
    },
}

EXAMPLE_USER: dict[str, Any] = {
    "id": EXAMPLE_IDS["user"],
    "email": "ada@example.com",
    "full_name": "Ada Lovelace",
    "role": "user",
    "is_active": True,
    "created_at": "2026-11-24T09:00:00Z",
}
EXAMPLE_TOKENS: dict[str, Any] = {
    "access_token": EXAMPLE_TOKEN,
    "refresh_token": EXAMPLE_REFRESH_TOKEN,
    "token_type": "bearer",
    "expires_in": 1800,
}
EXAMPLE_WORKING_HOURS = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
EXAMPLE_CALENDAR: dict[str, Any] = {
    "id": EXAMPLE_IDS["calendar"],
    "name": "Room 1",
    "timezone": "Europe/Paris",
    "working_hours": EXAMPLE_WORKING_HOURS,
    "owner_id": None,
    "is_active": True,
    "slot_step_minutes": 15,
    "min_notice_minutes": 0,
    "buffer_before_minutes": 0,
    "buffer_after_minutes": 0,
    "horizon_days": 90,
}
EXAMPLE_APPOINTMENT: dict[str, Any] = {
    "id": EXAMPLE_IDS["appointment"],
    "calendar_id": EXAMPLE_IDS["calendar"],
    "client_id": EXAMPLE_IDS["client"],
    "title": "Check-up",
    "notes": "",
    "starts_at": "2030-03-04T09:00:00Z",
    "ends_at": "2030-03-04T09:30:00Z",
    "status": "confirmed",
    "version": 1,
    "created_by": EXAMPLE_IDS["user"],
    "created_at": "2026-11-24T09:00:00Z",
    "updated_at": "2026-11-24T09:00:00Z",
    "kind": "appointment",
    "series_id": None,
}


def appointment_example(**changes: Any) -> dict[str, Any]:
    """:data:`EXAMPLE_APPOINTMENT` with some fields changed."""
    return {**EXAMPLE_APPOINTMENT, **changes}


EXAMPLE_FEED_ID = "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a"
EXAMPLE_WEBHOOK_ID = "8c7b6a5f-4e3d-4c2b-9a1f-0e9d8c7b6a5f"
EXAMPLE_FEED: dict[str, Any] = {
    "id": EXAMPLE_FEED_ID,
    "calendar_id": EXAMPLE_IDS["calendar"],
    "created_at": "2026-11-24T09:00:00Z",
}
EXAMPLE_NEW_FEED: dict[str, Any] = {
    **EXAMPLE_FEED,
    "url": "https://hub.example.org/feeds/3q2-7wFh0kX9cVbN1mLpA5sD8fG4hJ6kL0zXcVbNmQw.ics",
}
EXAMPLE_WEBHOOK: dict[str, Any] = {
    "id": EXAMPLE_WEBHOOK_ID,
    "url": "https://billing.example.org/hooks/hub",
    "events": ["appointment.created", "appointment.cancelled"],
    "calendar_id": None,
    "enabled": True,
    "created_at": "2026-11-24T09:00:00Z",
}
EXAMPLE_NEW_WEBHOOK: dict[str, Any] = {
    **EXAMPLE_WEBHOOK,
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw5lrfWxNmOWU=",
}
EXAMPLE_DELIVERY: dict[str, Any] = {
    "webhook_id": EXAMPLE_WEBHOOK_ID,
    "channel": CALENDAR_CHANNEL,
    "seq": 7,
    "event": "appointment.created",
    "status": "pending",
    "attempts": 2,
    "last_status_code": 503,
    "next_attempt_at": "2026-11-24T09:00:15Z",
    "message_id": "msg_2b8e1c5f0a7d4e3b9c6f1a2d5e8b7c4a",
    "last_error": None,
    "last_attempt_at": "2026-11-24T09:00:05Z",
}


EXAMPLE_HOLD: dict[str, Any] = {
    "id": EXAMPLE_IDS["hold"],
    "calendar_id": EXAMPLE_IDS["calendar"],
    "starts_at": "2031-05-05T09:00:00Z",
    "ends_at": "2031-05-05T09:30:00Z",
    "expires_at": "2026-11-24T09:05:00Z",
    "held_by": EXAMPLE_IDS["user"],
}
