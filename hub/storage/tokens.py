"""Where refresh tokens, revoked access tokens and login failures are kept.

Two implementations of one small interface: :class:`MemoryTokenStore` for
the embedded single process, :class:`RedisTokenStore` when ``REDIS_URL`` is
set, so that every hub process agrees on who is signed in. Refresh tokens
are kept only as digests. Each login starts a *family*; a refresh token may
be claimed once, and a second claim revokes the whole family (reuse
detection: someone holds a copy).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from hub.domain.errors import Unavailable


@dataclass(frozen=True)
class RefreshRecord:
    user_id: str
    family: str
    expires_at: float


class ClaimResult:
    """Outcome of claiming a refresh token."""

    OK = "ok"
    UNKNOWN = "unknown"
    REUSED = "reused"
    REVOKED = "revoked"


class TokenStore(Protocol):
    async def save_refresh(self, digest: str, record: RefreshRecord) -> None: ...

    async def claim_refresh(self, digest: str) -> tuple[str, RefreshRecord | None]:
        """Claim a refresh token once: (ClaimResult.*, its record)."""
        ...

    async def revoke_family(self, family: str, user_id: str) -> None: ...

    async def revoke_user(self, user_id: str) -> None:
        """Revoke every refresh family of a user (deactivation)."""
        ...

    async def revoke_access(self, jti: str, expires_at: float) -> None: ...

    async def is_access_revoked(self, jti: str, family: str | None) -> bool:
        """Revoked itself (logout), or its whole sign-in family (reuse, deactivation)."""
        ...

    async def add_failure(self, key: str, window_seconds: float) -> int:
        """Count one failed login under ``key``; returns the count in the window."""
        ...

    async def failures(self, key: str) -> tuple[int, float]:
        """(failures in the window, seconds until the window ends)."""
        ...

    async def clear_failures(self, key: str) -> None: ...

    async def ping(self) -> float: ...

    async def close(self) -> None: ...


class MemoryTokenStore:
    """In-process store for the embedded mode: one process, so exact."""

    def __init__(self) -> None:
        self._refresh: dict[str, RefreshRecord] = {}
        self._used: set[str] = set()
        self._revoked_families: dict[str, float] = {}
        self._user_families: dict[str, set[str]] = {}
        self._revoked_access: dict[str, float] = {}
        self._failures: dict[str, tuple[int, float]] = {}

    async def save_refresh(self, digest: str, record: RefreshRecord) -> None:
        self._sweep()
        self._refresh[digest] = record
        self._user_families.setdefault(record.user_id, set()).add(record.family)

    async def claim_refresh(self, digest: str) -> tuple[str, RefreshRecord | None]:
        record = self._refresh.get(digest)
        if record is None or record.expires_at < time.time():
            return ClaimResult.UNKNOWN, None
        if record.family in self._revoked_families:
            return ClaimResult.REVOKED, record
        if digest in self._used:
            return ClaimResult.REUSED, record
        self._used.add(digest)
        return ClaimResult.OK, record

    async def revoke_family(self, family: str, user_id: str) -> None:
        self._revoked_families[family] = time.time() + 366 * 86400

    async def revoke_user(self, user_id: str) -> None:
        for family in self._user_families.pop(user_id, set()):
            await self.revoke_family(family, user_id)

    async def revoke_access(self, jti: str, expires_at: float) -> None:
        self._revoked_access[jti] = expires_at

    async def is_access_revoked(self, jti: str, family: str | None) -> bool:
        return jti in self._revoked_access or (
            family is not None and family in self._revoked_families
        )

    async def add_failure(self, key: str, window_seconds: float) -> int:
        count, until = self._failures.get(key, (0, 0.0))
        now = time.time()
        if until <= now:
            count, until = 0, now + window_seconds
        self._failures[key] = (count + 1, until)
        return count + 1

    async def failures(self, key: str) -> tuple[int, float]:
        count, until = self._failures.get(key, (0, 0.0))
        remaining = until - time.time()
        return (count, remaining) if remaining > 0 else (0, 0.0)

    async def clear_failures(self, key: str) -> None:
        self._failures.pop(key, None)

    async def ping(self) -> float:
        return 0.0

    async def close(self) -> None:
        return None

    def _sweep(self) -> None:
        """Forget what has expired, so memory stays bounded by live tokens."""
        now = time.time()
        for digest in [d for d, r in self._refresh.items() if r.expires_at < now]:
            self._refresh.pop(digest, None)
            self._used.discard(digest)
        for jti in [j for j, exp in self._revoked_access.items() if exp < now]:
            self._revoked_access.pop(jti, None)


class RedisTokenStore:
    """Redis-backed store shared by every hub process; keys under the prefix."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def _key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    async def save_refresh(self, digest: str, record: RefreshRecord) -> None:
        ttl = max(1, int(record.expires_at - time.time()))
        async with _wrap():
            pipe = self._redis.pipeline(transaction=True)
            pipe.set(self._key("rt", digest), json.dumps(asdict(record)), ex=ttl)
            pipe.sadd(self._key("rtuser", record.user_id), record.family)
            pipe.expire(self._key("rtuser", record.user_id), ttl)
            await pipe.execute()

    async def claim_refresh(self, digest: str) -> tuple[str, RefreshRecord | None]:
        async with _wrap():
            raw = await self._redis.get(self._key("rt", digest))
            if raw is None:
                return ClaimResult.UNKNOWN, None
            record = RefreshRecord(**json.loads(raw))
            if await self._redis.exists(self._key("rtfam", record.family)):
                return ClaimResult.REVOKED, record
            ttl = max(1, int(record.expires_at - time.time()))
            # SET NX is the arbiter: of two concurrent claims exactly one wins.
            claimed = await self._redis.set(self._key("rtused", digest), "1", nx=True, ex=ttl)
        return (ClaimResult.OK if claimed else ClaimResult.REUSED), record

    async def revoke_family(self, family: str, user_id: str) -> None:
        async with _wrap():
            await self._redis.set(self._key("rtfam", family), "1", ex=366 * 86400)

    async def revoke_user(self, user_id: str) -> None:
        async with _wrap():
            families = await self._redis.smembers(self._key("rtuser", user_id))
            pipe = self._redis.pipeline(transaction=False)
            for family in families:
                name = family.decode() if isinstance(family, bytes) else family
                pipe.set(self._key("rtfam", name), "1", ex=366 * 86400)
            pipe.delete(self._key("rtuser", user_id))
            await pipe.execute()

    async def revoke_access(self, jti: str, expires_at: float) -> None:
        ttl = max(1, int(expires_at - time.time()) + 1)
        async with _wrap():
            await self._redis.set(self._key("revoked", jti), "1", ex=ttl)

    async def is_access_revoked(self, jti: str, family: str | None) -> bool:
        keys = [self._key("revoked", jti)]
        if family is not None:
            keys.append(self._key("rtfam", family))
        async with _wrap():
            return bool(await self._redis.exists(*keys))

    async def add_failure(self, key: str, window_seconds: float) -> int:
        name = self._key("loginfail", key)
        async with _wrap():
            pipe = self._redis.pipeline(transaction=True)
            pipe.incr(name)
            pipe.expire(name, max(1, int(window_seconds)), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def failures(self, key: str) -> tuple[int, float]:
        name = self._key("loginfail", key)
        async with _wrap():
            pipe = self._redis.pipeline(transaction=True)
            pipe.get(name)
            pipe.pttl(name)
            raw, pttl = await pipe.execute()
        if raw is None or pttl <= 0:
            return 0, 0.0
        return int(raw), pttl / 1000

    async def clear_failures(self, key: str) -> None:
        async with _wrap():
            await self._redis.delete(self._key("loginfail", key))

    async def ping(self) -> float:
        started = time.perf_counter()
        async with _wrap():
            await self._redis.ping()
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        return None


class _wrap:
    """Redis errors become Unavailable: the caller answers 503, nothing applied."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        from redis.exceptions import RedisError

        if isinstance(exc, RedisError | OSError | TimeoutError):
            raise Unavailable("the token store (Redis) is unavailable; retry") from exc
