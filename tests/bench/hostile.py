"""Hostile-input figures (issue 11): parse_frame timing, 1009 per client, a long fuzz run.

    uv run --dev python -m tests.bench.hostile parse               # before (git ref main) / after
    uv run --dev python -m tests.bench.hostile ws1009              # 20 tries per client and server
    uv run --dev python -m tests.bench.hostile fuzz                # 50,000 frames per backend

``parse`` times ``parse_frame`` on a typical ``appointment.create`` frame with
``timeit`` (best of 7), for the hub of a git ref (``--ref``, default
``main``, extracted to a temporary folder) and for this worktree.

``ws1009`` sends a 70 KB message from the ``websockets`` client, Python
``websocket-client`` and Node's ``ws``, ``--tries`` times each (default 20),
to a bare ASGI app under uvicorn's plain ``websockets-sansio`` (before), the
same app under :class:`~hub.web.ws_protocol.DrainingWebSocketsSansIOProtocol`
(after), and a real ``hub serve`` (after); it prints tries, clean 1009s and
the other outcomes per client.

``fuzz`` drives the generator of ``tests/test_fuzz.py`` (hypothesis, generate
phase only) at an admin's and a user's socket on a real hub, embedded and on
PostgreSQL + Redis (``--backend``), until ``--frames`` frames (default
50,000) are sent to each; it prints frames sent, answers by code, closes by
code, and every frame that broke a rule (``internal`` above all).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

from tests.bench.common import header
from tests.conftest import SHARED_SERVER_ENV, make_admin, services_env
from tests.servers import ROOT, HubServer, free_port

TIMING = """
import json, timeit
from hub.wire.protocol import parse_frame
frame = json.dumps({"id": "r42", "type": "appointment.create", "data": {
    "calendar_id": "5b0c1f8e-6a0d-4f3e-9a53-2b1d7c4e8f10",
    "starts_at": "2030-03-04T09:00:00Z", "ends_at": "2030-03-04T09:30:00+01:00",
    "title": "Check-up", "notes": "Bring the referral letter.",
    "client_id": "0d9e8f7a-1b2c-4d3e-8f90-a1b2c3d4e5f6",
    "idempotency_key": "7d1f7c2e-3b4a-4c5d-9e6f-0a1b2c3d4e5f"}})
parse_frame(frame)
best = min(timeit.repeat(lambda: parse_frame(frame), number=20000, repeat=7)) / 20000
print(f"{best * 1e6:.2f} us per frame ({len(frame)} characters)")
"""


def parse_timing(ref: str) -> None:
    header("parse_frame timing", ref=ref)
    with tempfile.TemporaryDirectory(prefix="hub-ref-") as folder:
        archive = subprocess.run(
            ["git", "archive", ref, "hub"], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        for label, path in ((f"before ({ref})", folder), ("after (worktree)", str(ROOT))):
            env = {**os.environ, "PYTHONPATH": path}
            done = subprocess.run(
                [sys.executable, "-c", TIMING], cwd=path, env=env, capture_output=True, text=True
            )
            print(f"   {label:22s} {done.stdout.strip() or done.stderr.strip()[-300:]}")


# ---- 1009 per client


BARE_APP = """
import sys, uvicorn
from hub.web.ws_protocol import DrainingWebSocketsSansIOProtocol

async def app(scope, receive, send):
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass

ws = "websockets-sansio" if sys.argv[1] == "sansio" else DrainingWebSocketsSansIOProtocol
uvicorn.run(app, port=int(sys.argv[2]), ws=ws, ws_max_size=65536, lifespan="off", log_level="warning")
"""


@contextlib.asynccontextmanager
async def bare_server(protocol: str) -> AsyncIterator[str]:
    """A bare ASGI app under uvicorn with ``protocol``; yields its ws:// URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", BARE_APP, protocol, str(port)], cwd=ROOT)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            await asyncio.sleep(0.1)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        process.terminate()
        process.wait(10)


@contextlib.asynccontextmanager
async def embedded_hub(extra: dict[str, str] | None = None) -> AsyncIterator[HubServer]:
    folder = tempfile.mkdtemp(prefix="hub-bench-")
    server = HubServer({"DATABASE_URL": f"sqlite:///{folder}/hub.db", **(extra or {})})
    try:
        await asyncio.to_thread(server.start)
        yield server
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(folder, ignore_errors=True)


