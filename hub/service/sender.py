"""One delivery attempt: the body, its Standard Webhooks signature, a guarded POST.

The body is ``{"type", "timestamp", "data": {"channel", "seq", "appointment"
| the event's own fields}}`` (PROTOCOL.md, Webhooks). Headers follow the
Standard Webhooks specification: ``webhook-id`` (derived from the webhook,
channel and seq, so every retry of an event carries the same one),
``webhook-timestamp`` (this attempt, in Unix seconds) and
``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``
under the key that ``whsec_`` + base64 encodes).

Every attempt resolves and checks the URL again (:mod:`hub.service.ssrf`)
and may connect only to the addresses it checked: the shared client's
connection pool uses :class:`PinnedBackend`, which takes them from a context
variable the attempt sets, while the URL keeps its host name, so the
``Host`` header, SNI and certificate checks name the real host. A kept-alive
connection is reused only for the same host, and was checked when opened.
Redirects are not followed (a 3xx is a failure), the answer's body is read
to :data:`MAX_ANSWER_BYTES` at most, and the whole attempt, name resolution
included, has ``HUB_WEBHOOK_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass

import httpcore
import httpx

from hub.realtime.channel_log import ChannelEvent
from hub.service import ssrf
from hub.settings import Settings
from hub.storage.webhooks import Webhook

SECRET_PREFIX = "whsec_"
MAX_ANSWER_BYTES = 4096
USER_AGENT = "hub-webhooks/1"
# Fixed, so that webhook-id is the same for an event on every process, forever.
_MESSAGE_IDS = uuid.UUID("6f2b9a1e-58c4-4d3a-9f0e-3c7d2b1a8e54")
# The addresses the current attempt checked, by host (see PinnedBackend).
_pinned: ContextVar[Mapping[str, tuple[str, ...]]] = ContextVar("webhook_pinned_addresses")


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: ``ok`` for a 2xx; else the status or the error."""

    ok: bool
    status_code: int | None = None
    error: str | None = None


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def message_id(webhook_id: str, channel: str, seq: int) -> str:
    """The ``webhook-id`` of one event for one webhook: the same on every attempt."""
    return "msg_" + uuid.uuid5(_MESSAGE_IDS, f"{webhook_id}/{channel}/{seq}").hex


def body_of(event: ChannelEvent) -> bytes:
    """The JSON body: an appointment under ``data.appointment``, other events' fields inline."""
    if event.event.startswith("appointment."):
        data = {"channel": event.channel, "seq": event.seq, "appointment": event.data}
    else:
        data = {**event.data, "channel": event.channel, "seq": event.seq}
    body = {"type": event.event, "timestamp": event.at, "data": data}
    return json.dumps(body, separators=(",", ":")).encode()


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to the addresses the current attempt checked."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = _pinned.get({}).get(host, ())
        if not addresses:
            raise httpcore.ConnectError(f"{host} was not checked by this attempt")
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks never use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, on a connection pool that uses :class:`PinnedBackend`."""

    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx takes no network backend argument: same pool settings, our backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(),
        )


class Sender:
    """Makes attempts through one shared client (one connection pool per process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        limits = httpx.Limits(
            max_connections=self.settings.webhook_concurrency,
            max_keepalive_connections=self.settings.webhook_concurrency,
            keepalive_expiry=5.0,
        )
        self._client = httpx.AsyncClient(
            transport=PinnedTransport(limits),
            timeout=self.settings.webhook_timeout_seconds,
            follow_redirects=False,
            trust_env=False,
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def attempt(self, hook: Webhook, event: ChannelEvent) -> Outcome:
        """POST ``event`` to ``hook``; never raises but for cancellation."""
        seconds = self.settings.webhook_timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                target = await ssrf.resolve(hook.url, self.settings.webhook_allow_private, seconds)
                pinned = _pinned.set({target.host: target.addresses})
                try:
                    status = await self._post(hook, event)
                finally:
                    _pinned.reset(pinned)
        except ssrf.Refused as exc:
            return Outcome(False, error=f"refused: {exc}")
        except TimeoutError:
            return Outcome(False, error=f"no answer within {seconds:g} s")
        except httpx.HTTPError as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
        return Outcome(200 <= status < 300, status_code=status)

    async def _post(self, hook: Webhook, event: ChannelEvent) -> int:
        assert self._client is not None, "Sender.start() first"
        body = body_of(event)
        msg_id = message_id(hook.id, event.channel, event.seq)
        stamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": stamp,
            "webhook-signature": sign(hook.secret, msg_id, stamp, body),
        }
        async with self._client.stream("POST", hook.url, content=body, headers=headers) as answer:
            read = 0
            async for chunk in answer.aiter_raw():
                read += len(chunk)
                if read >= MAX_ANSWER_BYTES:
                    break
            return answer.status_code
