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
from hub.realtime.node import Node
from hub.settings import Settings
from hub.web import docs, health, rest_auth, rest_booking
from hub.web.http import http_error_handler, hub_error_handler, internal_error_handler
from hub.web.metrics import HttpMetrics, metrics_endpoint
from hub.web.session import Session

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"


class SocketEndpoint:
    """Pure ASGI: ``/ws`` goes straight to a session, every other scope to the app."""

    def __init__(self, app: ASGIApp, node: Node) -> None:
        self.app = app
        self.node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/ws":
            await Session(self.node, scope, receive, send).run()
            return
        await self.app(scope, receive, send)


def create_app(settings: Settings, node: Node | None = None) -> Starlette:
    """Build the app; the lifespan opens and closes the node's backends."""
    the_node = node or Node(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await the_node.start()
        logs.event(
            "hub_started",
            database="sqlite" if settings.is_embedded_db else "postgresql",
            broker="redis" if settings.redis_url else "memory",
        )
        try:
            yield
        finally:
            await the_node.stop()
            logs.event("hub_stopped")

    routes: list[BaseRoute] = [
        *health.routes,
        *rest_auth.routes,
        *rest_booking.routes,
        *docs.routes,
        Route("/metrics", metrics_endpoint),
    ]
    if STATIC_DIR.is_dir():
        routes.append(Mount("/", app=StaticFiles(directory=STATIC_DIR, html=True), name="static"))
    middleware = [
        Middleware(SocketEndpoint, node=the_node),
        Middleware(
            HttpMetrics,
            metrics=the_node.metrics,
            routes=[r for r in routes if isinstance(r, Route)],
        ),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        ),
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
    app.state.node = the_node
    return app
