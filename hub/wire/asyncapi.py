"""The AsyncAPI 3.0 document of the socket protocol, built from the declarations.

Every request type comes from :data:`hub.messages.MESSAGES` (its fields, who
may send it, its example and its answer), the error codes from the
:class:`~hub.errors.HubError` tree and the close codes from
:class:`~hub.protocol.CloseCode`; nothing here restates a message's shape.
The document describes the hub: it *receives* requests and replies with an
``ok`` or ``error`` frame, and it *sends* events and unsolicited errors.
"""

from __future__ import annotations

from typing import Any

from hub.wire import json_schemas as wire
from hub.wire.messages import MESSAGES, Message
from hub.wire.protocol import MAX_ID_LENGTH, MAX_INT_ID, PROTOCOL_VERSION, CloseCode

CHANNEL = "socket"

ERROR_MEANINGS = {
    "bad_request": "malformed message, unknown type, invalid field (details.field)",
    "unauthorized": "no, invalid, expired or revoked token",
    "forbidden": "signed in, but not allowed",
    "not_found": "no such calendar, appointment, user or channel",
    "already_exists": "an account with that email exists",
    "slot_taken": "overlaps a pending or confirmed appointment",
    "outside_availability": "outside the calendar's working hours",
    "version_conflict": "stale version; details.current holds the current appointment",
    "invalid_transition": "status change not allowed",
    "resync_required": "since cannot be served; take a snapshot and subscribe again",
    "rate_limited": "too many requests; details.retry_after_ms",
    "unavailable": "a backing service is down; nothing was applied; retry",
    "internal": "a bug; nothing was applied",
}

CLOSE_MEANINGS = {
    CloseCode.UNSUPPORTED_DATA: ("binary frame", "stop: a client bug"),
    CloseCode.MESSAGE_TOO_BIG: ("message too big (HUB_WS_MAX_BYTES)", "stop: a client bug"),
    CloseCode.SERVICE_RESTART: (
        "server shutting down",
        "reconnect (to any node) and resume with since",
    ),
    CloseCode.UNAUTHORIZED: (
        "not authenticated in time, token expired, sign-in revoked (logout, refresh-token "
        "reuse, a password change elsewhere), user deactivated",
        "stop: sign in again before reconnecting",
    ),
    CloseCode.ROLE_CHANGED: (
        "the account's role changed",
        "reconnect and say hello again with the same token: the new role decides",
    ),
    CloseCode.SLOW_CONSUMER: ("client too slow: its send queue overflowed", "reconnect, resume"),
    CloseCode.RATE_LIMITED: ("kept flooding after rate_limited", "reconnect later, slower"),
}

DESCRIPTION = f"""\
One JSON object per WebSocket text frame on GET /ws (protocol version {PROTOCOL_VERSION}).

A request is {{"id", "type", "data"}}: id is a string or an integer chosen by the
client and echoed in the answer; data may be left out when a type takes no
fields. Every request gets exactly one answer, in the order requests arrive:
{{"type": "ok", "id", "data"}} or {{"type": "error", "id", "error": {{"code",
"message", "details"?}}}}. A message that is not a JSON object, has no string type,
names an unknown type or has a wrong field is answered with bad_request
(details.field names the field) and the socket stays open.

The first message must be hello, within 10 s, else the socket closes with 4001.
A session follows its account: within a second of a revoked sign-in it gets an
unauthorized error (no id) and closes with 4001; within a second of a role
change it closes with 4003, and a new hello is seen with the new role.
Channels are calendar:<calendar_id> and user:<user_id>; each is an ordered,
gap-free log with a seq per change. After the ok of subscribe the client
receives every event with seq greater than since (or than the head) exactly
once, in order. Writes answer with "seqs" {{channel: seq}} so a client can
recognise the echo of its own write.
"""


def error_codes() -> list[dict[str, Any]]:
    """Every protocol error code, with its HTTP statuses on the REST surface."""
    return [
        {"code": code, "statuses": statuses, "meaning": ERROR_MEANINGS.get(code, "")}
        for code, statuses in sorted(wire.error_statuses().items(), key=lambda item: item[1])
    ]


def close_codes() -> list[dict[str, Any]]:
    return [
        {"code": int(code), "name": code.name.lower(), "when": when, "then": then}
        for code, (when, then) in CLOSE_MEANINGS.items()
    ]


REQUEST_ID = {
    "oneOf": [
        {"type": "string", "maxLength": MAX_ID_LENGTH},
        {"type": "integer", "minimum": -MAX_INT_ID, "maximum": MAX_INT_ID},
    ],
    "description": "chosen by the client, echoed in the answer",
}


def _envelope(kind: str, data: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", *required],
        "properties": {"type": {"type": "string", "const": kind}, "id": REQUEST_ID, "data": data},
    }


