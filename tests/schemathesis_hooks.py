"""Schemathesis hooks for tests/test_schemathesis.py, loaded through SCHEMATHESIS_HOOKS.

Bearer tokens come from fresh accounts, so that whatever the run does to an
account (logout, a new password) never locks it out: a 401 makes schemathesis
fetch a new one. The appointment and user-administration routes get an admin
(promoted by the admin token the test passes in), the rest a plain user.
Bookings are pointed at a real calendar so they get past the 404.
"""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import schemathesis

BASE_URL = os.environ["HUB_ST_URL"]
ROOT_ADMIN = {"Authorization": "Bearer " + os.environ["HUB_ST_ADMIN_TOKEN"]}
CALENDAR_ID = os.environ["HUB_ST_CALENDAR_ID"]
ADMIN_PREFIXES = ("/api/v1/appointments/", "/api/v1/users/")
FIRST_SLOT = datetime(2032, 1, 5, 9, tzinfo=UTC)
_slots = itertools.count()


def role_of(case: Any, context: Any) -> str:
    path: str = context.operation.path
    if path.startswith(ADMIN_PREFIXES) and not path.startswith("/api/v1/users/me"):
        return "admin"
    return "user"


def new_account_token(role: str) -> str:
    email = f"st-{uuid.uuid4().hex[:12]}@example.test"
    password = "schemathesis " + uuid.uuid4().hex[:8]
    with httpx.Client(base_url=BASE_URL, timeout=15) as http:
        user = http.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "full_name": "Fuzz " + role},
        )
        user.raise_for_status()
        if role == "admin":
            promoted = http.patch(
                f"/api/v1/users/{user.json()['id']}", json={"role": "admin"}, headers=ROOT_ADMIN
            )
            promoted.raise_for_status()
        tokens = http.post("/api/v1/auth/login/json", json={"email": email, "password": password})
        tokens.raise_for_status()
        token: str = tokens.json()["access_token"]
        return token


@schemathesis.auth(cache_by_key=role_of)
class FreshAccount:
    def get(self, case: Any, context: Any) -> str:
        return new_account_token(role_of(case, context))

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _is_time(value: object) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    """Well-formed bookings go to the real calendar, in a free half hour of their own.

    So that some succeed and the stateful phase reaches the routes taking their
    ids; malformed ones (the negative cases) are left as generated.
    """
    operation = context.operation
    if (
        operation is None
        or operation.path != "/api/v1/appointments/"
        or operation.method.upper() != "POST"
        or not isinstance(body, dict)
    ):
        return body
    if isinstance(body.get("calendar_id"), str) and len(body["calendar_id"]) == 36:
        body = {**body, "calendar_id": CALENDAR_ID}
    if _is_time(body.get("starts_at")) and _is_time(body.get("ends_at")):
        start = FIRST_SLOT + timedelta(hours=next(_slots))
        end = start + timedelta(minutes=30)
        body = {**body, "starts_at": start.isoformat(), "ends_at": end.isoformat()}
    return body
