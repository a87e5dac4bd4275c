"""static/hub-client.js outside a browser: Node 20 against a real hub, on both backends."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Account, make_calendar, sign_up
from tests.inproc import InProcessHub
from tests.servers import ROOT
from tests.wsclient import HubClient

SCRIPT = ROOT / "tests" / "js" / "hub_client_node.mjs"
NODE = shutil.which("node")


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def run_node(
    hub: InProcessHub, user: Account, calendar_id: str, mode: str, *flags: str
) -> dict[str, dict[str, Any]]:
    """Run the Node script and return its report lines by step."""
    if NODE is None:
        pytest.fail("node is not on PATH (Node 20 is part of this machine's set-up)")
    if not (ROOT / "tests" / "js" / "node_modules" / "ws").exists():
        pytest.fail("tests/js/node_modules is missing: npm ci --prefix tests/js")
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=10, minute=0, second=0)
    process = await asyncio.create_subprocess_exec(
        NODE,
        *flags,
        str(SCRIPT),
        hub.ws_url,
        user.access_token,
        calendar_id,
        mode,
        stamp(start),
        stamp(start + timedelta(minutes=30)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(SCRIPT).parent,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    steps = {line["step"]: line for line in map(json.loads, out.decode().splitlines())}
    assert process.returncode == 0, f"{steps}\n{err.decode()}"
    return steps


@pytest.fixture
async def user_and_calendar(
    hub: InProcessHub, api: httpx.AsyncClient, admin_ws: HubClient
) -> tuple[Account, str]:
    user = await sign_up(api, "nodeclient")
    calendar = await make_calendar(admin_ws)
    return user, calendar["id"]


def check_session_and_event(steps: dict[str, dict[str, Any]], user: Account) -> None:
    assert steps["no_url"]["threw"] is True
    assert "options.url" in steps["no_url"]["message"]
    assert steps["hello"]["user"]["id"] == user.id
    assert steps["hello"]["protocol"] == 1
    assert steps["hello"]["state"] == "live"
    event = steps["event"]
    assert event["event"] == "appointment.created"
    assert (
        event["seq"] == event["seqs"][next(k for k in event["seqs"] if k.startswith("calendar:"))]
    )


def check_hold(steps: dict[str, dict[str, Any]], user: Account, calendar_id: str) -> None:
    hold_step = steps["hold"]
    assert "error" not in hold_step, hold_step
    hold = hold_step["hold"]
    assert hold["calendar_id"] == calendar_id
    assert hold["held_by"] == user.id
    assert hold_step["holds"] == [hold["id"]]
    release = steps["release"]
    assert release["reason"] == "released"
    assert release["holds"] == []
    assert release["holds_seen"][-2:] == [[hold["id"]], []]
    assert steps["release_again"]["error"] == "not_found"
    closed = steps["closed"]
    assert closed["state"] == "offline"
    assert closed["states"][:2] == ["connecting", "live"]
    assert closed["watched"] == closed["states"]


async def test_node_with_the_ws_class_says_hello_follows_a_channel_and_holds(
    hub: InProcessHub, user_and_calendar: tuple[Account, str]
) -> None:
    """On Node 20 with ws's WebSocket passed in: hello, subscribe, an event, a hold and its release."""
    user, calendar_id = user_and_calendar
    steps = await run_node(hub, user, calendar_id, "ws-class")
    check_session_and_event(steps, user)
    check_hold(steps, user, calendar_id)


async def test_node_with_a_global_websocket_works_the_same(
    hub: InProcessHub, user_and_calendar: tuple[Account, str]
) -> None:
    """With Node's own global WebSocket (--experimental-websocket on 20) nothing else is needed."""
    user, calendar_id = user_and_calendar
    steps = await run_node(hub, user, calendar_id, "global", "--experimental-websocket")
    check_session_and_event(steps, user)
    check_hold(steps, user, calendar_id)
