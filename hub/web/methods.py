"""405 with a true ``Allow`` on every API path.

The static files are mounted at ``/``, and a Starlette mount matches every
path it is asked about: a wrong method on an API path fell through to it
and answered 405 ``Allow: GET, HEAD``, and one path served by two routes
(``GET`` and ``PATCH /api/v1/users/me``) could only ever name one of them.
This pure-ASGI guard answers for the API itself: a path some route serves,
asked with a method none of them serves, gets 405 and every method that
path does serve.
"""

from __future__ import annotations

from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.domain.errors import HubError
from hub.web.http import error_response


class MethodNotAllowed(HubError):
    code = "bad_request"
    status = 405


class MethodGuard:
    def __init__(self, app: ASGIApp, routes: list[Route]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            allowed = self._allowed(scope["path"])
            if allowed and scope["method"] not in allowed:
                response = error_response(
                    MethodNotAllowed(f"{scope['method']} is not served on this path")
                )
                response.headers["Allow"] = ", ".join(sorted(allowed))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _allowed(self, path: str) -> set[str]:
        """Every method some route serves on ``path`` (GET brings HEAD)."""
        methods: set[str] = set()
        for route in self.routes:
            if route.path_regex.match(path):
                methods |= route.methods or {"GET", "HEAD"}
        return methods
