"""What each viewer may see of an appointment (PROTOCOL.md, Appointment).

Staff, admins and the appointment's own client see it in full; anyone else
sees a busy block. Fan-out encodes each event once per projection, so these
functions are the only place the rule is written.
"""

from __future__ import annotations

from typing import Any

from hub.service.accounts import User

BUSY_FIELDS = ("id", "calendar_id", "starts_at", "ends_at", "status")


def full_view(is_staff: bool, viewer_id: str, client_id: str | None) -> bool:
    """The rule itself, on plain values so fan-out can apply it per socket cheaply."""
    return is_staff or client_id == viewer_id


def sees_in_full(viewer: User, appointment: dict[str, Any]) -> bool:
    return full_view(viewer.is_staff, viewer.id, appointment.get("client_id"))


def busy_block(appointment: dict[str, Any]) -> dict[str, Any]:
    return {k: appointment[k] for k in BUSY_FIELDS}


def project(viewer: User, appointment: dict[str, Any]) -> dict[str, Any]:
    return appointment if sees_in_full(viewer, appointment) else busy_block(appointment)
