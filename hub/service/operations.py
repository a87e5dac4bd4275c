"""The socket operations that are not about the session itself.

Each handler takes the signed-in user and the validated ``data`` and returns
the answer's ``data``; writes publish their events after the commit. The
REST routes call the same services, so both transports obey one set of rules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hub.domain.availability import free_slots
from hub.domain.errors import BadRequest, Forbidden
from hub.domain.projection import project
from hub.realtime import channel_log
from hub.service.accounts import User
from hub.service.booking import Outcome
from hub.storage.store import now
from hub.storage.tables import appointments
from hub.wire.schema import format_time

if TYPE_CHECKING:
    from hub.realtime.node import Node

Handler = Callable[["Node", User, dict[str, Any]], Awaitable[dict[str, Any]]]
MAX_AVAILABILITY_DAYS = 31


async def run(node: Node, user: User, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return await HANDLERS[kind](node, user, data)


async def check_channel_access(node: Node, user: User, channel: str) -> None:
    """Any signed-in user may read a calendar; a user channel is its user's and staff's."""
    kind, _, key = channel.partition(":")
    if kind == "calendar":
        await node.calendars.get(key)
        return
    if key != user.id and not user.is_staff:
        raise Forbidden("only that user and staff may read a user channel")
    await node.accounts.get(key)


async def _written(node: Node, user: User, outcome: Outcome) -> dict[str, Any]:
    await node.publish(outcome.events)
    return {"appointment": project(user, outcome.appointment), "seqs": outcome.seqs}


async def appointment_create(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    return await _written(node, user, await node.booking.create(user, data))


async def appointment_update(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    return await _written(node, user, await node.booking.update(user, data))


async def appointment_cancel(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    return await _written(node, user, await node.booking.cancel(user, data))


async def appointment_set_status(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    return await _written(node, user, await node.booking.set_status(user, data))


async def calendar_block(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    outcome = await node.booking.block(user, data)
    await node.publish(outcome.events)
    return {"block": outcome.appointment, "seqs": outcome.seqs}


async def calendar_unblock(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    outcome = await node.booking.unblock(user, data)
    await node.publish(outcome.events)
    return {"block": outcome.appointment, "seqs": outcome.seqs}


async def calendars_list(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    return {"calendars": [c.to_wire() for c in await node.calendars.list(user)]}


async def calendar_create(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    return {"calendar": (await node.calendars.create(data)).to_wire()}


async def calendar_update(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    calendar, entry = await node.calendars.update(data)
    await node.publish([entry])
    return {"calendar": calendar.to_wire(), "seqs": {entry.channel: entry.seq}}


async def appointments_list(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """A snapshot and the seq it reflects, read in one transaction."""
    channel = data["channel"]
    start, end = data.get("from"), data.get("to")
    if start is not None and end is not None and start >= end:
        raise BadRequest("from must be before to", field="to")
    await check_channel_access(node, user, channel)
    kind, _, key = channel.partition(":")
    column = appointments.c.calendar_id if kind == "calendar" else appointments.c.client_id
    async with node.store.read():
        seq = await channel_log.head(node.store, channel)
        rows = await node.booking.overlapping(column, key, start, end)
    return {"appointments": [project(user, a) for a in rows], "seq": seq}


async def availability_get(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    start, end = data["from"], data["to"]
    if start >= end:
        raise BadRequest("from must be before to", field="to")
    if end - start > timedelta(days=MAX_AVAILABILITY_DAYS):
        raise BadRequest(f"at most {MAX_AVAILABILITY_DAYS} days per query", field="to")
    calendar = await node.calendars.get(data["calendar_id"])
    duration = timedelta(minutes=data["duration_minutes"])
    rules = calendar.rules
    margin = duration + timedelta(minutes=rules.buffer_before_minutes + rules.buffer_after_minutes)
    busy = await node.booking.busy(calendar.id, start - margin, end + margin)
    slots = (
        []
        if not calendar.is_active
        else free_slots(
            ranges=calendar.working_hours,
            zone=calendar.zone,
            busy=busy,
            start=start,
            end=end,
            duration=duration,
            rules=rules,
            now=now(),
        )
    )
    # Slots lie within [from, to): a client asking for a day gets that day's slots.
    inside = [s for s in slots if s.start >= start and s.end <= end]
    return {
        "slots": [
            {"starts_at": format_time(s.start), "ends_at": format_time(s.end)} for s in inside
        ],
        "timezone": calendar.timezone,
    }


async def users_list(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    return {"users": [u.to_wire() for u in await node.accounts.list(data.get("query"))]}


async def user_update(node: Node, user: User, data: dict[str, Any]) -> dict[str, Any]:
    if data["user_id"] == user.id and data.get("is_active") is False:
        raise BadRequest("admins cannot deactivate themselves", field="is_active")
    updated = await node.accounts.set_role_and_activity(
        data["user_id"], data.get("role"), data.get("is_active")
    )
    if data.get("is_active") is False:
        await node.on_user_deactivated(updated.id)
    return {"user": updated.to_wire()}


HANDLERS: dict[str, Handler] = {
    "calendars.list": calendars_list,
    "appointments.list": appointments_list,
    "availability.get": availability_get,
    "appointment.create": appointment_create,
    "appointment.update": appointment_update,
    "appointment.cancel": appointment_cancel,
    "appointment.set_status": appointment_set_status,
    "calendar.create": calendar_create,
    "calendar.update": calendar_update,
    "calendar.block": calendar_block,
    "calendar.unblock": calendar_unblock,
    "users.list": users_list,
    "user.update": user_update,
}
