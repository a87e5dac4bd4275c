"""One WebSocket session: the socket work of the protocol.

The reader loop takes one frame at a time, parses it (:mod:`hub.protocol`),
runs it and sends exactly one answer, so answers keep the order of
requests. Everything the session sends, answers and events alike, goes
through one :class:`~hub.web.outbox.Outbox`: sent at once while the socket
keeps up, queued (bounded) when it does not; a client too slow to drain the
queue is closed with 4008 and never slows anyone else down.

The session holds no rules: who it is (an account and a sign-in) is settled
at ``hello``, and what that account may do is decided by the services on
every request, from the account as it is now. Account news from any process
closes it: 4001 when its sign-in is revoked, 4003 when its role changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.types import Receive, Scope, Send

from hub import logs
from hub.domain.errors import (
    BadRequest,
    Forbidden,
    HubError,
    Internal,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from hub.domain.model import User
from hub.domain.times import format_time, now
from hub.realtime.frames import Frame
from hub.service.access import Identity
from hub.service.credentials import AccessClaims
from hub.tasks import spawn
from hub.web.outbox import Outbox
from hub.web.token_bucket import TokenBucket
from hub.web.ws_protocol import RAW_SOCKET
from hub.wire import operations
from hub.wire.protocol import (
    PROTOCOL_VERSION,
    CloseCode,
    FrameError,
    Request,
    encode_error,
    encode_ok,
    parse_frame,
    peek_id,
)

if TYPE_CHECKING:
    from hub.service.runtime import Runtime
    from hub.web.metrics import Metrics

# A client can provoke an unexpected error at will: log it, but not every time.
_internal_errors = logs.Limited("internal_error")


class SessionState(Enum):
    AWAITING_HELLO = "awaiting_hello"
    ACTIVE = "active"
    CLOSING = "closing"
    CLOSED = "closed"


_TRANSITIONS = {
    SessionState.AWAITING_HELLO: {SessionState.ACTIVE, SessionState.CLOSING},
    SessionState.ACTIVE: {SessionState.CLOSING},
    SessionState.CLOSING: {SessionState.CLOSED},
    SessionState.CLOSED: set(),
}


class IllegalTransition(RuntimeError):
    pass


class Session:
    # Thousands live in one process for hours: no per-instance dict.
    __slots__ = (
        "_expiry",
        "_handshake",
        "_open",
        "_peer_gone",
        "_receive",
        "_send",
        "_user",
        "bucket",
        "channels",
        "claims",
        "id",
        "identity",
        "metrics",
        "node",
        "outbox",
        "runtime",
        "settings",
        "state",
        "strikes",
    )

    def __init__(
        self, runtime: Runtime, metrics: Metrics, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self.runtime = runtime
        self.node = runtime.node
        self.metrics = metrics
        # Raw ASGI, not starlette.WebSocket: its wrappers cost three extra
        # coroutine layers on every frame, and fan-out sends thousands.
        self._receive = receive
        self._send = send
        # Only the handshake headers the session reads (the origin check, hello's bearer).
        self._handshake: dict[str, str] | None = {
            name: value.decode("latin-1")
            for key, value in scope.get("headers", [])
            if (name := key.decode("latin-1").lower()) in ("origin", "host", "authorization")
        }
        self.id = uuid.uuid4().hex
        self.state = SessionState.AWAITING_HELLO
        settings = runtime.settings
        self.settings = settings
        raw = scope.get("extensions", {}).get(RAW_SOCKET)
        self.outbox = Outbox(send, raw, settings.send_queue_size, self.overflow)
        self._open = True  # AWAITING_HELLO or ACTIVE: frames may still be sent
        self.bucket = TokenBucket(settings.rate_limit_per_second, settings.rate_limit_burst)
        self.strikes = 0
        self.claims: AccessClaims | None = None
        self.identity: Identity | None = None
        self._user: User | None = None
        self.channels: set[str] = set()
        # A timer, not a task per socket: a sleeping task costs a kilobyte for hours.
        self._expiry: asyncio.TimerHandle | None = None
        self._peer_gone = False

    @property
    def user(self) -> User:
        """The account as it was at hello (for projection and news; never for rules)."""
        assert self._user is not None, "no user before hello"
        return self._user

    @property
    def user_id(self) -> str:
        return self.user.id

    @property
    def sign_in_id(self) -> str | None:
        return None if self.identity is None else self.identity.sign_in_id

    @property
    def role(self) -> str:
        return self.user.role.value

    @property
    def sees_all(self) -> bool:
        return self.user.is_staff

    def revoked(self, reason: str) -> None:
        """Account news: this session's sign-in is revoked."""
        spawn(self.close_unauthorized(reason))

    def role_changed(self) -> None:
        """Account news: the role changed; the client says hello again and is seen anew."""
        if self.state is SessionState.ACTIVE:
            self.metrics.closes.labels("role_changed").inc()
            spawn(self.close(CloseCode.ROLE_CHANGED))

    def move(self, new: SessionState) -> None:
        if new not in _TRANSITIONS[self.state]:
            raise IllegalTransition(f"{self.state.value} -> {new.value}")
        self.state = new
        self._open = new in (SessionState.AWAITING_HELLO, SessionState.ACTIVE)

    # Outgoing

    def push(self, frame: Frame) -> bool:
        return self._open and self.outbox.push(frame)

    async def push_wait(self, frame: Frame) -> None:
        if self._open:
            await self.outbox.push_wait(frame)

    def say(self, text: str) -> bool:
        """Send this session's own frame (an answer, an error)."""
        return self.push(Frame(text))

    def overflow(self) -> None:
        """The client is too slow: close with 4008 now, without waiting for it."""
        if self.state is SessionState.ACTIVE:
            logs.event("slow_consumer_close", session=self.id, user=self.user.id)
            self.metrics.closes.labels("slow_consumer").inc()
            spawn(self.close(CloseCode.SLOW_CONSUMER, drain=False))

    async def close(self, code: int, drain: bool = True) -> None:
        """Close after queued frames (``drain``), or at once."""
        if self.state in (SessionState.CLOSING, SessionState.CLOSED):
            return
        self.move(SessionState.CLOSING)
        if drain:
            self.outbox.close_after(code)
            return
        self.outbox.abort()
        await self._send_close(code)

    async def close_unauthorized(self, message: str) -> None:
        """Tell the client why (an error with no id), then close with 4001."""
        self.say(encode_error(None, Unauthorized(message)))
        await self.close(CloseCode.UNAUTHORIZED)

    async def _send_close(self, code: int) -> None:
        # uvicorn waits for the transport to be writable even to close: bound it.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.settings.ws_ping_timeout):
                await self._send({"type": "websocket.close", "code": code})

    # Incoming

    async def run(self) -> None:
        if (await self._receive())["type"] != "websocket.connect":
            return
        if not self._origin_allowed():
            await self._send({"type": "websocket.close", "code": 1000})  # before accept: 403
            return
        await self._send({"type": "websocket.accept"})
        try:
            await self._read_loop()
        finally:
            await self._finish()

    async def _read_loop(self) -> None:
        deadline = time.monotonic() + self.settings.hello_timeout
        while self.state in (SessionState.AWAITING_HELLO, SessionState.ACTIVE):
            try:
                if self.state is SessionState.AWAITING_HELLO:
                    async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                        message = await self._receive()
                else:
                    message = await self._receive()
            except TimeoutError:
                await self.close(CloseCode.UNAUTHORIZED, drain=False)
                return
            if message["type"] == "websocket.disconnect":
                self._peer_gone = True
                return
            if message.get("bytes") is not None:
                await self.close(CloseCode.UNSUPPORTED_DATA, drain=False)
                return
            await self._handle(message.get("text") or "")

    async def _handle(self, text: str) -> None:
        wait = self.bucket.take()
        if wait:
            self.strikes += 1
            self.metrics.requests.labels("-", "rate_limited").inc()
            if self.strikes > self.settings.rate_limit_strikes:
                logs.event("rate_limit_close", session=self.id)
                self.metrics.closes.labels("rate_limited").inc()
                # Drain, so the client sees the rate_limited answers before the close.
                await self.close(CloseCode.RATE_LIMITED)
                return
            self.say(
                encode_error(
                    peek_id(text),
                    RateLimited("too many requests", retry_after_ms=max(1, int(wait * 1000))),
                )
            )
            return
        self.strikes = 0
        try:
            request = parse_frame(text)
        except FrameError as exc:
            if self.state is SessionState.AWAITING_HELLO:
                await self._refuse_before_hello(exc.request_id)
                return
            self.say(encode_error(exc.request_id, exc))
            return
        if self.state is SessionState.AWAITING_HELLO and request.type != "hello":
            await self._refuse_before_hello(request.id)
            return
        await self._answer(request)

    async def _refuse_before_hello(self, request_id: str | int | None) -> None:
        self.say(encode_error(request_id, Unauthorized("send hello first")))
        await self.close(CloseCode.UNAUTHORIZED)

    async def _answer(self, request: Request) -> None:
        try:
            data = await self._run(request)
        except HubError as exc:
            self.metrics.requests.labels(request.type, exc.code).inc()
            self.say(encode_error(request.id, exc))
            refused_hello = self.state is SessionState.AWAITING_HELLO
            if refused_hello and not isinstance(exc, Unavailable):
                limited = isinstance(exc, RateLimited)
                await self.close(CloseCode.RATE_LIMITED if limited else CloseCode.UNAUTHORIZED)
            elif (
                isinstance(exc, Unauthorized)
                and self.state is SessionState.ACTIVE
                and request.type != "auth.refresh"  # a bad new token leaves the session as it is
            ):
                # The services found this session's sign-in revoked or its account gone.
                await self.close(CloseCode.UNAUTHORIZED)
            return
        except Exception as exc:
            _internal_errors.event(type=request.type, error=repr(exc)[:300])
            self.metrics.requests.labels(request.type, "internal").inc()
            self.say(encode_error(request.id, Internal("internal error; nothing was applied")))
            return
        self.metrics.requests.labels(request.type, "ok").inc()
        if data is not None:
            self.say(encode_ok(request.id, data))

    async def _run(self, request: Request) -> dict[str, Any] | None:
        """Run one request; None when the handler queued its answer itself."""
        if request.type == "hello":
            if self.state is SessionState.ACTIVE:
                raise BadRequest("this session has already said hello", field="type")
            return await self._hello(request.data)
        if request.type == "auth.refresh":
            return await self._refresh(request.data)
        if request.type == "ping":
            return {"server_time": format_time(now())}
        if request.type == "subscribe":
            await self._subscribe(request)
            return None
        if request.type == "unsubscribe":
            channel = request.data["channel"]
            if channel not in self.channels:
                raise BadRequest("not subscribed to that channel", field="channel")
            self.channels.discard(channel)
            await self.node.fanout.unsubscribe(self, channel)
            return {}
        assert self.identity is not None
        return await operations.run(self.runtime, self.identity, request.type, request.data)

    async def _hello(self, data: dict[str, Any]) -> dict[str, Any]:
        headers = self._handshake or {}
        token = data.get("token") or _bearer(headers.get("authorization"))
        if not token:
            raise Unauthorized("hello needs a token")
        claims, identity, user = await self.runtime.accounts.authenticate(token)
        if self.node.sessions.count(user.id) >= self.settings.max_sockets_per_user:
            raise RateLimited("too many open sessions for this user", retry_after_ms=5000)
        self.claims, self.identity, self._user = claims, identity, user
        self.move(SessionState.ACTIVE)
        self._handshake = None  # read for the last time
        self.node.sessions.add(self)
        self._arm_expiry()
        return {
            "session_id": self.id,
            "user": {k: user.to_wire()[k] for k in ("id", "email", "full_name", "role")},
            "server_time": format_time(now()),
            "access_expires_at": _epoch_time(claims.expires_at),
            "protocol": PROTOCOL_VERSION,
        }

    async def _refresh(self, data: dict[str, Any]) -> dict[str, Any]:
        claims, identity, user = await self.runtime.accounts.authenticate(data["token"])
        if user.id != self.user.id:
            raise Forbidden("auth.refresh takes a token of the same user")
        if user.role is not self.user.role:
            self.role_changed()  # its subscriptions were projected for the old role
        self.claims, self.identity = claims, identity
        self._arm_expiry()
        return {"access_expires_at": _epoch_time(claims.expires_at)}

    async def _subscribe(self, request: Request) -> None:
        channel, since = request.data["channel"], request.data.get("since")
        assert self.identity is not None
        viewer = await self.runtime.reading.check_channel(self.identity, channel)
        if viewer.role is not self.user.role:
            self.role_changed()  # news on its way: never project for the old role
            raise Forbidden("the account's role has changed: reconnect and say hello again")
        if channel in self.channels:
            raise BadRequest("already subscribed to that channel", field="channel")
        if len(self.channels) >= self.settings.max_subscriptions:
            raise BadRequest(
                "too many subscriptions on this socket",
                field="channel",
                details={"limit": self.settings.max_subscriptions},
            )
        head = await self.node.fanout.subscribe(self, channel, since)
        self.channels.add(channel)
        self.say(encode_ok(request.id, {"channel": channel, "seq": head}))
        await self.node.fanout.replay(self, channel, head)

    def _arm_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        assert self.claims is not None
        loop = asyncio.get_running_loop()
        delay = max(0.0, self.claims.expires_at - time.time())
        self._expiry = loop.call_at(loop.time() + delay, self._expired)

    def _expired(self) -> None:
        spawn(self.close_unauthorized("the access token has expired"))

    def _origin_allowed(self) -> bool:
        headers = self._handshake or {}
        origin = headers.get("origin")
        if origin is None:
            return True  # non-browser clients send none
        origin = origin.rstrip("/")
        if origin in self.settings.allowed_origins:
            return True
        host = headers.get("host", "")
        return bool(host) and urlsplit(origin).netloc == host

    async def _finish(self) -> None:
        if self.state in (SessionState.AWAITING_HELLO, SessionState.ACTIVE):
            self.move(SessionState.CLOSING)
        if self._expiry is not None:
            self._expiry.cancel()
        if self._user is not None:
            self.node.sessions.discard(self)
        await self.node.fanout.drop(self, list(self.channels))
        if self._peer_gone:
            self.outbox.abort()  # nothing more can be sent
        with contextlib.suppress(TimeoutError):
            # Otherwise let it flush what is queued (e.g. the reason for a close).
            async with asyncio.timeout(self.settings.ws_ping_timeout):
                await self.outbox.flushed()
        self.move(SessionState.CLOSED)


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _epoch_time(epoch: float) -> str:
    return format_time(datetime.fromtimestamp(epoch, UTC))
