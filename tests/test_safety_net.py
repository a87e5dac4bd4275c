"""The safety net that finds log rows the broker lost costs one query, whatever the channels."""

from __future__ import annotations

import asyncio
import uuid

from hub.realtime.channel_log import ChannelEvent
from tests.conftest import run_sql
from tests.inproc import InProcessHub
from tests.test_gaps import append_silently


async def test_one_query_per_check_however_many_channels_and_it_still_finds_a_gap(
    private_env: dict[str, str],
) -> None:
    """300 channels held: a check is one query; a row committed with no publish is delivered."""
    hub = await InProcessHub(private_env).start()
    try:
        fanout = hub.runtime.node.fanout
        got: list[ChannelEvent] = []
        names = [f"calendar:{uuid.uuid4()}" for _ in range(300)]
        url = private_env["DATABASE_URL"]
        await run_sql(
            url, [("INSERT INTO channel_heads (channel, seq) VALUES ($1, 0)", (names[7],))]
        )
        for name in names:
            await fanout.listen(name, got.append)
        await fanout.check_recent()  # the first check reads every head it holds
        queries = 0
        observe = hub.runtime.store.observe

        def counting(seconds: float) -> None:
            nonlocal queries
            queries += 1
            observe(seconds)

        hub.runtime.store.observe = counting
        await fanout.check_recent()
        assert queries == 1
        hub.runtime.store.observe = observe
        seq = await append_silently(private_env, names[7], {"id": "lost publish"})
        async with asyncio.timeout(5):
            while not got:
                await asyncio.sleep(0.1)  # the runtime's own loop checks every second
        assert [(e.channel, e.seq) for e in got] == [(names[7], seq)]
    finally:
        await hub.stop()