async def client_outcomes(url: str, tries: int) -> dict[str, list[str]]:
    from tests.test_ws_1009 import node_tries, websocket_client_try, websockets_try

    return {
        "websockets": [await websockets_try(url) for _ in range(tries)],
        "websocket-client": [
            await asyncio.to_thread(websocket_client_try, url) for _ in range(tries)
        ],
        "node ws": await asyncio.to_thread(node_tries, url, tries),
    }


def print_outcomes(title: str, outcomes: dict[str, list[str]]) -> None:
    print(f"-- {title}")
    for client, results in outcomes.items():
        clean = results.count("close 1009")
        others = collections.Counter(r.split("(")[0] for r in results if r != "close 1009")
        rest = ", ".join(f"{n} x {what}" for what, n in others.items()) or "-"
        print(f"   {client:17s} tries={len(results):3d} clean 1009={clean:3d}   other: {rest}")


async def ws1009(tries: int) -> None:
    header("70 KB message over HUB_WS_MAX_BYTES=65536", tries=tries)
    async with bare_server("sansio") as url:
        print_outcomes(
            "before: bare app, uvicorn websockets-sansio", await client_outcomes(url, tries)
        )
    async with bare_server("draining") as url:
        print_outcomes("after: bare app, draining sansio", await client_outcomes(url, tries))
    async with embedded_hub() as hub:
        print_outcomes("after: hub serve", await client_outcomes(hub.ws_url, tries))


# ---- fuzz


async def fuzz_one(server: HubServer, admin_token: str, frames: int, seed: int) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st
    from hypothesis.errors import HypothesisDeprecationWarning

    from tests.test_fuzz import BATCHES, Tally, make_target

    # Hypothesis draws in a worker thread while the event loop keeps sockets alive,
    # and websockets' keepalive pings use the random module: a false alarm here.
    warnings.simplefilter("ignore", HypothesisDeprecationWarning)
    target = await make_target(server, admin_token)
    tally = Tally()
    loop = asyncio.get_running_loop()

    @settings(
        max_examples=frames // 5,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(batch=BATCHES, role=st.sampled_from(["admin", "user"]))
    def one(batch: Any, role: str) -> None:
        if tally.frames < frames:
            asyncio.run_coroutine_threadsafe(target.run(role, batch, tally), loop).result()

    started = time.monotonic()
    for round_seed in itertools.count(seed):  # another round, if one fell short
        if tally.frames >= frames:
            break
        await asyncio.to_thread(hypothesis_seed(round_seed)(one))
    elapsed = time.monotonic() - started
    await target.close()
    print(f"   frames sent      {tally.frames} in {elapsed:.0f} s")
    print(f"   answers by code  {dict(tally.answers.most_common())}")
    print(f"   closes by code   {dict(tally.closes) or '-'}")
    log = server.log_path.read_text(errors="replace")
    print(
        f"   hub log: {log.count('internal_error')} internal_error, {log.count('Traceback')} tracebacks"
    )
    print(f"   problems         {len(tally.problems)}")
    for problem in tally.problems[:40]:
        print("     - " + problem[:1500])


async def fuzz(backends: list[str], frames: int, seed: int) -> None:
    header("hostile frames at live sessions", frames=frames, backends=",".join(backends), seed=seed)
    for backend in backends:
        print(f"-- {backend}")
        if backend == "embedded":
            async with embedded_hub(SHARED_SERVER_ENV) as server:
                admin = await make_admin(server, server.env)
                await fuzz_one(server, admin.access_token, frames, seed)
            continue
        async with services_env() as env:
            server = HubServer(env)
            await asyncio.to_thread(server.start)
            try:
                admin = await make_admin(server, env)
                await fuzz_one(server, admin.access_token, frames, seed)
            finally:
                await asyncio.to_thread(server.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    parse = commands.add_parser("parse")
    parse.add_argument("--ref", default="main")
    ws = commands.add_parser("ws1009")
    ws.add_argument("--tries", type=int, default=20)
    fz = commands.add_parser("fuzz")
    fz.add_argument("--frames", type=int, default=50_000)
    fz.add_argument("--backend", choices=["embedded", "services", "both"], default="both")
    fz.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if args.command == "parse":
        parse_timing(args.ref)
    elif args.command == "ws1009":
        asyncio.run(ws1009(args.tries))
    else:
        backends = ["embedded", "services"] if args.backend == "both" else [args.backend]
        asyncio.run(fuzz(backends, args.frames, args.seed))


if __name__ == "__main__":
    main()
