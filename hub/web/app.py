"""The Starlette application and its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from hub import logs
from hub.domain.errors import HubError
from hub.service.runtime import Runtime
from hub.settings import Settings
from hub.web import docs, health, rest_auth, rest_booking, rest_feeds, rest_holds, rest_webhooks
from hub.web.http import http_error_handler, hub_error_handler, internal_error_handler
from hub.web.methods import MethodGuard
from hub.web.metrics import HttpMetrics, Metrics, metrics_endpoint
from hub.web.session import Session

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"


class SocketEndpoint:
    """Pure ASGI: ``/ws`` goes straight to a session, every other scope to the app."""

    def __init__(self, app: ASGIApp, runtime: Runtime, metrics: Metrics) -> None:
        self.app = app
        self.runtime = runtime
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/ws":
            await Session(self.runtime, self.metrics, scope, receive, send).run()
            return
        await self.app(scope, receive, send)


def create_app(settings: Settings, runtime: Runtime | None = None) -> Starlette:
    """Build the app; the lifespan opens and closes the runtime's backends."""
    hub = runtime or Runtime(settings)
    metrics = Metrics()
    metrics.bind(hub)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        logs.event(
            "hub_started",
            database="sqlite" if settings.is_embedded_db else "postgresql",
            broker="redis" if settings.redis_url else "memory",
        )
        try:
            yield
        finally:
            await hub.stop()
            logs.event("hub_stopped")

    api: list[BaseRoute] = [
        *health.routes,
        *rest_auth.routes,
        *rest_booking.routes,
        *rest_holds.routes,
        *rest_feeds.routes,
        *rest_webhooks.routes,
        *docs.routes,
        Route("/metrics", metrics_endpoint),
    ]
    routes = list(api)
    if STATIC_DIR.is_dir():
        routes.append(Mount("/", app=StaticFiles(directory=STATIC_DIR, html=True), name="static"))
    plain = [r for r in api if isinstance(r, Route)]
    middleware = [
        Middleware(SocketEndpoint, runtime=hub, metrics=metrics),
        Middleware(HttpMetrics, metrics=metrics, routes=plain),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        ),
        Middleware(MethodGuard, routes=plain),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            HubError: hub_error_handler,
            HTTPException: http_error_handler,
            Exception: internal_error_handler,
        },
    )
    app.state.runtime = hub
    app.state.metrics = metrics
    return app


def app_from_env() -> Starlette:
    """The app of one worker of ``hub serve --workers N``: settings from the environment."""
    settings = Settings.from_env()
    logs.setup(settings.log_json)
    return create_app(settings)
