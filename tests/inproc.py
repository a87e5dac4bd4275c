"""A real hub served in the test's own process, on a port the kernel picks.

Like websockets' own tests (serve on port 0, connect a real client), the
shared cases talk to a real uvicorn server over real sockets, without paying
for a subprocess start per server. Subprocess servers (tests/servers.py)
stay for what needs a process: the command line, signals, several processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import tempfile
from collections.abc import Mapping
from pathlib import Path

import uvicorn

from hub.service.runtime import Runtime
from hub.settings import Settings
from hub.storage.migrate import upgrade
from hub.web.app import create_app
from hub.web.ws_protocol import DrainingWebSocketsSansIOProtocol
from tests.servers import hub_env


class InProcessHub:
    """``hub serve``'s app and server settings, in this event loop."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.settings = Settings.from_env(hub_env(self.env))
        self.runtime = Runtime(self.settings)
        self.port = 0
        self.log_path = Path(tempfile.mkstemp(prefix="hub-inproc-", suffix=".log")[1])
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._handler: logging.Handler | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> InProcessHub:
        await asyncio.to_thread(upgrade, self.settings.database_url)
        self._capture_logs()
        settings = self.settings
        config = uvicorn.Config(
            create_app(settings, self.runtime),
            ws=DrainingWebSocketsSansIOProtocol,
            ws_max_size=settings.ws_max_bytes,
            ws_ping_interval=settings.ws_ping_interval,
            ws_ping_timeout=settings.ws_ping_timeout,
            ws_per_message_deflate=settings.ws_per_message_deflate,
            proxy_headers=False,
            lifespan="on",
            log_level="warning",
            access_log=False,
        )
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 30)
        if self._handler is not None:
            logging.getLogger("hub").removeHandler(self._handler)
            self._handler.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def _capture_logs(self) -> None:
        """The hub's log lines go to a file, as a subprocess's stderr would."""
        self._handler = logging.FileHandler(self.log_path)
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        logger = logging.getLogger("hub")
        logger.addHandler(self._handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
