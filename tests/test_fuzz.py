"""Arbitrary frames at a live session: never `internal`, never a crash, ping still answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.wire.messages import MESSAGES
from tests.conftest import sign_up
from tests.servers import HubServer
from tests.wsclient import HubClient, session

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = sorted({f.name for m in MESSAGES.values() for f in m.shape.fields})
PLAUSIBLE_VALUES = (
    JSON
    | st.sampled_from(
        [
            "2027-01-05T10:00:00Z",
            "2027-01-05T10:00:00",
            "calendar:x",
            "00000000-0000-0000-0000-000000000000",
            "",
            "pending",
            "admin",
        ]
    )
    | st.integers(min_value=-(2**70), max_value=2**70)
)
REQUESTS = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(MESSAGES)) | st.text(max_size=20)},
    optional={
        "id": st.integers() | st.text(max_size=30) | JSON,
        "data": st.dictionaries(
            st.sampled_from(FIELD_NAMES) | st.text(max_size=10), PLAUSIBLE_VALUES, max_size=6
        )
        | JSON,
    },
)
FRAMES = REQUESTS.map(json.dumps) | JSON.map(json.dumps) | st.text(max_size=200)

_state: dict[str, Any] = {}


async def _client(hub: HubServer) -> HubClient:
    if "client" not in _state:
        async with httpx.AsyncClient(base_url=hub.url) as api:
            account = await sign_up(api, "fuzz")
        _state["client"] = await session(hub.ws_url, account.access_token)
    client: HubClient = _state["client"]
    return client


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frame=FRAMES)
async def test_arbitrary_frames_never_break_a_session(hub: HubServer, frame: str) -> None:
    """Whatever arrives, the answer is never internal and the socket keeps answering ping."""
    client = await _client(hub)
    before = len(client.frames)
    await client.send_raw(frame)
    pong = await client.request("ping", timeout=10)
    assert pong["type"] == "ok", pong
    for answer in client.frames[before:]:
        if answer.get("type") == "error":
            assert answer["error"]["code"] != "internal", (frame, answer)
    assert client.ws.close_code is None


async def test_fuzzed_hub_is_still_healthy(hub: HubServer) -> None:
    """After the fuzzing, the process is alive and logged no internal error."""
    async with httpx.AsyncClient(base_url=hub.url) as api:
        assert (await api.get("/health/db")).status_code == 200
    assert '"event": "internal_error"' not in hub.log_path.read_text()
    if "client" in _state:
        await _state.pop("client").close()
    await asyncio.sleep(0)
