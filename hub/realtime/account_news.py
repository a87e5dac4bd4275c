"""Account news: the changes every process must apply to its live sessions.

A revoked sign-in or a role change is committed with an event on the
internal ``accounts`` channel, in the same transaction as the change. Every
process follows that channel like any other (broker first, the channel log
filling any gap), so news reaches every process within a second, and a
Redis that restarts empty delays it by at most one safety-net interval,
never loses it. Clients cannot subscribe to it: it is not a wire channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ACCOUNTS_CHANNEL = "accounts"
REVOKED = "account.revoked"
ROLE_CHANGED = "account.role_changed"

# Why sign-ins were revoked, as the closed session is told.
REASONS = {
    "logout": "you signed out",
    "refresh_reuse": "a refresh token of this sign-in was used twice",
    "password_changed": "the password was changed",
    "deactivated": "this account is deactivated",
    "password_reset": "the password was reset",
}


def revoked(user_id: str, sign_in_ids: list[str], reason: str) -> dict[str, Any]:
    return {"user_id": user_id, "sign_in_ids": sign_in_ids, "reason": reason}


def role_changed(user_id: str, role: str) -> dict[str, Any]:
    return {"user_id": user_id, "role": role}


@dataclass(frozen=True)
class News:
    """One account event, read back from the channel."""

    kind: str
    user_id: str
    sign_in_ids: frozenset[str]
    reason: str
    role: str | None

    @classmethod
    def parse(cls, event: str, data: dict[str, Any]) -> News:
        return cls(
            kind=event,
            user_id=str(data.get("user_id", "")),
            sign_in_ids=frozenset(data.get("sign_in_ids") or ()),
            reason=REASONS.get(str(data.get("reason")), "this sign-in has been revoked"),
            role=data.get("role"),
        )
