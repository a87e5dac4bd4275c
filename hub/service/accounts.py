"""Accounts and sign-in: users, passwords, token pairs, revocation.

Both transports use this one service: the REST auth routes, and the socket
session for ``hello`` / ``auth.refresh``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hub.domain.errors import (
    AlreadyExists,
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
)
from hub.realtime import channel_log
from hub.service.credentials import (
    AccessClaims,
    AccessTokens,
    Passwords,
    new_refresh_token,
    token_digest,
)
from hub.settings import Settings
from hub.storage.store import Store, now, utc
from hub.storage.tables import users
from hub.storage.tokens import ClaimResult, RefreshRecord, TokenStore
from hub.wire.schema import format_time

ROLES = ("user", "staff", "admin")
INVALID_LOGIN = "wrong email or password"


@dataclass(frozen=True)
class User:
    id: str
    email: str
    full_name: str
    role: str
    is_active: bool
    created_at: str

    @property
    def is_staff(self) -> bool:
        """Staff and admins share the staff powers of the protocol."""
        return self.role in ("staff", "admin")

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "full_name": self.full_name,
            "role": self.role,
            "is_active": self.is_active,
            "created_at": self.created_at,
        }


def user_from_row(row: Any) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        full_name=row["full_name"],
        role=row["role"],
        is_active=bool(row["is_active"]),
        created_at=format_time(utc(row["created_at"])),
    )


class Accounts:
    def __init__(self, settings: Settings, store: Store, tokens: TokenStore) -> None:
        self.settings = settings
        self.store = store
        self.tokens = tokens
        self.passwords = Passwords(settings)
        self.access = AccessTokens(settings)

    # Users

    async def get(self, user_id: str) -> User:
        row = await self.store.fetch_one(users.select().where(users.c.id == user_id))
        if row is None:
            raise NotFound("no such user", {"user_id": user_id})
        return user_from_row(row)

    async def _row_by_email(self, email: str) -> Any:
        query = users.select().where(sa.func.lower(users.c.email) == email.lower())
        return await self.store.fetch_one(query)

    async def register(self, email: str, password: str, full_name: str, role: str = "user") -> User:
        if await self._row_by_email(email) is not None:
            raise AlreadyExists("an account with that email exists", {"field": "email"})
        password_hash = await self.passwords.hash(password)
        user_id = str(uuid.uuid4())
        stamp = now()
        try:
            async with self.store.write():
                await self.store.execute(
                    users.insert().values(
                        id=user_id,
                        email=email,
                        full_name=full_name.strip(),
                        password_hash=password_hash,
                        role=role,
                        is_active=True,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
                await channel_log.create_channel(self.store, f"user:{user_id}")
        except Exception as exc:
            # Two registrations of one email racing: the unique index decides.
            if _is_unique_violation(exc):
                raise AlreadyExists(
                    "an account with that email exists", {"field": "email"}
                ) from exc
            raise
        return await self.get(user_id)

    async def list(self, query: str | None = None, limit: int = 200) -> list[User]:
        select = users.select().order_by(users.c.email).limit(limit)
        if query:
            pattern = "%" + query.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
            select = select.where(
                sa.or_(
                    sa.func.lower(users.c.email).like(pattern),
                    sa.func.lower(users.c.full_name).like(pattern),
                )
            )
        return [user_from_row(r) for r in await self.store.fetch_all(select)]

    async def update_profile(self, user: User, full_name: str | None, password: str | None) -> User:
        values: dict[str, Any] = {"updated_at": now()}
        if full_name is not None:
            values["full_name"] = full_name.strip()
        if password is not None:
            values["password_hash"] = await self.passwords.hash(password)
        async with self.store.write():
            await self.store.execute(users.update().where(users.c.id == user.id).values(**values))
        return await self.get(user.id)

    async def set_role_and_activity(
        self, user_id: str, role: str | None, is_active: bool | None
    ) -> User:
        """Admin change of a user; deactivation revokes their refresh tokens."""
        await self.get(user_id)
        values: dict[str, Any] = {"updated_at": now()}
        if role is not None:
            values["role"] = role
        if is_active is not None:
            values["is_active"] = is_active
        async with self.store.write():
            await self.store.execute(users.update().where(users.c.id == user_id).values(**values))
        if is_active is False:
            await self.tokens.revoke_user(user_id)
        return await self.get(user_id)

    async def create_admin(self, email: str, password: str | None, full_name: str) -> User:
        """Create an admin, or promote the existing account with that email."""
        row = await self._row_by_email(email)
        if row is None:
            if not password:
                raise BadRequest("a password is needed to create an account", field="password")
            return await self.register(email, password, full_name, role="admin")
        return await self.set_role_and_activity(row["id"], "admin", True)

    # Sign-in

    async def login(self, email: str, password: str, ip: str | None = None) -> dict[str, Any]:
        """Sign in; failures are throttled per email and per client address."""
        window = self.settings.login_failure_window_seconds
        failure_keys = [("email:" + email.lower(), self.settings.login_max_failures)]
        if ip:
            failure_keys.append(("ip:" + ip, self.settings.login_max_failures_per_ip))
        for key, limit in failure_keys:
            count, remaining = await self.tokens.failures(key)
            if count >= limit:
                raise RateLimited(
                    "too many failed sign-ins; wait and try again",
                    retry_after_ms=max(1, int(remaining * 1000)),
                )
        row = await self._row_by_email(email)
        stored_hash = row["password_hash"] if row is not None else None
        # Verified even for an unknown email, against a dummy hash: same cost.
        if not await self.passwords.verify(stored_hash, password) or row is None:
            for key, _ in failure_keys:
                await self.tokens.add_failure(key, window)
            raise Unauthorized(INVALID_LOGIN)
        if not row["is_active"]:
            raise Unauthorized("this account is deactivated")
        await self.tokens.clear_failures(failure_keys[0][0])
        if self.passwords.needs_rehash(stored_hash or ""):
            await self._rehash(row["id"], password)
        return await self.issue_pair(user_from_row(row), family=uuid.uuid4().hex)

    async def _rehash(self, user_id: str, password: str) -> None:
        new_hash = await self.passwords.hash(password)
        async with self.store.write():
            await self.store.execute(
                users.update().where(users.c.id == user_id).values(password_hash=new_hash)
            )

    async def issue_pair(self, user: User, family: str) -> dict[str, Any]:
        access_token, _ = self.access.issue(user.id, user.role, family)
        refresh_token = new_refresh_token()
        expires_at = time.time() + self.settings.refresh_token_expire_days * 86400
        await self.tokens.save_refresh(
            token_digest(refresh_token), RefreshRecord(user.id, family, expires_at)
        )
        return {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "token_type": "bearer",
            "expires_in": int(self.access.lifetime_seconds),
        }

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Rotate a refresh token; a reused one revokes its whole family."""
        result, record = await self.tokens.claim_refresh(token_digest(refresh_token))
        if result == ClaimResult.REUSED and record is not None:
            await self.tokens.revoke_family(record.family, record.user_id)
            raise Unauthorized("refresh token reused; every session of that sign-in is revoked")
        if result != ClaimResult.OK or record is None:
            raise Unauthorized("the refresh token is invalid, expired or revoked")
        user = await self.get(record.user_id)
        if not user.is_active:
            raise Unauthorized("this account is deactivated")
        return await self.issue_pair(user, family=record.family)

    async def logout(self, claims: AccessClaims, refresh_token: str | None) -> None:
        await self.tokens.revoke_access(claims.jti, claims.expires_at)
        if refresh_token:
            _, record = await self.tokens.claim_refresh(token_digest(refresh_token))
            if record is not None and record.user_id == claims.user_id:
                await self.tokens.revoke_family(record.family, record.user_id)

    async def authenticate(self, token: str) -> tuple[AccessClaims, User]:
        """The claims and the current user behind an access token.

        Raises:
            Unauthorized: invalid, expired or revoked token, or inactive user.
        """
        claims = self.access.decode(token)
        if await self.tokens.is_access_revoked(claims.jti, claims.family):
            raise Unauthorized("the access token has been revoked")
        try:
            user = await self.get(claims.user_id)
        except NotFound:
            raise Unauthorized("the access token names no user") from None
        if not user.is_active:
            raise Unauthorized("this account is deactivated")
        return claims, user


def require_admin(user: User) -> None:
    if user.role != "admin":
        raise Forbidden("only admins may do this")


def require_staff(user: User) -> None:
    if not user.is_staff:
        raise Forbidden("only staff and admins may do this")


def _is_unique_violation(exc: BaseException) -> bool:
    name = type(exc).__name__
    text = str(exc).lower()
    return name == "UniqueViolationError" or "unique constraint failed" in text
