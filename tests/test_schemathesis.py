"""Schemathesis against /openapi.json on a live hub: no 500, every answer as documented.

The run uses a private ``hub serve`` on the backend's database with its own
Redis prefix and no per-address login throttle, so that the fuzzed sign-ins
neither lock the shared server out nor get locked out themselves. The number
of examples is bounded to keep the run within about half a minute per backend.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import SHARED_SERVER_ENV, Account, Backend, clear_redis_prefix, sign_in
from tests.servers import ROOT, HubServer

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


async def test_rest_surface_matches_openapi_under_schemathesis(
    backend: Backend,
    api: httpx.AsyncClient,
    admin: Account,
    calendar: dict[str, Any],
    tmp_path: Path,
) -> None:
    """Generated requests to every REST route: no 500, only documented statuses and bodies."""
    prefix = f"hubtest:{uuid.uuid4().hex[:8]}:"
    server = HubServer(
        {
            **backend.env,
            **SHARED_SERVER_ENV,
            "HUB_REDIS_PREFIX": prefix,
            "HUB_LOGIN_MAX_FAILURES_PER_IP": "1000000",
        }
    )
    fresh_admin = await sign_in(api, admin)
    await asyncio.to_thread(server.start)
    try:
        env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": str(HOOKS),
            "HUB_ST_URL": server.url,
            "HUB_ST_ADMIN_TOKEN": fresh_admin.access_token,
            "HUB_ST_CALENDAR_ID": calendar["id"],
            "NO_COLOR": "1",
        }
        result = await asyncio.to_thread(run_schemathesis, server.url, env, tmp_path)
    finally:
        await asyncio.to_thread(server.stop)
        if backend.name == "services":
            await clear_redis_prefix(prefix)
    report = result.stdout[-12000:] + result.stderr[-3000:]
    assert result.returncode == 0, f"schemathesis failed:\n{report}\nhub log:\n{server.log()}"