def _request(message: Message) -> dict[str, Any]:
    payload = _envelope(message.type, message.shape.json_schema(), ["id"])
    return {
        "name": message.type,
        "title": message.type,
        "summary": message.summary,
        "payload": payload,
        "examples": [
            {
                "name": message.type,
                "payload": {"id": "r1", "type": message.type, "data": dict(message.example)},
            }
        ],
        "x-who": message.who,
    }


def _answer(message: Message) -> dict[str, Any]:
    return {
        "name": f"{message.type}.ok",
        "title": f"ok to {message.type}",
        "payload": _envelope("ok", dict(message.answer), ["id", "data"]),
        "examples": [
            {
                "name": f"{message.type}.ok",
                "payload": {"type": "ok", "id": "r1", "data": dict(message.answer_example)},
            }
        ],
    }


def _error_message() -> dict[str, Any]:
    return {
        "name": "error",
        "title": "error",
        "summary": "The answer to a request that failed, or (without id) a push before a close.",
        "payload": {
            "type": "object",
            "required": ["type", "error"],
            "properties": {
                "type": {"type": "string", "const": "error"},
                "id": REQUEST_ID,
                "error": wire.ref("Error"),
            },
        },
        "examples": [
            {
                "name": "version_conflict",
                "payload": {
                    "type": "error",
                    "id": "r1",
                    "error": {
                        "code": "version_conflict",
                        "message": "the appointment has changed",
                        "details": {"current": wire.appointment_example(version=2)},
                    },
                },
            },
            {
                "name": "expired",
                "summary": "Sent with no id just before a close with 4001.",
                "payload": {
                    "type": "error",
                    "error": {"code": "unauthorized", "message": "the access token has expired"},
                },
            },
        ],
    }


def _event_message() -> dict[str, Any]:
    return {
        "name": "event",
        "title": "event",
        "summary": "A change on a subscribed channel, projected for the subscriber.",
        "payload": {
            "type": "object",
            "required": ["type", "channel", "seq", "event", "data", "at"],
            "properties": {
                "type": {"type": "string", "const": "event"},
                "channel": {"type": "string", "pattern": "^(calendar|user):[0-9a-f-]{36}$"},
                "seq": {"type": "integer", "minimum": 1},
                "event": {"type": "string", "enum": list(wire.EVENTS)},
                "data": {
                    "anyOf": [
                        wire.ref("ProjectedAppointment"),
                        wire.ref("Calendar"),
                        wire.ref("ProjectedHold"),
                        wire.ref("SlotReleased"),
                    ]
                },
                "at": {"type": "string", "format": "date-time"},
            },
        },
        "examples": [
            {
                "name": "appointment.created",
                "payload": {
                    "type": "event",
                    "channel": wire.CALENDAR_CHANNEL,
                    "seq": 42,
                    "event": "appointment.created",
                    "data": wire.EXAMPLE_APPOINTMENT,
                    "at": "2026-11-24T09:00:00Z",
                },
            },
            {
                "name": "slot.held",
                "payload": {
                    "type": "event",
                    "channel": wire.CALENDAR_CHANNEL,
                    "seq": 43,
                    "event": "slot.held",
                    "data": {k: v for k, v in wire.EXAMPLE_HOLD.items() if k != "held_by"},
                    "at": "2026-11-24T09:00:00Z",
                },
            },
        ],
        "x-events": [{"event": name, "meaning": text} for name, text in wire.EVENTS.items()],
    }


def _message_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/channels/{CHANNEL}/messages/{name}"}


def document(host: str = "localhost:8000", protocol: str = "ws") -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of the socket protocol, served at /asyncapi.json."""
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    channel_ref = {"$ref": f"#/channels/{CHANNEL}"}
    for message in MESSAGES.values():
        messages[message.type] = _request(message)
        messages[f"{message.type}.ok"] = _answer(message)
        operations[message.type] = {
            "action": "receive",
            "channel": channel_ref,
            "summary": message.summary,
            "messages": [_message_ref(message.type)],
            "reply": {
                "channel": channel_ref,
                "messages": [_message_ref(f"{message.type}.ok"), _message_ref("error")],
            },
            "x-who": message.who,
        }
    messages["event"] = _event_message()
    messages["error"] = _error_message()
    operations["event"] = {
        "action": "send",
        "channel": channel_ref,
        "summary": "Events of the channels the client subscribed to.",
        "messages": [_message_ref("event")],
    }
    operations["error"] = {
        "action": "send",
        "channel": channel_ref,
        "summary": "An error with no id: the session ends (4001) right after it.",
        "messages": [_message_ref("error")],
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Scheduling hub socket protocol",
            "version": str(PROTOCOL_VERSION),
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "hub": {
                "host": host,
                "protocol": protocol,
                "pathname": "/ws",
                "description": "Authenticate with hello, or an Authorization header on upgrade.",
            }
        },
        "channels": {
            CHANNEL: {
                "address": "/ws",
                "title": "The hub's WebSocket",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": operations,
        "components": {"schemas": wire.SCHEMAS, "messages": messages},
        "x-error-codes": error_codes(),
        "x-close-codes": close_codes(),
    }
