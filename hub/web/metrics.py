"""Prometheus metrics, scraped at ``/metrics``.

Counting stays off the per-socket path: live figures (sockets, sessions by
role, subscriptions, deliveries) are read from the node's own state when
scraped, and fan-out records one latency sample per event, not per socket.
Access: from the networks in ``HUB_METRICS_ALLOW`` (default loopback only)
or with ``Authorization: Bearer $HUB_METRICS_TOKEN``.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.domain.errors import Forbidden
from hub.web.http import error_response, runtime_of

if TYPE_CHECKING:
    from hub.service.runtime import Runtime

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The instruments of one hub process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "hub_ws_requests",
            "Socket requests by type and outcome (ok or error code)",
            ["type", "outcome"],
            registry=r,
        )
        self.events_published = Counter(
            "hub_events_published", "Events published to the broker after commit", registry=r
        )
        self.delivery_latency = Histogram(
            "hub_delivery_latency_seconds",
            "Commit to hand-off to the local sockets, one sample per event",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.catch_ups = Histogram(
            "hub_catch_up_events",
            "Events read from the channel log per catch-up",
            buckets=(1, 2, 5, 10, 50, 100, 500, 1000),
            registry=r,
        )
        self.closes = Counter(
            "hub_socket_closes", "Sockets closed by the hub, by reason", ["reason"], registry=r
        )
        self.db_seconds = Histogram(
            "hub_db_query_seconds", "Database round trips", buckets=LATENCY_BUCKETS, registry=r
        )
        self.redis_seconds = Histogram(
            "hub_redis_ping_seconds",
            "Redis round trips (periodic ping)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.http = Counter(
            "hub_http_requests",
            "REST requests by route and status",
            ["method", "route", "status"],
            registry=r,
        )

    def bind(self, runtime: Runtime) -> None:
        """Observe the runtime's parts, and read live figures from its node when scraped."""
        self.registry.register(_LiveCollector(runtime))
        runtime.node.bind_observer(self)
        runtime.observer = self
        runtime.store.observe = self.db_seconds.observe

    # What the realtime layer and the runtime report (their Observer protocols).

    def delivered(self, latency_seconds: float) -> None:
        self.delivery_latency.observe(latency_seconds)

    def caught_up(self, events: int) -> None:
        self.catch_ups.observe(events)

    def published(self, events: int) -> None:
        self.events_published.inc(events)

    def redis_round_trip(self, seconds: float) -> None:
        self.redis_seconds.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _LiveCollector:
    def __init__(self, runtime: Runtime) -> None:
        self.node = runtime.node

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        sessions = self.node.sessions.all()
        yield GaugeMetricFamily(
            "hub_open_sockets", "Authenticated sockets on this process", value=len(sessions)
        )
        by_role = GaugeMetricFamily("hub_sessions", "Sessions by role", labels=["role"])
        for role in ("user", "staff", "admin"):
            by_role.add_metric([role], sum(1 for s in sessions if s.role == role))
        yield by_role
        channels = self.node.fanout.channels.values()
        yield GaugeMetricFamily(
            "hub_subscriptions",
            "Subscriptions on this process",
            value=sum(len(c.subs) for c in channels),
        )
        yield GaugeMetricFamily(
            "hub_local_channels",
            "Channels with local subscribers",
            value=len(self.node.fanout.channels),
        )
        yield CounterMetricFamily(
            "hub_events_delivered",
            "Frames handed to local sockets",
            value=self.node.fanout.delivered_count,
        )
        yield GaugeMetricFamily(
            "hub_broker_up",
            "1 when the broker is connected",
            value=1 if self.node.broker.is_up else 0,
        )


class HttpMetrics:
    """Pure ASGI: count REST requests by route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[Route]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.metrics.http.labels(scope["method"], self._route(scope), str(status)).inc()

    def _route(self, scope: Scope) -> str:
        for route in self.routes:
            if route.matches(scope)[0] is Match.FULL:
                return route.path
        return "other"  # static files and unknown paths: one label, bounded cardinality


def allowed(request: Request, token: str, networks: tuple[str, ...]) -> bool:
    header = request.headers.get("authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


async def metrics_endpoint(request: Request) -> Response:
    settings = runtime_of(request).settings
    if not allowed(request, settings.metrics_token, settings.metrics_allow):
        return error_response(Forbidden("metrics are not open to this address"))
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
