"""hub serve --workers N: every core on one port, one Redis, and a clean SIGTERM."""

from __future__ import annotations

import asyncio
import re
import subprocess

import pytest

from tests.conftest import make_admin, make_calendar, services_env
from tests.servers import HubServer, run_hub
from tests.test_booking import booking
from tests.wsclient import HubClient, session


def owners_of_connections(port: int) -> set[int]:
    """The pids of the processes holding established connections on the hub's port."""
    listing = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {int(pid) for pid in re.findall(r"pid=(\d+)", listing)}


@pytest.mark.services
async def test_workers_share_the_port_and_deliver_across_processes() -> None:
    """Two workers accept sockets; a booking on any reaches all; SIGTERM closes all with 1012."""
    async with services_env() as env:
        server = HubServer(env, args=("--workers", "2"))
        await asyncio.to_thread(server.start)
        try:
            admin = await make_admin(server, env)
            writer = await session(server.ws_url, admin.access_token)
            calendar = await make_calendar(writer)
            channel = f"calendar:{calendar['id']}"
            watchers: list[HubClient] = []
            for _ in range(16):
                watcher = await session(server.ws_url, admin.access_token)
                await watcher.ok("subscribe", {"channel": channel})
                watchers.append(watcher)
            assert server.process is not None
            workers = owners_of_connections(server.port) - {server.process.pid}
            assert len(workers) == 2, workers
            await writer.ok("appointment.create", booking(calendar, 9, 10))
            for watcher in watchers:
                assert (await watcher.next_event())["seq"] == 1
            code = await asyncio.to_thread(server.stop)
            assert code == 0
            closes = await asyncio.gather(*(w.closed_with() for w in [writer, *watchers]))
            assert set(closes) == {1012}
        finally:
            await asyncio.to_thread(server.stop)


def test_the_embedded_mode_refuses_more_than_one_worker(tmp_path: object) -> None:
    """One line, status 1: SQLite and the in-process broker serve one process."""
    result = run_hub(
        ["serve", "--workers", "2", "--port", "0"], {"DATABASE_URL": f"sqlite:///{tmp_path}/h.db"}
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "--workers above 1 needs PostgreSQL" in result.stderr
