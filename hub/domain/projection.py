"""What each viewer may see of an appointment or a hold (PROTOCOL.md).

Staff, admins and the appointment's own client see it in full; anyone else
sees a busy block. A hold is seen with its holder by the holder and staff,
without by anyone else. Fan-out encodes each event once per projection, so
these functions are the only place the rules are written. They work on wire
dicts, because that is what events carry.
"""

from __future__ import annotations

from typing import Any

# ``hold_id`` is kept: other screens showed that hold, and this event ends it.
BUSY_FIELDS = ("id", "calendar_id", "starts_at", "ends_at", "status", "hold_id")
HOLD_FIELDS = ("id", "calendar_id", "starts_at", "ends_at", "expires_at")


def owner(event: str, data: dict[str, Any]) -> str | None:
    """Whose event this is to see in full; None when everyone sees it whole."""
    if event.startswith("appointment."):
        return data.get("client_id")
    if event == "slot.held":
        return data.get("held_by")
    return None


def restricted(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """The event's data as anyone but its owner and staff may see it."""
    if event == "slot.held":
        return {k: data[k] for k in HOLD_FIELDS}
    return busy_block(data)


def sees_in_full(viewer_is_staff: bool, viewer_id: str, client_id: str | None) -> bool:
    """The rule itself, on plain values so fan-out can apply it per socket cheaply."""
    return viewer_is_staff or (client_id is not None and client_id == viewer_id)


def busy_block(appointment: dict[str, Any]) -> dict[str, Any]:
    return {k: appointment[k] for k in BUSY_FIELDS if k in appointment}


def project(viewer_is_staff: bool, viewer_id: str, appointment: dict[str, Any]) -> dict[str, Any]:
    """An appointment's wire form as this viewer may see it."""
    if sees_in_full(viewer_is_staff, viewer_id, appointment.get("client_id")):
        return appointment
    return busy_block(appointment)
