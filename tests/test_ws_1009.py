"""An oversize message reaches every standard client as close code 1009, not a reset.

A real ``hub serve``; a 70 KB text message (over the default 64 KB
``HUB_WS_MAX_BYTES``) from the ``websockets`` client, Python
``websocket-client`` and Node's ``ws``. Under uvicorn's plain
``websockets-sansio`` most of these tries ended in a TCP reset
(``tests/bench/hostile.py`` prints the figures).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import struct
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import websocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hub.web.ws_protocol import HubWebSocketProtocol
from tests.servers import HubServer

ROOT = Path(__file__).resolve().parent.parent
NODE_WS = ROOT / "tests" / "js" / "node_modules" / "ws"
MESSAGE = json.dumps({"type": "ping", "id": "big", "data": {"pad": "x" * (70 * 1024)}})
TRIES = 3

# Each try prints one outcome line: "close <code>" or "reset <error>".
NODE_CLIENT = """
const WebSocket = require(process.argv[1]);
const [url, size, tries] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const message = JSON.stringify({type: "ping", id: "big", data: {pad: "x".repeat(size)}});
function once() {
  return new Promise((resolve) => {
    let outcome = null;
    const ws = new WebSocket(url);
    ws.on("open", () => ws.send(message));
    ws.on("error", (err) => { outcome = outcome || "reset " + (err.code || err.message); });
    ws.on("close", (code) => resolve(outcome || "close " + code));
  });
}
(async () => { for (let i = 0; i < tries; i++) console.log(await once()); })();
"""


async def websockets_try(url: str) -> str:
    """One try with the ``websockets`` asyncio client: its outcome line."""
    try:
        async with connect(url, max_size=None, open_timeout=10, close_timeout=10) as ws:
            await ws.send(MESSAGE)
            async with asyncio.timeout(15):
                await ws.recv()
            return "answered"
    except ConnectionClosed as exc:
        if exc.rcvd is None:
            return f"reset {exc!r}"
        return f"close {exc.rcvd.code}"
    except OSError as exc:
        return f"reset {exc!r}"


def websocket_client_try(url: str) -> str:
    """One try with Python ``websocket-client`` (blocking): its outcome line."""
    ws = websocket.create_connection(url, timeout=15)
    try:
        ws.send(MESSAGE)
        opcode, frame = ws.recv_data_frame(True)
        if opcode != websocket.ABNF.OPCODE_CLOSE:
            return "answered"
        return f"close {struct.unpack('!H', frame.data[:2])[0]}"
    except (OSError, websocket.WebSocketException) as exc:
        return f"reset {exc!r}"
    finally:
        ws.close(timeout=2)  # a no-op once it answered the server's close
        ws.shutdown()  # type: ignore[no-untyped-call]


def node_tries(url: str, tries: int) -> list[str]:
    """``tries`` tries with Node's ``ws`` in one node process: their outcome lines."""
    node = shutil.which("node")
    assert node is not None, "node is not installed"
    done = subprocess.run(
        [node, "-e", NODE_CLIENT, str(NODE_WS), url, str(70 * 1024), str(tries)],
        capture_output=True,
        text=True,
        timeout=30 + 10 * tries,
        check=True,
    )
    return done.stdout.split("\n")[:tries]


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[HubServer]:
    """A real embedded ``hub serve`` of its own (it need not share the suite's)."""
    folder = Path(tempfile.mkdtemp(prefix="hub-1009-"))
    hub = HubServer({"DATABASE_URL": f"sqlite:///{folder}/hub.db"})
    await asyncio.to_thread(hub.start)
    yield hub
    await asyncio.to_thread(hub.stop)
    shutil.rmtree(folder, ignore_errors=True)


async def test_websockets_client_sees_1009(server: HubServer) -> None:
    """The websockets client reads close code 1009, every try."""
    outcomes = [await websockets_try(server.ws_url) for _ in range(TRIES)]
    assert outcomes == ["close 1009"] * TRIES


async def test_websocket_client_sees_1009(server: HubServer) -> None:
    """Python websocket-client reads close code 1009, every try (it saw resets before)."""
    outcomes = [await asyncio.to_thread(websocket_client_try, server.ws_url) for _ in range(TRIES)]
    assert outcomes == ["close 1009"] * TRIES


async def test_node_ws_client_sees_1009(server: HubServer) -> None:
    """Node's ws client reads close code 1009, every try."""
    outcomes = await asyncio.to_thread(node_tries, server.ws_url, TRIES)
    assert outcomes == ["close 1009"] * TRIES


async def test_a_client_that_keeps_sending_is_cut_off_in_bounded_time(server: HubServer) -> None:
    """A client still trickling its oversize message after the 1009 is cut off after ~5 s."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert b" 101 " in await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    # A masked text frame announcing 70 KB, then a trickle of its payload.
    writer.write(b"\x81\xff" + struct.pack("!Q", 70 * 1024) + b"mask")
    close = await asyncio.wait_for(reader.readexactly(4), 10)
    assert close[0] == 0x88 and struct.unpack("!H", close[2:4])[0] == 1009
    started = asyncio.get_running_loop().time()
    with pytest.raises(OSError):  # the reset, once the server stops draining
        async with asyncio.timeout(20):
            while True:
                writer.write(b"x" * 512)
                await writer.drain()
                await asyncio.sleep(0.1)
    elapsed = asyncio.get_running_loop().time() - started
    writer.close()
    assert HubWebSocketProtocol.drain_seconds - 0.5 < elapsed < 12


async def test_hub_still_serves_after_oversize_messages(server: HubServer) -> None:
    """The drained sockets leave the process serving and logging no traceback."""
    async with connect(server.ws_url, open_timeout=10) as ws:
        await ws.send(json.dumps({"type": "ping", "id": "p"}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
    # Before hello, anything but hello is refused with unauthorized (PROTOCOL.md, Session).
    assert answer["id"] == "p" and answer["error"]["code"] == "unauthorized"
    assert "Traceback" not in server.log_path.read_text()
