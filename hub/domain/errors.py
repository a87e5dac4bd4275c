"""The hub's errors: one root, one subclass per protocol error code.

Every error a client can see is a :class:`HubError` carrying the wire ``code``,
a human ``message``, optional ``details`` and the HTTP status the REST surface
answers with. Library errors (pyjwt, asyncpg, redis) are wrapped at the
boundary with ``raise ... from exc`` so nothing else leaks.

    HubError
    ├── BadRequest            bad_request          400/422
    ├── Unauthorized          unauthorized         401
    ├── Forbidden             forbidden            403
    ├── NotFound              not_found            404
    ├── AlreadyExists         already_exists       409
    ├── SlotTaken             slot_taken           409
    ├── OutsideAvailability   outside_availability 422
    ├── VersionConflict       version_conflict     409
    ├── InvalidTransition     invalid_transition   409
    ├── ResyncRequired        resync_required      409
    ├── RateLimited           rate_limited         429
    ├── Unavailable           unavailable          503
    └── Internal              internal             500
"""

from __future__ import annotations

from typing import Any, ClassVar


class HubError(Exception):
    """Root of every error the hub reports to a client."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class BadRequest(HubError):
    code = "bad_request"
    status = 422

    def __init__(
        self, message: str, field: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        merged = dict(details or {})
        if field is not None:
            merged["field"] = field
        super().__init__(message, merged or None)
        self.field = field


class MalformedBody(BadRequest):
    """The body is not JSON at all (HTTP 400 rather than 422)."""

    status = 400


class BodyTooLarge(BadRequest):
    status = 413


class Unauthorized(HubError):
    code = "unauthorized"
    status = 401


class Forbidden(HubError):
    code = "forbidden"
    status = 403


class NotFound(HubError):
    code = "not_found"
    status = 404


class AlreadyExists(HubError):
    code = "already_exists"
    status = 409


class SlotTaken(HubError):
    code = "slot_taken"
    status = 409


class OutsideAvailability(HubError):
    code = "outside_availability"
    status = 422


class VersionConflict(HubError):
    code = "version_conflict"
    status = 409


class InvalidTransition(HubError):
    code = "invalid_transition"
    status = 409


class ResyncRequired(HubError):
    code = "resync_required"
    status = 409


class RateLimited(HubError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after_ms: int) -> None:
        super().__init__(message, {"retry_after_ms": retry_after_ms})
        self.retry_after_ms = retry_after_ms


class Unavailable(HubError):
    code = "unavailable"
    status = 503


class Internal(HubError):
    code = "internal"
    status = 500
