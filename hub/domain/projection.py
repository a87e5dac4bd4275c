"""What each viewer may see of an appointment (PROTOCOL.md, Appointment).

Staff, admins and the appointment's own client see it in full; anyone else
sees a busy block. Fan-out encodes each event once per projection, so these
functions are the only place the rule is written. They work on wire dicts,
because that is what events carry.
"""

from __future__ import annotations

from typing import Any

BUSY_FIELDS = ("id", "calendar_id", "starts_at", "ends_at", "status")


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
