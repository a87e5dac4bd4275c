"""Accounts and sign-in: users, passwords, token pairs, revocation.

Both transports use this one service. A sign-in (one login, and every token
descended from it) is a row in the database; logout, refresh-token reuse, a
password change and deactivation revoke sign-ins there, in the transaction
that makes the change, with account news (:mod:`hub.realtime.account_news`)
that closes the affected live sockets on every process.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hub.domain.errors import (
    AlreadyExists,
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
)
from hub.domain.model import Role, User, user_channel
from hub.domain.times import now
from hub.realtime import account_news, channel_log
from hub.realtime.account_news import ACCOUNTS_CHANNEL
from hub.service.access import Identity, current, require_admin, require_staff
from hub.service.credentials import (
    AccessClaims,
    AccessTokens,
    Passwords,
    new_refresh_token,
    token_digest,
)
from hub.service.unit_of_work import Publisher, Work, unit_of_work
from hub.settings import Settings
from hub.storage.store import Duplicate, Store
from hub.storage.throttle import Throttle
from hub.storage.users import Users

INVALID_LOGIN = "wrong email or password"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
        }


class AccountService:
    def __init__(
        self, settings: Settings, store: Store, throttle: Throttle, publisher: Publisher
    ) -> None:
        self.settings = settings
        self.store = store
        self.users = Users(store)
        self.throttle = throttle
        self.publisher = publisher
        self.passwords = Passwords(settings)
        self.access = AccessTokens(settings)

    # Who is calling

    async def authenticate(self, token: str) -> tuple[AccessClaims, Identity, User]:
        """The claims, identity and current user behind an access token.

        Raises:
            Unauthorized: invalid, expired or revoked token, or inactive user.
        """
        claims = self.access.decode(token)
        identity = Identity(claims.user_id, claims.sign_in_id)
        return claims, identity, await current(self.users, identity)

    async def me(self, identity: Identity) -> User:
        return await current(self.users, identity)

    # Accounts

    async def register(
        self, email: str, password: str, full_name: str, role: Role = Role.USER
    ) -> User:
        if await self.users.credentials(email) is not None:
            raise AlreadyExists("an account with that email exists", {"field": "email"})
        password_hash = await self.passwords.hash(password)
        user = User(str(uuid.uuid4()), email, full_name.strip(), role, True, now())
        try:
            async with self.store.write():
                await self.users.insert(user, password_hash)
                await channel_log.create_channel(self.store, user_channel(user.id))
        except Duplicate as exc:  # two registrations of one email raced: the index decides
            raise AlreadyExists("an account with that email exists", {"field": "email"}) from exc
        return user

    async def get(self, identity: Identity, user_id: str) -> User:
        require_admin(await current(self.users, identity))
        return await self._existing(user_id)

    async def search(
        self, identity: Identity, query: str | None, admin_only: bool = False
    ) -> list[User]:
        """Find users by email or name: staff may (the socket), or admins only (REST)."""
        actor = await current(self.users, identity)
        (require_admin if admin_only else require_staff)(actor)
        return await self.users.search(query)

    async def update_profile(
        self, identity: Identity, full_name: str | None, password: str | None
    ) -> User:
        """Change one's own name or password; a new password revokes every other sign-in."""
        await current(self.users, identity)
        values: dict[str, Any] = {}
        if full_name is not None:
            values["full_name"] = full_name.strip()
        if password is not None:
            values["password_hash"] = await self.passwords.hash(password)
        async with unit_of_work(self.store, self.publisher) as work:
            user = await current(self.users, identity)
            await self.users.update(user.id, now(), **values)
            if password is not None:
                await self._revoke(work, user.id, "password_changed", sparing=identity.sign_in_id)
        return await self._existing(identity.user_id)

    async def update_user(
        self, identity: Identity, user_id: str, role: Role | None, is_active: bool | None
    ) -> User:
        """An admin changes a role or deactivates; never leaves the hub without an admin."""
        async with unit_of_work(self.store, self.publisher) as work:
            actor = await current(self.users, identity)
            require_admin(actor)
            if user_id == actor.id and is_active is False:
                raise BadRequest("admins cannot deactivate themselves", field="is_active")
            await self._change(work, await self._existing(user_id), role, is_active)
        return await self._existing(user_id)

    async def create_admin(self, email: str, password: str | None, full_name: str) -> User:
        """Create an admin, or promote the account with that email (and reset its password)."""
        found = await self.users.credentials(email)
        if found is None:
            if not password:
                raise BadRequest("a password is needed to create an account", field="password")
            return await self.register(email, password, full_name, role=Role.ADMIN)
        password_hash = None if password is None else await self.passwords.hash(password)
        async with unit_of_work(self.store, self.publisher) as work:
            user = found.user
            await self._change(work, user, Role.ADMIN, True)
            if password_hash is not None:
                await self.users.update(user.id, now(), password_hash=password_hash)
                await self._revoke(work, user.id, "password_reset")
        return await self._existing(found.user.id)

    async def _change(
        self, work: Work, user: User, role: Role | None, is_active: bool | None
    ) -> None:
        demoted = role is not None and role is not Role.ADMIN and user.is_admin
        deactivated = is_active is False and user.is_active
        if demoted or (deactivated and user.is_admin):
            admins = await self.users.lock_active_admins()
            if admins == [user.id]:
                raise Forbidden("this is the last active admin: make another admin first")
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = role
        if is_active is not None:
            values["is_active"] = is_active
        await self.users.update(user.id, now(), **values)
        if deactivated:
            await self._revoke(work, user.id, "deactivated")
        if role is not None and role is not user.role:
            await work.append(
                ACCOUNTS_CHANNEL,
                account_news.ROLE_CHANGED,
                account_news.role_changed(user.id, role.value),
            )

    async def _existing(self, user_id: str) -> User:
        user = await self.users.get(user_id)
        if user is None:
            raise NotFound("no such user", {"user_id": user_id})
        return user

    # Sign-in

    async def login(self, email: str, password: str, address: str | None = None) -> TokenPair:
        """Sign in; failures are throttled per email and per client address."""
        keys = [("email:" + email.lower(), self.settings.login_max_failures)]
        if address:
            keys.append(("ip:" + address, self.settings.login_max_failures_per_ip))
        for key, limit in keys:
            count, remaining = await self.throttle.failures(key)
            if count >= limit:
                raise RateLimited(
                    "too many failed sign-ins; wait and try again",
                    retry_after_ms=max(1, int(remaining * 1000)),
                )
        found = await self.users.credentials(email)
        stored = found.password_hash if found is not None else None
        # Verified even for an unknown email, against a dummy hash: same cost.
        if not await self.passwords.verify(stored, password) or found is None:
            for key, _ in keys:
                await self.throttle.add_failure(key, self.settings.login_failure_window_seconds)
            raise Unauthorized(INVALID_LOGIN)
        if not found.user.is_active:
            raise Unauthorized("this account is deactivated")
        await self.throttle.clear(keys[0][0])
        if self.passwords.needs_rehash(found.password_hash):
            await self._rehash(found.user.id, password)
        sign_in_id = uuid.uuid4().hex
        async with self.store.write():
            await self.users.add_sign_in(sign_in_id, found.user.id, now())
            return await self._pair(found.user, sign_in_id)

    async def _rehash(self, user_id: str, password: str) -> None:
        new_hash = await self.passwords.hash(password)
        async with self.store.write():
            await self.users.update(user_id, now(), password_hash=new_hash)

    async def _pair(self, user: User, sign_in_id: str) -> TokenPair:
        """A new access and refresh token of a sign-in (inside a write transaction)."""
        access_token, _ = self.access.issue(user.id, user.role.value, sign_in_id)
        refresh_token = new_refresh_token()
        lifetime = timedelta(days=self.settings.refresh_token_expire_days)
        await self.users.add_refresh(token_digest(refresh_token), sign_in_id, now() + lifetime)
        return TokenPair(access_token, refresh_token, int(self.access.lifetime_seconds))

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a refresh token; a reused one revokes its whole sign-in."""
        pair: TokenPair | None = None
        async with unit_of_work(self.store, self.publisher) as work:
            claim = await self.users.claim_refresh(token_digest(refresh_token), now())
            if claim is None or claim.expired or claim.revoked:
                raise Unauthorized("the refresh token is invalid, expired or revoked")
            if claim.fresh:
                user = await current(self.users, Identity(claim.user_id, claim.sign_in_id))
                pair = await self._pair(user, claim.sign_in_id)
            else:
                await self._revoke(work, claim.user_id, "refresh_reuse", only=claim.sign_in_id)
        if pair is None:  # raised after the commit: the revocation must stand
            raise Unauthorized("refresh token reused; every token of that sign-in is revoked")
        return pair

    async def logout(self, identity: Identity, everywhere: bool = False) -> None:
        """Revoke the caller's sign-in (its refresh tokens and access tokens), or all."""
        async with unit_of_work(self.store, self.publisher) as work:
            await current(self.users, identity)
            only = None if everywhere else identity.sign_in_id
            await self._revoke(work, identity.user_id, "logout", only=only)

    async def _revoke(
        self,
        work: Work,
        user_id: str,
        reason: str,
        only: str | None = None,
        sparing: str | None = None,
    ) -> None:
        ids = await self.users.revoke_sign_ins(user_id, now(), only=only, sparing=sparing)
        if ids:
            await work.append(
                ACCOUNTS_CHANNEL, account_news.REVOKED, account_news.revoked(user_id, ids, reason)
            )

    async def prune(self) -> int:
        """Forget refresh tokens long expired, and sign-ins left with none."""
        cutoff = now() - timedelta(days=1)
        async with self.store.write():
            return await self.users.prune(cutoff)
