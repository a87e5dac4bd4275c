"""Each request type's call into the service layer, and its answer's wire form.

The socket session and the REST routes both run requests through
:data:`HANDLERS`: they parse, this calls and encodes. No rule lives here;
the services decide who may do what from the account as it is now.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hub.domain.model import Role
from hub.domain.times import format_time
from hub.service.access import Identity
from hub.service.booking import Written
from hub.service.runtime import Runtime

Handler = Callable[[Runtime, Identity, dict[str, Any]], Awaitable[dict[str, Any]]]


async def run(
    runtime: Runtime, identity: Identity, kind: str, data: dict[str, Any]
) -> dict[str, Any]:
    return await HANDLERS[kind](runtime, identity, data)


def _written(written: Written, name: str = "appointment") -> dict[str, Any]:
    answer: dict[str, Any] = {name: written.appointment.to_wire(), "seqs": written.seqs}
    if written.appointments is not None:
        answer["appointments"] = [a.to_wire() for a in written.appointments]
    if written.series is not None:
        answer["series"] = written.series.to_wire()
    return answer


async def appointment_create(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    if data.get("preview"):
        times, conflicts = await hub.booking.preview(who, data)
        occurrences = [{"starts_at": format_time(s), "ends_at": format_time(e)} for s, e in times]
        return {"preview": True, "occurrences": occurrences, "conflicts": conflicts}
    return _written(await hub.booking.create(who, data))


async def appointment_update(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    return _written(await hub.booking.update(who, data))


async def appointment_cancel(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    return _written(await hub.booking.cancel(who, data))


async def appointment_set_status(
    hub: Runtime, who: Identity, data: dict[str, Any]
) -> dict[str, Any]:
    return _written(await hub.booking.set_status(who, data))


async def calendar_block(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    return _written(await hub.booking.block(who, data), "block")


async def calendar_unblock(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    return _written(await hub.booking.unblock(who, data), "block")


async def calendars_list(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    return {"calendars": [c.to_wire() for c in await hub.calendars.list(who)]}


async def calendar_create(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    return {"calendar": (await hub.calendars.create(who, data)).to_wire()}


async def calendar_update(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    calendar, seqs = await hub.calendars.update(who, data)
    return {"calendar": calendar.to_wire(), "seqs": seqs}


async def appointments_list(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    snapshot = await hub.reading.snapshot(who, data["channel"], data.get("from"), data.get("to"))
    answer: dict[str, Any] = {"appointments": snapshot.appointments, "seq": snapshot.seq}
    if snapshot.holds is not None:
        answer["holds"] = snapshot.holds
    return answer


async def slot_hold(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    hold, seqs = await hub.holds.hold(who, data)
    return {"hold": hold.to_wire(), "seqs": seqs}


async def slot_release(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    return {"seqs": await hub.holds.release(who, data["hold_id"])}


async def availability_get(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    found = await hub.reading.availability(
        who, data["calendar_id"], data["from"], data["to"], data["duration_minutes"]
    )
    slots = [
        {"starts_at": format_time(s.start), "ends_at": format_time(s.end)} for s in found.slots
    ]
    return {"slots": slots, "timezone": found.timezone}


async def users_list(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    return {"users": [u.to_wire() for u in await hub.accounts.search(who, data.get("query"))]}


async def user_update(hub: Runtime, who: Identity, data: dict[str, Any]) -> dict[str, Any]:
    role = Role(data["role"]) if "role" in data else None
    user = await hub.accounts.update_user(who, data["user_id"], role, data.get("is_active"))
    return {"user": user.to_wire()}


HANDLERS: dict[str, Handler] = {
    "calendars.list": calendars_list,
    "appointments.list": appointments_list,
    "availability.get": availability_get,
    "appointment.create": appointment_create,
    "appointment.update": appointment_update,
    "appointment.cancel": appointment_cancel,
    "appointment.set_status": appointment_set_status,
    "slot.hold": slot_hold,
    "slot.release": slot_release,
    "calendar.create": calendar_create,
    "calendar.update": calendar_update,
    "calendar.block": calendar_block,
    "calendar.unblock": calendar_unblock,
    "users.list": users_list,
    "user.update": user_update,
}
