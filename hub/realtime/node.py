"""The node: the realtime parts of one hub process.

It owns the broker connection, the fan-out and the registry of live sessions,
and it applies account news to those sessions. It knows sessions and metrics
only through the small Protocols below, so nothing here imports the web
layer (Centrifuge's node.go owns the parts; hub.go tracks the connections).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from hub import logs
from hub.realtime.account_news import ACCOUNTS_CHANNEL, REVOKED, ROLE_CHANGED, News
from hub.realtime.broker import Broker
from hub.realtime.channel_log import ChannelEvent
from hub.realtime.fanout import Fanout, Observer
from hub.settings import Settings
from hub.storage.store import Store

# Extra look-back of the safety net beyond the longest write transaction:
# the clocks of hub machines may disagree by this much.
CLOCK_SKEW = timedelta(seconds=5)


class LiveSession(Protocol):
    """What the node needs of a session to apply account news to it."""

    @property
    def user_id(self) -> str: ...

    @property
    def sign_in_id(self) -> str | None: ...

    @property
    def role(self) -> str:
        """The role the session was opened with."""
        ...

    def revoked(self, reason: str) -> None:
        """Its sign-in is revoked: tell the client and close with 4001."""
        ...

    def role_changed(self) -> None:
        """Its account's role changed: close with 4003."""
        ...


class NodeObserver(Observer, Protocol):
    def published(self, events: int) -> None: ...


class Sessions:
    """The live sessions of this process, by user."""

    def __init__(self) -> None:
        self.by_user: dict[str, set[LiveSession]] = {}

    def add(self, session: LiveSession) -> None:
        self.by_user.setdefault(session.user_id, set()).add(session)

    def discard(self, session: LiveSession) -> None:
        group = self.by_user.get(session.user_id)
        if group is not None:
            group.discard(session)
            if not group:
                self.by_user.pop(session.user_id, None)

    def count(self, user_id: str) -> int:
        return len(self.by_user.get(user_id, ()))

    def of(self, user_id: str) -> list[LiveSession]:
        return list(self.by_user.get(user_id, ()))

    def all(self) -> list[LiveSession]:
        return [s for group in self.by_user.values() for s in group]


class Node:
    def __init__(self, settings: Settings, store: Store, broker: Broker) -> None:
        self.settings = settings
        self.store = store
        self.broker = broker
        # The longest a write transaction may stay open, plus clock skew.
        lookback = timedelta(seconds=2 * settings.db_timeout_seconds) + CLOCK_SKEW
        self.fanout = Fanout(store, broker, settings.send_queue_size, lookback)
        self.sessions = Sessions()
        self.observer: NodeObserver | None = None
        self.broker.bind(self.fanout.on_message, self.fanout.catch_up_all)

    async def start(self) -> None:
        """Follow account news (subscribed before the broker connects), then connect."""
        await self.fanout.listen(ACCOUNTS_CHANNEL, self._on_account_news)
        await self.broker.start()

    async def stop(self) -> None:
        await self.fanout.stop()
        await self.broker.stop()

    def bind_observer(self, observer: NodeObserver) -> None:
        self.observer = observer
        self.fanout.observer = observer

    async def publish(self, events: list[ChannelEvent]) -> None:
        """Publish committed events. A failure costs latency only: the log has them."""
        if not events:
            return
        try:
            await self.broker.publish_all([(e.channel, e.to_json()) for e in events])
        except Exception as exc:
            channels = [e.channel for e in events]
            logs.event(
                "publish_failed", logging.WARNING, channels=channels, error=type(exc).__name__
            )
            return
        if self.observer is not None:
            self.observer.published(len(events))

    def _on_account_news(self, event: ChannelEvent) -> None:
        news = News.parse(event.event, event.data)
        for session in self.sessions.of(news.user_id):
            if news.kind == REVOKED and session.sign_in_id in news.sign_in_ids:
                session.revoked(news.reason)
            elif news.kind == ROLE_CHANGED and news.role != session.role:
                session.role_changed()
