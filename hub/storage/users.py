"""The users, sign_ins and refresh_tokens tables: the only module that queries them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hub.domain.model import Role, User
from hub.domain.times import utc
from hub.storage.store import Sql, Store, lock_suffix, statement
from hub.storage.tables import Timestamp, refresh_tokens, sign_ins, users

_CURRENT = Sql(
    "SELECT u.id, u.email, u.full_name, u.role, u.is_active, u.created_at, s.revoked_at"
    " FROM users u JOIN sign_ins s ON s.user_id = u.id"
    " WHERE u.id = :user_id AND s.id = :sign_in_id",
    columns={
        "id": sa.String,
        "email": sa.String,
        "full_name": sa.String,
        "role": sa.String,
        "is_active": sa.Boolean,
        "created_at": Timestamp,
        "revoked_at": Timestamp,
    },
)

# The conditional UPDATE is the arbiter: of two concurrent claims, one returns a row.
_CLAIM = statement(
    "UPDATE refresh_tokens SET used_at = :stamp WHERE digest = :digest AND used_at IS NULL"
    " RETURNING sign_in_id",
    stamp=Timestamp,
)


def user_from_row(row: Any) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        full_name=row["full_name"],
        role=Role(row["role"]),
        is_active=bool(row["is_active"]),
        created_at=utc(row["created_at"]),
    )


@dataclass(frozen=True)
class Credentials:
    """A user and the stored hash of their password (sign-in only)."""

    user: User
    password_hash: str


@dataclass(frozen=True)
class SignedIn:
    """A user as they are now, and whether the sign-in they act through is revoked."""

    user: User
    revoked: bool


@dataclass(frozen=True)
class RefreshClaim:
    """What claiming a refresh token found: ``fresh`` only for the first claim."""

    sign_in_id: str
    user_id: str
    fresh: bool
    expired: bool
    revoked: bool


class Users:
    def __init__(self, store: Store) -> None:
        self.store = store

    # Users

    async def get(self, user_id: str) -> User | None:
        row = await self.store.fetch_one(users.select().where(users.c.id == user_id))
        return None if row is None else user_from_row(row)

    async def credentials(self, email: str) -> Credentials | None:
        row = await self.store.fetch_one(
            users.select().where(sa.func.lower(users.c.email) == email.lower())
        )
        return None if row is None else Credentials(user_from_row(row), row["password_hash"])

    async def insert(self, user: User, password_hash: str) -> None:
        """Raises :class:`~hub.storage.store.Duplicate` when the email is taken."""
        await self.store.execute(
            users.insert().values(
                id=user.id,
                email=user.email,
                full_name=user.full_name,
                password_hash=password_hash,
                role=user.role.value,
                is_active=user.is_active,
                created_at=user.created_at,
                updated_at=user.created_at,
            )
        )

    async def update(self, user_id: str, stamp: datetime, **values: Any) -> None:
        if "role" in values:
            values["role"] = Role(values["role"]).value
        await self.store.execute(
            users.update().where(users.c.id == user_id).values(updated_at=stamp, **values)
        )

    async def search(self, query: str | None, limit: int = 200) -> list[User]:
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

    async def count(self) -> int:
        return int(await self.store.fetch_val(sa.select(sa.func.count()).select_from(users)))

    async def lock_active_admins(self) -> list[str]:
        """Ids of the active admins, locked until the transaction ends (last-admin rule)."""
        sql = "SELECT id FROM users WHERE role = 'admin' AND is_active" + lock_suffix(self.store)
        rows = await self.store.fetch_all(statement(sql))
        return [r["id"] for r in rows]

    # Sign-ins

    async def add_sign_in(self, sign_in_id: str, user_id: str, stamp: datetime) -> None:
        await self.store.execute(
            sign_ins.insert().values(id=sign_in_id, user_id=user_id, created_at=stamp)
        )

    async def signed_in(self, user_id: str, sign_in_id: str) -> SignedIn | None:
        """The user now, and their sign-in's state, in one round trip."""
        row = await self.store.row(_CURRENT, user_id=user_id, sign_in_id=sign_in_id)
        if row is None:
            return None
        return SignedIn(user_from_row(row), row["revoked_at"] is not None)

    async def revoke_sign_ins(
        self, user_id: str, stamp: datetime, only: str | None = None, sparing: str | None = None
    ) -> list[str]:
        """Revoke the user's live sign-ins (``only`` one, or all but ``sparing``); their ids."""
        live = sa.select(sign_ins.c.id).where(
            sign_ins.c.user_id == user_id, sign_ins.c.revoked_at.is_(None)
        )
        if only is not None:
            live = live.where(sign_ins.c.id == only)
        if sparing is not None:
            live = live.where(sign_ins.c.id != sparing)
        ids = [r["id"] for r in await self.store.fetch_all(live)]
        if ids:
            await self.store.execute(
                sign_ins.update().where(sign_ins.c.id.in_(ids)).values(revoked_at=stamp)
            )
        return ids

    # Refresh tokens

    async def add_refresh(self, digest: str, sign_in_id: str, expires_at: datetime) -> None:
        await self.store.execute(
            refresh_tokens.insert().values(
                digest=digest, sign_in_id=sign_in_id, expires_at=expires_at
            )
        )

    async def claim_refresh(self, digest: str, stamp: datetime) -> RefreshClaim | None:
        """Mark a refresh token used; of two concurrent claims exactly one is ``fresh``."""
        claimed = await self.store.fetch_val(_CLAIM.bindparams(digest=digest, stamp=stamp))
        row = await self.store.fetch_one(
            sa.select(
                refresh_tokens.c.sign_in_id,
                refresh_tokens.c.expires_at,
                refresh_tokens.c.used_at,
                sign_ins.c.user_id,
                sign_ins.c.revoked_at,
            )
            .select_from(refresh_tokens.join(sign_ins))
            .where(refresh_tokens.c.digest == digest)
        )
        if row is None:
            return None
        return RefreshClaim(
            sign_in_id=row["sign_in_id"],
            user_id=row["user_id"],
            fresh=claimed is not None,
            expired=utc(row["expires_at"]) <= stamp,
            revoked=row["revoked_at"] is not None,
        )

    async def prune(self, cutoff: datetime) -> int:
        """Forget refresh tokens that expired before ``cutoff``, and sign-ins left with none."""
        expired = refresh_tokens.c.expires_at < cutoff
        count = await self.store.fetch_val(
            sa.select(sa.func.count()).select_from(refresh_tokens).where(expired)
        )
        await self.store.execute(refresh_tokens.delete().where(expired))
        orphans = ~sa.exists().where(refresh_tokens.c.sign_in_id == sign_ins.c.id)
        await self.store.execute(sign_ins.delete().where(orphans, sign_ins.c.created_at < cutoff))
        return int(count or 0)
