"""Webhooks, admin only: create, list, delete, the delivery log, retry now.

Each use case decides from the account as it is now; a webhook belongs to
the admin who made it, and anyone else asking for it gets ``not_found``.
Creation checks the URL (:mod:`hub.service.ssrf`) and starts the webhook's
cursor on every calendar channel it follows at that channel's head, inside
the transaction that makes it: every event committed after the webhook's
creation is delivered, none from before. Delivering is
:mod:`hub.service.deliveries`' work.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from hub.domain.errors import BadRequest, NotFound
from hub.domain.model import User, calendar_channel
from hub.domain.times import now
from hub.realtime import channel_log
from hub.service import ssrf
from hub.service.access import Identity, current, require_admin
from hub.service.sender import new_secret
from hub.settings import Settings
from hub.storage.calendars import Calendars
from hub.storage.store import Store
from hub.storage.users import Users
from hub.storage.webhooks import Delivery, Webhook, Webhooks

RESOLVE_TIMEOUT_SECONDS = 5.0


class Waker(Protocol):
    def wake(self) -> None:
        """Look for work now (this process made or retried a webhook)."""
        ...


class WebhookService:
    def __init__(self, settings: Settings, store: Store, worker: Waker) -> None:
        self.settings = settings
        self.store = store
        self.worker = worker
        self.hooks = Webhooks(store)
        self.users = Users(store)
        self.calendars = Calendars(store)

    async def create(
        self,
        identity: Identity,
        url: str,
        events: tuple[str, ...] | None,
        calendar_id: str | None,
    ) -> Webhook:
        """A new webhook, enabled; its ``secret`` is shown to the caller this once."""
        require_admin(await current(self.users, identity))
        try:  # resolving may take seconds: not inside the transaction
            await ssrf.resolve(url, self.settings.webhook_allow_private, RESOLVE_TIMEOUT_SECONDS)
        except ssrf.Refused as exc:
            raise BadRequest(f"url: {exc}", field="url") from None
        async with self.store.write():
            actor = await self._admin(identity)
            if calendar_id is None:
                channels = [calendar_channel(c.id) for c in await self.calendars.all(False)]
            elif await self.calendars.get(calendar_id) is None:
                raise NotFound("no such calendar", {"field": "calendar_id"})
            else:
                channels = [calendar_channel(calendar_id)]
            hook = Webhook(
                id=str(uuid.uuid4()),
                owner_id=actor.id,
                url=url.strip(),
                events=events,
                calendar_id=calendar_id,
                secret=new_secret(),
                enabled=True,
                created_at=now(),
            )
            await self.hooks.insert(hook)
            # A channel left out (no event yet, or a calendar made later) starts at 0.
            heads = await channel_log.heads(self.store, channels) if channels else {}
            await self.hooks.add_streams(hook.id, {c: h for c, h in heads.items() if h}, None)
        self.worker.wake()
        return hook

    async def owned(self, identity: Identity) -> list[Webhook]:
        actor = await self._admin(identity)
        return await self.hooks.of_owner(actor.id)

    async def delete(self, identity: Identity, webhook_id: str) -> None:
        async with self.store.write():
            await self._mine(await self._admin(identity), webhook_id)
            await self.hooks.delete(webhook_id)

    async def deliveries(self, identity: Identity, webhook_id: str, limit: int) -> list[Delivery]:
        """The latest attempted events, the most recently attempted first."""
        await self._mine(await self._admin(identity), webhook_id)
        return await self.hooks.latest(webhook_id, limit)

    async def retry(self, identity: Identity, webhook_id: str) -> Webhook:
        """Attempt every undelivered event now, with a fresh retry window; re-enables."""
        async with self.store.write():
            hook = await self._mine(await self._admin(identity), webhook_id)
            await self.hooks.set_enabled(hook.id, True)
            await self.hooks.retry(hook.id, now())
        self.worker.wake()
        return await self._mine(await self._admin(identity), webhook_id)

    async def _admin(self, identity: Identity) -> User:
        actor = await current(self.users, identity)
        require_admin(actor)
        return actor

    async def _mine(self, actor: User, webhook_id: str) -> Webhook:
        hook = await self.hooks.get(webhook_id)
        if hook is None or hook.owner_id != actor.id:
            raise NotFound("no such webhook", {"webhook_id": webhook_id})
        return hook
