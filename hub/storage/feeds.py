"""The feeds table: the only module that queries it.

A feed's URL carries a secret token; only its SHA-256 digest is stored, so a
copy of the database does not give the URLs away (as for refresh tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.domain.times import utc
from hub.storage.store import Store
from hub.storage.tables import feeds


@dataclass(frozen=True)
class Feed:
    """A calendar feed (``calendar_id``) or a person's own feed (None)."""

    id: str
    owner_id: str
    calendar_id: str | None
    host: str
    created_at: datetime


def feed_from_row(row: Any) -> Feed:
    return Feed(
        id=row["id"],
        owner_id=row["owner_id"],
        calendar_id=row["calendar_id"],
        host=row["host"],
        created_at=utc(row["created_at"]),
    )


class Feeds:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def insert(self, feed: Feed, digest: str) -> None:
        await self.store.execute(
            feeds.insert().values(
                id=feed.id,
                owner_id=feed.owner_id,
                calendar_id=feed.calendar_id,
                digest=digest,
                host=feed.host,
                created_at=feed.created_at,
            )
        )

    async def by_digest(self, digest: str) -> Feed | None:
        row = await self.store.fetch_one(feeds.select().where(feeds.c.digest == digest))
        return None if row is None else feed_from_row(row)

    async def of_owner(self, owner_id: str) -> list[Feed]:
        query = (
            feeds.select()
            .where(feeds.c.owner_id == owner_id)
            .order_by(feeds.c.created_at, feeds.c.id)
        )
        return [feed_from_row(r) for r in await self.store.fetch_all(query)]

    async def delete(self, feed_id: str, owner_id: str) -> bool:
        """Delete one of the owner's feeds; False when they have none with that id."""
        mine = (feeds.c.id == feed_id) & (feeds.c.owner_id == owner_id)
        found = await self.store.fetch_val(feeds.select().with_only_columns(feeds.c.id).where(mine))
        if found is None:
            return False
        await self.store.execute(feeds.delete().where(mine))
        return True
