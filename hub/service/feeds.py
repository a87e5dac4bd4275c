"""Calendar feeds: secret, revocable URLs that calendar apps subscribe to.

Staff and admins may make a feed of a calendar (its appointments as staff
see them, and its time off); anyone a feed of their own appointments. The
URL's token is shown once, at creation; only its digest is kept.

Reading a feed needs no sign-in, so the token stands for its owner: each
read decides from the owner's account as it is now, in the same snapshot
as the appointments. From the commit that deactivates the owner, or takes
a calendar feed's owner out of staff, the feed is ``not_found`` (a deleted
feed too). Rendering is the transport's (:mod:`hub.wire.ical`).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from hub.domain.errors import NotFound, Unauthorized
from hub.domain.model import Appointment
from hub.domain.times import now
from hub.service.access import Identity, current, require_staff
from hub.settings import Settings
from hub.storage.appointments import Appointments
from hub.storage.calendars import Calendars
from hub.storage.feeds import Feed, Feeds
from hub.storage.store import Store
from hub.storage.users import Users

PAST = timedelta(days=30)
AHEAD = timedelta(days=365)
FEED_PATH = "/feeds/{token}.ics"


@dataclass(frozen=True)
class NewFeed:
    feed: Feed
    url: str  # holds the secret: shown this once


@dataclass(frozen=True)
class FeedContents:
    """What a feed shows now: its name, the host for UIDs, and the appointments."""

    name: str
    host: str
    appointments: list[Appointment]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class FeedService:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.feeds = Feeds(store)
        self.users = Users(store)
        self.calendars = Calendars(store)
        self.appointments = Appointments(store)

    async def create(
        self, identity: Identity, calendar_id: str | None, request_base: str
    ) -> NewFeed:
        """A feed of a calendar (staff) or of the caller's own appointments.

        ``request_base`` (scheme and host the request came to) makes the URL
        when ``HUB_PUBLIC_URL`` is not set.
        """
        base = (self.settings.public_url or request_base).rstrip("/")
        token = secrets.token_urlsafe(32)
        async with self.store.write():
            owner = await current(self.users, identity)
            if calendar_id is not None:
                require_staff(owner)
                if await self.calendars.get(calendar_id) is None:
                    raise NotFound("no such calendar", {"field": "calendar_id"})
            feed = Feed(
                id=str(uuid.uuid4()),
                owner_id=owner.id,
                calendar_id=calendar_id,
                host=urlsplit(base).hostname or "localhost",
                created_at=now(),
            )
            await self.feeds.insert(feed, token_digest(token))
        return NewFeed(feed, base + FEED_PATH.format(token=token))

    async def owned(self, identity: Identity) -> list[Feed]:
        owner = await current(self.users, identity)
        return await self.feeds.of_owner(owner.id)

    async def delete(self, identity: Identity, feed_id: str) -> None:
        """Revoke a feed: its URL answers ``not_found`` from this commit on."""
        async with self.store.write():
            owner = await current(self.users, identity)
            if not await self.feeds.delete(feed_id, owner.id):
                raise NotFound("no such feed", {"feed_id": feed_id})

    async def contents(self, token: str) -> FeedContents:
        """The feed behind a URL token, as its owner may see it now.

        Raises:
            NotFound: no such feed (or revoked), its owner is deactivated, or
                a calendar feed's owner is no longer staff.
        """
        gone = NotFound("no such feed")
        async with self.store.read():
            feed = await self.feeds.by_digest(token_digest(token))
            if feed is None:
                raise gone
            try:
                owner = await current(self.users, Identity(feed.owner_id, None))
            except Unauthorized:
                raise gone from None
            start, end = now() - PAST, now() + AHEAD
            if feed.calendar_id is None:
                shown = await self.appointments.of_client(owner.id, start, end)
                return FeedContents(f"{owner.full_name}: appointments", feed.host, shown)
            calendar = await self.calendars.get(feed.calendar_id)
            if not owner.is_staff or calendar is None:
                raise gone
            shown = await self.appointments.of_calendar(calendar.id, start, end)
            return FeedContents(calendar.name, feed.host, shown)
