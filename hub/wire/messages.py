"""The declaration of every socket message type: one place, three uses.

Each :class:`Message` says what its ``data`` holds (a :class:`~hub.schema.Shape`),
who may send it, and what its ``ok`` answer looks like, with examples. The
same declaration validates incoming requests (:mod:`hub.protocol`), renders
the protocol reference (``/docs/protocol``) and the AsyncAPI document
(:mod:`hub.asyncapi`); there is no second copy of a message's shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

from hub.wire import json_schemas as wire
from hub.wire.schema import INT32_MAX, INT64_MAX, Field, Shape

Who = Literal["anyone", "staff", "admin"]


@dataclass(frozen=True)
class Message:
    """Declaration of one request type: validation, the docs and /asyncapi.json."""

    type: str
    shape: Shape
    who: Who = "anyone"
    summary: str = ""
    # Documentation, replayed against a live hub by tests/test_docs.py: a request's
    # data, the JSON Schema of the ok answer's data, and an example of that answer.
    example: Mapping[str, Any] = dataclass_field(default_factory=dict, compare=False)
    answer: Mapping[str, Any] = dataclass_field(default_factory=dict, compare=False)
    answer_example: Mapping[str, Any] = dataclass_field(default_factory=dict, compare=False)


def _msg(
    type_: str,
    fields: tuple[Field, ...],
    who: Who = "anyone",
    summary: str = "",
    *,
    example: Mapping[str, Any] | None = None,
    answer: Mapping[str, Any] | None = None,
    answer_example: Mapping[str, Any] | None = None,
) -> Message:
    return Message(
        type_,
        Shape(fields),
        who,
        summary,
        example or {},
        answer or wire.answer(),
        answer_example or {},
    )


DAY = {"from": "2030-03-04T00:00:00Z", "to": "2030-03-05T00:00:00Z"}
_BASE_WRITTEN = wire.answer(appointment=wire.ref("Appointment"), seqs=wire.ref("Seqs"))
PREVIEWED = wire.answer(
    preview={"type": "boolean", "enum": [True]},
    occurrences={"type": "array", "items": wire.ref("Slot")},
    conflicts={
        "type": "array",
        "items": {
            "type": "object",
            "required": ["starts_at", "ends_at", "code"],
            "properties": {
                "starts_at": wire.TIME,
                "ends_at": wire.TIME,
                "code": {"type": "string"},
            },
        },
    },
)
WRITTEN = {
    **_BASE_WRITTEN,
    "properties": {
        **_BASE_WRITTEN["properties"],
        "appointments": {
            "type": "array",
            "items": wire.ref("Appointment"),
            "description": "a series: every occurrence written, in start order",
        },
        "series": {**wire.ref("Series"), "description": "a new series (recurrence given)"},
    },
}


TITLE = Field("title", "str", min_length=1, max_length=200)
NOTES = Field("notes", "str", required=False, max_length=5000)
# Integer limits are the database's: a version is an INTEGER, a seq a BIGINT.
VERSION = Field("version", "int", minimum=1, maximum=INT32_MAX)
OPTIONAL_VERSION = Field("version", "int", required=False, minimum=1, maximum=INT32_MAX)
APPOINTMENT_ID = Field("appointment_id", "id")
SCOPE = Field(
    "scope",
    "str",
    required=False,
    choices=("one", "following", "all"),
    description="for an occurrence of a series: this one (default), this and later ones, "
    "or all; the answer then adds appointments (each one changed)",
)
STATUSES = ("pending", "confirmed", "cancelled", "completed", "no_show")
ROLES = ("user", "staff", "admin")
MINUTES = {"minimum": 0, "maximum": 100_000}
CALENDAR_SETTINGS = (
    Field("slot_step_minutes", "int", required=False, minimum=1, maximum=1440),
    Field("min_notice_minutes", "int", required=False, **MINUTES),  # type: ignore[arg-type]
    Field("buffer_before_minutes", "int", required=False, minimum=0, maximum=1440),
    Field("buffer_after_minutes", "int", required=False, minimum=0, maximum=1440),
    Field("horizon_days", "int", required=False, minimum=1, maximum=3660),
)
WORKING_HOURS = {"type": "array", "items": wire.ref("WorkingRange")}

MESSAGES: dict[str, Message] = {
    m.type: m
    for m in (
        _msg(
            "hello",
            (Field("token", "str", required=False, max_length=4096),),
            summary="Authenticate the session; must be the first message.",
            example={"token": wire.EXAMPLE_TOKEN},
            answer=wire.answer(
                session_id={"type": "string"},
                user=wire.ref("SessionUser"),
                server_time=wire.TIME,
                access_expires_at=wire.TIME,
                protocol={"type": "integer", "enum": [1]},
            ),
            answer_example={
                "session_id": "6f0d2b8e4c1a4e7f9b3d5a2c8e0f1b7d",
                "user": {k: wire.EXAMPLE_USER[k] for k in ("id", "email", "full_name", "role")},
                "server_time": "2026-11-24T09:00:00.123456Z",
                "access_expires_at": "2026-11-24T09:30:00Z",
                "protocol": 1,
            },
        ),
        _msg(
            "auth.refresh",
            (Field("token", "str", max_length=4096),),
            summary="Swap in a fresh access token of the same user.",
            example={"token": wire.EXAMPLE_TOKEN},
            answer=wire.answer(access_expires_at=wire.TIME),
            answer_example={"access_expires_at": "2026-11-24T10:00:00Z"},
        ),
        _msg(
            "ping",
            (),
            summary="Application-level keepalive.",
            answer=wire.answer(server_time=wire.TIME),
            answer_example={"server_time": "2026-11-24T09:00:00.123456Z"},
        ),
        _msg(
            "subscribe",
            (
                Field("channel", "channel"),
                Field("since", "int", required=False, minimum=0, maximum=INT64_MAX),
            ),
            summary="Receive a channel's events after `since` (or from now).",
            example={"channel": wire.CALENDAR_CHANNEL, "since": 0},
            answer=wire.answer(channel={"type": "string"}, seq=wire.SEQ),
            answer_example={"channel": wire.CALENDAR_CHANNEL, "seq": 7},
        ),
        _msg(
            "unsubscribe",
            (Field("channel", "channel"),),
            summary="Stop receiving a channel.",
            example={"channel": wire.CALENDAR_CHANNEL},
        ),
        _msg(
            "calendars.list",
            (),
            summary="Calendars visible to the caller.",
            answer=wire.answer(calendars={"type": "array", "items": wire.ref("Calendar")}),
            answer_example={"calendars": [wire.EXAMPLE_CALENDAR]},
        ),
        _msg(
            "appointments.list",
            (
                Field("channel", "channel"),
                Field("from", "time", required=False),
                Field("to", "time", required=False),
            ),
            summary="Snapshot of a channel's appointments (and a calendar's live holds) and the "
            "seq it reflects.",
            example={"channel": wire.CALENDAR_CHANNEL, **DAY},
            answer={
                **wire.answer(
                    appointments={"type": "array", "items": wire.ref("ProjectedAppointment")},
                    seq=wire.SEQ,
                ),
                "properties": {
                    "appointments": {"type": "array", "items": wire.ref("ProjectedAppointment")},
                    "seq": wire.SEQ,
                    "holds": {
                        "type": "array",
                        "items": wire.ref("ProjectedHold"),
                        "description": "calendar channels only: the live holds in the window",
                    },
                },
            },
            answer_example={
                "appointments": [wire.EXAMPLE_APPOINTMENT],
                "seq": 7,
                "holds": [wire.EXAMPLE_HOLD],
            },
        ),
        _msg(
            "availability.get",
            (
                Field("calendar_id", "id"),
                Field("from", "time"),
                Field("to", "time"),
                Field("duration_minutes", "int", minimum=1, maximum=1440),
            ),
            summary="Free slots of a calendar.",
            example={"calendar_id": wire.EXAMPLE_IDS["calendar"], **DAY, "duration_minutes": 30},
            answer=wire.answer(
                slots={"type": "array", "items": wire.ref("Slot")}, timezone={"type": "string"}
            ),
            answer_example={
                "slots": [{"starts_at": "2030-03-04T08:00:00Z", "ends_at": "2030-03-04T08:30:00Z"}],
                "timezone": "Europe/Paris",
            },
        ),
        _msg(
            "appointment.create",
            (
                Field("calendar_id", "id"),
                Field("starts_at", "time"),
                Field("ends_at", "time"),
                TITLE,
                NOTES,
                Field("client_id", "id", required=False),
                Field("idempotency_key", "key", required=False, min_length=1, max_length=200),
                Field(
                    "hold_id",
                    "id",
                    required=False,
                    description="your live hold of exactly these times: booked and ended",
                ),
                Field(
                    "recurrence",
                    "str",
                    required=False,
                    min_length=1,
                    max_length=1000,
                    description="an RFC 5545 RRULE (FREQ DAILY/WEEKLY/MONTHLY, INTERVAL, "
                    "COUNT or UNTIL, BYDAY, BYMONTHDAY): book a series, all or nothing",
                ),
                Field(
                    "preview",
                    "bool",
                    required=False,
                    description="true: book nothing; answer {preview, occurrences, conflicts}: "
                    "the times it would book and those it would refuse, and why",
                ),
            ),
            summary="Book an appointment, or a recurring series of them.",
            example={
                "calendar_id": wire.EXAMPLE_IDS["calendar"],
                "starts_at": "2030-03-04T09:00:00Z",
                "ends_at": "2030-03-04T09:30:00Z",
                "title": "Check-up",
                "client_id": wire.EXAMPLE_IDS["client"],
                "idempotency_key": wire.EXAMPLE_IDEMPOTENCY_KEY,
            },
            answer={"anyOf": [WRITTEN, PREVIEWED]},
            answer_example={"appointment": wire.EXAMPLE_APPOINTMENT, "seqs": wire.EXAMPLE_SEQS},
        ),
        _msg(
            "appointment.update",
            (
                APPOINTMENT_ID,
                VERSION,
                Field("starts_at", "time", required=False),
                Field("ends_at", "time", required=False),
                Field("title", "str", required=False, min_length=1, max_length=200),
                NOTES,
                SCOPE,
            ),
            summary="Reschedule or edit an appointment (or, by scope, its series).",
            example={
                "appointment_id": wire.EXAMPLE_IDS["appointment"],
                "version": 1,
                "starts_at": "2030-03-04T10:00:00Z",
                "ends_at": "2030-03-04T10:30:00Z",
                "notes": "Bring the referral letter.",
            },
            answer=WRITTEN,
            answer_example={
                "appointment": wire.appointment_example(
                    starts_at="2030-03-04T10:00:00Z",
                    ends_at="2030-03-04T10:30:00Z",
                    notes="Bring the referral letter.",
                    version=2,
                ),
                "seqs": wire.EXAMPLE_SEQS,
            },
        ),
        _msg(
            "appointment.cancel",
            (
                APPOINTMENT_ID,
                OPTIONAL_VERSION,
                Field("reason", "str", required=False, max_length=500),
                SCOPE,
            ),
            summary="Cancel an appointment (or, by scope, its series).",
            example={
                "appointment_id": wire.EXAMPLE_IDS["appointment"],
                "version": 1,
                "reason": "Ill",
            },
            answer=WRITTEN,
            answer_example={
                "appointment": wire.appointment_example(status="cancelled", version=2),
                "seqs": wire.EXAMPLE_SEQS,
            },
        ),
        _msg(
            "appointment.set_status",
            (
                APPOINTMENT_ID,
                Field("status", "str", choices=STATUSES),
                OPTIONAL_VERSION,
            ),
            who="staff",
            summary="Confirm, cancel, complete or mark a no-show (these two once it has begun).",
            example={
                "appointment_id": wire.EXAMPLE_IDS["appointment"],
                "status": "cancelled",
                "version": 1,
            },
            answer=WRITTEN,
            answer_example={
                "appointment": wire.appointment_example(status="cancelled", version=2),
                "seqs": wire.EXAMPLE_SEQS,
            },
        ),
        _msg(
            "slot.hold",
            (Field("calendar_id", "id"), Field("starts_at", "time"), Field("ends_at", "time")),
            summary="Hold a slot while you book it (HUB_HOLD_SECONDS); the same slot again "
            "extends your hold, another slot on the calendar replaces it.",
            example={
                "calendar_id": wire.EXAMPLE_IDS["calendar"],
                "starts_at": "2031-05-05T09:00:00Z",
                "ends_at": "2031-05-05T09:30:00Z",
            },
            answer=wire.answer(hold=wire.ref("Hold"), seqs=wire.ref("Seqs")),
            answer_example={"hold": wire.EXAMPLE_HOLD, "seqs": {wire.CALENDAR_CHANNEL: 8}},
        ),
        _msg(
            "slot.release",
            (Field("hold_id", "id"),),
            summary="End a live hold: its holder, staff or an admin.",
            example={"hold_id": wire.EXAMPLE_IDS["hold"]},
            answer=wire.answer(seqs=wire.ref("Seqs")),
            answer_example={"seqs": {wire.CALENDAR_CHANNEL: 9}},
        ),
        _msg(
            "calendar.create",
            (
                Field("name", "str", min_length=1, max_length=200),
                Field("timezone", "str", max_length=64),
                Field("working_hours", "any", schema=WORKING_HOURS),
                Field("owner_id", "id", required=False),
                *CALENDAR_SETTINGS,
            ),
            who="admin",
            summary="Create a calendar.",
            example={
                "name": "Room 1",
                "timezone": "Europe/Paris",
                "working_hours": wire.EXAMPLE_WORKING_HOURS,
                "slot_step_minutes": 15,
            },
            answer=wire.answer(calendar=wire.ref("Calendar")),
            answer_example={"calendar": wire.EXAMPLE_CALENDAR},
        ),
        _msg(
            "calendar.update",
            (
                Field("calendar_id", "id"),
                Field("name", "str", required=False, min_length=1, max_length=200),
                Field("timezone", "str", required=False, max_length=64),
                Field("working_hours", "any", required=False, schema=WORKING_HOURS),
                Field("is_active", "bool", required=False),
                *CALENDAR_SETTINGS,
            ),
            who="admin",
            summary="Change a calendar.",
            example={"calendar_id": wire.EXAMPLE_IDS["calendar"], "name": "Room 1 (first floor)"},
            answer=wire.answer(calendar=wire.ref("Calendar"), seqs=wire.ref("Seqs")),
            answer_example={
                "calendar": {**wire.EXAMPLE_CALENDAR, "name": "Room 1 (first floor)"},
                "seqs": {wire.CALENDAR_CHANNEL: 8},
            },
        ),
        _msg(
            "calendar.block",
            (
                Field("calendar_id", "id"),
                Field("starts_at", "time"),
                Field("ends_at", "time"),
                Field("reason", "str", required=False, max_length=200),
            ),
            who="staff",
            summary="Block time off: busy for bookings and availability; refused over an "
            "appointment (slot_taken).",
            example={
                "calendar_id": wire.EXAMPLE_IDS["calendar"],
                "starts_at": "2031-02-03T12:00:00Z",
                "ends_at": "2031-02-03T13:00:00Z",
                "reason": "Staff meeting",
            },
            answer=wire.answer(block=wire.ref("Appointment"), seqs=wire.ref("Seqs")),
            answer_example={
                "block": wire.appointment_example(
                    id=wire.EXAMPLE_IDS["block"],
                    kind="block",
                    title="Staff meeting",
                    client_id=wire.EXAMPLE_IDS["user"],
                    starts_at="2031-02-03T12:00:00Z",
                    ends_at="2031-02-03T13:00:00Z",
                ),
                "seqs": {wire.CALENDAR_CHANNEL: 8},
            },
        ),
        _msg(
            "calendar.unblock",
            (Field("block_id", "id"),),
            who="staff",
            summary="Lift a block (it becomes cancelled).",
            example={"block_id": wire.EXAMPLE_IDS["block"]},
            answer=wire.answer(block=wire.ref("Appointment"), seqs=wire.ref("Seqs")),
            answer_example={
                "block": wire.appointment_example(
                    id=wire.EXAMPLE_IDS["block"],
                    kind="block",
                    status="cancelled",
                    version=2,
                    client_id=wire.EXAMPLE_IDS["user"],
                ),
                "seqs": {wire.CALENDAR_CHANNEL: 9},
            },
        ),
        _msg(
            "users.list",
            (Field("query", "str", required=False, max_length=200),),
            who="staff",
            summary="Find users by email or name.",
            example={"query": "ada"},
            answer=wire.answer(users={"type": "array", "items": wire.ref("User")}),
            answer_example={"users": [wire.EXAMPLE_USER]},
        ),
        _msg(
            "user.update",
            (
                Field("user_id", "id"),
                Field("role", "str", required=False, choices=ROLES),
                Field("is_active", "bool", required=False),
            ),
            who="admin",
            summary="Change a user's role or deactivate them.",
            example={"user_id": wire.EXAMPLE_IDS["client"], "role": "staff"},
            answer=wire.answer(user=wire.ref("User")),
            answer_example={
                "user": {**wire.EXAMPLE_USER, "id": wire.EXAMPLE_IDS["client"], "role": "staff"}
            },
        ),
    )
}
