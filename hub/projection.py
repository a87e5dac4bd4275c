"""What each viewer may see of an appointment (PROTOCOL.md, Appointment).

Staff, admins and the appointment's own client see it in full; anyone else
sees a busy block. Fan-out encodes each event once per projection, so these
functions are the only place the rule is written.
"""

from __future__ import annotations

from typing import Any

from hub.accounts import User

BUSY_FIELDS = ("id", "calendar_id", "starts_at", "ends_at", "status")


def sees_in_full(viewer: User, appointment: dict[str, Any]) -> bool:
    return viewer.is_staff or appointment.get("client_id") == viewer.id


def busy_block(appointment: dict[str, Any]) -> dict[str, Any]:
    return {k: appointment[k] for k in BUSY_FIELDS}


def project(viewer: User, appointment: dict[str, Any]) -> dict[str, Any]:
    return appointment if sees_in_full(viewer, appointment) else busy_block(appointment)
