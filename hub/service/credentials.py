"""Passwords (Argon2id) and access tokens (JWT, HS256 pinned on decode).

Hashing costs tens of milliseconds of CPU by design, so it runs in a worker
thread: on the event loop it would stall every socket of the process.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.domain.errors import Unauthorized
from hub.settings import Settings

ALGORITHM = "HS256"


class Passwords:
    """Argon2id hashing with the configured cost."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        # Verified against when the email is unknown, so that an unknown
        # email costs the same time as a wrong password.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and bool(
                stored_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


# Claims beyond these bounds cannot be honoured: an `exp` of 1e20 or a
# year-9999 `iat` would overflow later arithmetic (PROTOCOL.md, Session).
_EARLIEST = 946_684_800  # 2000-01-01
_LATEST = 32_503_680_000  # 3000-01-01
_SUB = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TOKEN_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    role: str
    jti: str
    issued_at: int
    expires_at: float
    # The sign-in this token descends from: revoking it revokes the token.
    sign_in_id: str


class AccessTokens:
    """Short-lived JWTs that say who the bearer is."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.secret_key
        self.lifetime_seconds = settings.access_token_expire_minutes * 60

    def issue(self, user_id: str, role: str, sign_in_id: str) -> tuple[str, AccessClaims]:
        issued = time.time()
        claims = AccessClaims(
            user_id=user_id,
            role=role,
            jti=uuid.uuid4().hex,
            issued_at=int(issued),
            expires_at=issued + self.lifetime_seconds,
            sign_in_id=sign_in_id,
        )
        payload: dict[str, object] = {
            "sub": user_id,
            "role": role,
            "jti": claims.jti,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
            "fam": sign_in_id,
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM), claims

    def decode(self, token: str) -> AccessClaims:
        """Verify signature, expiry and every claim's type and range.

        Raises:
            Unauthorized: the token is malformed, forged, expired, or has a
                claim that cannot be honoured (missing, mistyped, out of range).
        """
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "role", "exp", "iat", "jti", "fam"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the access token has expired") from exc
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
            raise Unauthorized("the access token is invalid") from exc
        if not _claims_honoured(payload):
            raise Unauthorized("the access token has claims that cannot be honoured")
        return AccessClaims(
            user_id=payload["sub"],
            role=payload["role"],
            jti=payload["jti"],
            issued_at=int(payload["iat"]),
            expires_at=float(payload["exp"]),
            sign_in_id=payload["fam"],
        )


def _is_instant(value: object) -> bool:
    """A number of seconds (not a string, not a bool) within the years 2000 to 3000."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return _EARLIEST <= value <= _LATEST


def _claims_honoured(payload: dict[str, object]) -> bool:
    texts = [payload.get(k) for k in ("sub", "role", "jti", "fam")]
    if not all(isinstance(t, str) for t in texts):
        return False
    sub, role, jti, fam = (str(t) for t in texts)
    return (
        _is_instant(payload.get("exp"))
        and _is_instant(payload.get("iat"))
        and bool(_SUB.match(sub))
        and role in ("user", "staff", "admin")
        and bool(_TOKEN_ID.match(jti))
        and bool(_TOKEN_ID.match(fam))
    )


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Refresh tokens are stored only as this digest."""
    return hashlib.sha256(token.encode()).hexdigest()
