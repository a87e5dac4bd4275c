"""Schemathesis against /openapi.json on a live hub: no 500, every answer as documented.

The REST surface is the same whatever the backend, so it runs once, on the
production kind (PostgreSQL + Redis): a private ``hub serve`` on a fresh
database with its own Redis prefix and no per-address login throttle, so
that the fuzzed sign-ins neither lock anyone out nor get locked out. The
number of examples is bounded to keep the run near a minute.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_admin, make_calendar, services_env, sign_in
from tests.servers import ROOT, HubServer
from tests.wsclient import session

HOOKS = ROOT / "tests" / "schemathesis_hooks.py"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
MAX_EXAMPLES = 15


def run_schemathesis(url: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI, run in ``cwd`` so that its crash cache stays out of the work tree."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--workers",
        "1",
    ]
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.services
async def test_rest_surface_matches_openapi_under_schemathesis(tmp_path: Path) -> None:
    """Generated requests to every REST route: no 500, only documented statuses and bodies."""
    async with services_env() as base:
        env = {**base, "HUB_LOGIN_MAX_FAILURES_PER_IP": "1000000"}
        server = HubServer(env)
        await asyncio.to_thread(server.start)
        try:
            admin = await make_admin(server, env)
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
                writer = await session(server.ws_url, admin.access_token)
                calendar = await make_calendar(writer)
                await writer.close()
                fresh_admin = await sign_in(api, admin)
            st_env = {
                **os.environ,
                "SCHEMATHESIS_HOOKS": str(HOOKS),
                "HUB_ST_URL": server.url,
                "HUB_ST_ADMIN_TOKEN": fresh_admin.access_token,
                "HUB_ST_CALENDAR_ID": calendar["id"],
                "NO_COLOR": "1",
            }
            result = await asyncio.to_thread(run_schemathesis, server.url, st_env, tmp_path)
        finally:
            await asyncio.to_thread(server.stop)
    report = result.stdout[-12000:] + result.stderr[-3000:]
    assert result.returncode == 0, f"schemathesis failed:\n{report}\nhub log:\n{server.log()}"
