"""Passwords (Argon2id) and access tokens (JWT, HS256 pinned on decode).

Hashing costs tens of milliseconds of CPU by design, so it runs in a worker
thread: on the event loop it would stall every socket of the process.
"""

from __future__ import annotations

import asyncio
import hashlib
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


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    role: str
    jti: str
    issued_at: int
    expires_at: float
    # The sign-in (refresh family) this token descends from, if any.
    family: str | None = None


class AccessTokens:
    """Short-lived JWTs that say who the bearer is."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.secret_key
        self.lifetime_seconds = settings.access_token_expire_minutes * 60

    def issue(self, user_id: str, role: str, family: str | None) -> tuple[str, AccessClaims]:
        issued = time.time()
        claims = AccessClaims(
            user_id=user_id,
            role=role,
            jti=uuid.uuid4().hex,
            issued_at=int(issued),
            expires_at=issued + self.lifetime_seconds,
            family=family,
        )
        payload: dict[str, object] = {
            "sub": user_id,
            "role": role,
            "jti": claims.jti,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
        }
        if family is not None:
            payload["fam"] = family
        return jwt.encode(payload, self._key, algorithm=ALGORITHM), claims

    def decode(self, token: str) -> AccessClaims:
        """Verify signature and expiry.

        Raises:
            Unauthorized: the token is malformed, forged or expired.
        """
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "role", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("the access token is invalid") from exc
        if not all(isinstance(payload[k], str) for k in ("sub", "role", "jti")):
            raise Unauthorized("the access token is invalid")
        return AccessClaims(
            user_id=payload["sub"],
            role=payload["role"],
            jti=payload["jti"],
            issued_at=int(payload["iat"]),
            expires_at=float(payload["exp"]),
            family=payload["fam"] if isinstance(payload.get("fam"), str) else None,
        )


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Refresh tokens are stored only as this digest."""
    return hashlib.sha256(token.encode()).hexdigest()
