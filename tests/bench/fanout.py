"""Fan-out benchmark: N subscribed sockets on one calendar, a writer booking on it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from tests.bench.common import (
    BATCH,
    cpu_seconds,
    header,
    now,
    parse_at,
    raise_fd_limit,
    report_errors,
    running_hub,
    slot,
    socket_session,
    summary_ms,
)
from tests.bench.receivers import Records, Spec, Worker, worker_main
from tests.servers import free_port
from tests.wsclient import HubClient

ANSWER_TIMEOUT = 120.0


class LocalClient:
    """The receivers in this process, on the writer's event loop (``--procs 0``)."""

    def __init__(self, spec: Spec) -> None:
        self.worker = Worker(spec)
        self.pid = os.getpid()

    async def call(self, command: str, *args: Any) -> Any:
        return await self.worker.handle(command, args)

    async def close(self) -> None:
        await self.worker.stop()


class ProcessClient:
    """The receivers in a worker process (spawn), driven over a pipe."""

    def __init__(self, spec: Spec) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=worker_main, args=(child, spec), daemon=True)
        self.process.start()
        child.close()
        assert self.process.pid is not None
        self.pid = self.process.pid

    async def call(self, command: str, *args: Any) -> Any:
        self.conn.send((command, args))
        ok, result = await asyncio.to_thread(self.conn.recv)
        if not ok:
            raise RuntimeError(f"client worker {self.pid} failed {command}:\n{result}")
        return result

    async def close(self) -> None:
        if self.process.is_alive():
            try:
                await asyncio.wait_for(self.call("stop"), 10)
            finally:
                await asyncio.to_thread(self.process.join, 5)
                if self.process.is_alive():
                    self.process.kill()


Client = LocalClient | ProcessClient


class Writer:
    """The writer's socket, reopened before a phase when the server closed it."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.client: HubClient | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def why(self) -> str:
        ws = self.client.ws if self.client else None
        return f"the server closed the writer's socket: {ws and ws.close_code} {ws and ws.close_reason}"

    async def ensure_open(self) -> None:
        if self.client is not None:
            if not self.closed.done():
                return
            print(f"   ({self.why()}; reopened)")
            await self.client.close()
        self.client = await socket_session(self.url, self.token)
        self.closed = asyncio.ensure_future(self.client.ws.wait_closed())

    async def create(self, data: dict[str, Any]) -> dict[str, Any]:
        """The answer to appointment.create; ConnectionError when the socket closes first."""
        assert self.client is not None
        answer = asyncio.ensure_future(
            self.client.request("appointment.create", data, timeout=ANSWER_TIMEOUT)
        )
        either: set[asyncio.Future[Any]] = {answer, self.closed}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not answer.done():
            answer.cancel()
            raise ConnectionError(self.why())
        return answer.result()

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


@dataclass
class Writes:
    """What the writer saw: committed seqs (with send times), round trips, error answers."""

    seqs: list[int] = field(default_factory=list)
    sent_at: dict[int, float] = field(default_factory=dict)
    round_trips: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Received:
    """Everything the clients received since the last mark."""

    records: list[Records]
    ats: dict[int, float]
    other: int


@dataclass
class Bench:
    """The running set-up: client workers, the writer's socket, the calendar, the hub's pid."""

    clients: list[Client]
    sockets: int
    writer: Writer
    calendar_id: str
    pid: int
    stall: float
    next_slot: int = 0
    failed: bool = False
    cpu_per_delivery: list[float] = field(default_factory=list)

    async def everyone(self, command: str, *args: Any) -> list[Any]:
        return list(await asyncio.gather(*(c.call(command, *args) for c in self.clients)))

    async def received(self) -> Received:
        parts = await self.everyone("collect")
        records = [r for part, _, _ in parts for r in part]
        ats = {seq: parse_at(at) for _, stamps, _ in parts for seq, at in stamps.items()}
        return Received(records, ats, sum(other for _, _, other in parts))


def machine_busy() -> float:
    """CPU seconds all cores of this machine have been busy so far (from /proc/stat)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def service_pids() -> list[int]:
    """PostgreSQL and Redis processes on this machine."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() in ("postgres", "redis-server"):
                pids.append(int(comm.parent.name))
    return pids


def cpu_or_none(pid: int) -> float | None:
    try:
        return cpu_seconds(pid)
    except OSError:
        return None


class CpuMeter:
    """CPU share of the hub, the clients, PostgreSQL + Redis and the whole machine."""

    def __init__(self, bench: Bench) -> None:
        self.pids = [bench.pid, *(c.pid for c in bench.clients)]
        self.services = {p: cpu_or_none(p) for p in service_pids()}
        self.start = [cpu_seconds(p) for p in self.pids]
        self.machine = machine_busy()
        self.clock = time.perf_counter()

    def report(self, deliveries: int) -> float:
        elapsed = time.perf_counter() - self.clock
        used = [
            (cpu_seconds(p) - s) / elapsed * 100 for p, s in zip(self.pids, self.start, strict=True)
        ]
        services = 0.0
        for pid, start in self.services.items():
            end = cpu_or_none(pid)
            if start is not None and end is not None:
                services += (end - start) / elapsed * 100
        machine = (machine_busy() - self.machine) / elapsed * 100
        clients = " + ".join(f"{u:.0f}%" for u in used[1:])
        print(
            f"   hub process CPU over the phase: {used[0]:.0f}% of one core; machine busy "
            f"{machine:.0f}% of {(os.cpu_count() or 1) * 100}% (clients {clients}, "
            f"PostgreSQL + Redis {services:.0f}%, everything else "
            f"{machine - sum(used) - services:.0f}%: other processes, kernel); server CPU "
            f"per delivery {used[0] / 100 * elapsed / max(1, deliveries) * 1e6:.1f} us"
        )
        return used[0] / 100 * elapsed / max(1, deliveries) * 1e6


async def book(bench: Bench, writes: Writes) -> None:
    """Book the next slot on the calendar as staff; record the answer."""
    starts_at, ends_at = slot(bench.next_slot)
    bench.next_slot += 1
    data = {
        "calendar_id": bench.calendar_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "title": f"bench {bench.next_slot}",
    }
    sent, sent_at = time.perf_counter(), now()
    try:
        answer = await bench.writer.create(data)
    except TimeoutError:
        writes.errors.append(f"no answer within {ANSWER_TIMEOUT:.0f} s")
        return
    except (ConnectionError, ConnectionClosed) as exc:
        writes.errors.append(str(exc)[:200])
        return
    writes.round_trips.append(time.perf_counter() - sent)
    if answer["type"] == "ok":
        seq = answer["data"]["seqs"][f"calendar:{bench.calendar_id}"]
        writes.seqs.append(seq)
        writes.sent_at[seq] = sent_at
    else:
        writes.errors.append(json.dumps(answer["error"])[:200])


async def wait_delivered(bench: Bench, per_socket: int, stall: float, timeout: float) -> None:
    """Until every socket got ``per_socket`` events since the mark (or a stall / time-out)."""
    total = sum(await bench.everyone("wait", per_socket, stall, timeout))
    if total < per_socket * bench.sockets and timeout > stall:
        print(f"   gave up waiting: {total} of {per_socket * bench.sockets} events after a stall")


def report_writes(bench: Bench, writes: Writes, elapsed: float) -> None:
    bench.failed |= bool(writes.errors)
    print(
        f"   writes: {len(writes.seqs)} ok, {len(writes.errors)} errors in {elapsed:.2f} s "
        f"({len(writes.seqs) / elapsed:.1f}/s); write round trip {summary_ms(writes.round_trips)}"
    )
    report_errors(writes.errors, "writes")


def check(bench: Bench, got: Received, writes: Writes) -> None:
    """Per socket: every committed seq exactly once and in order."""
    expected = set(writes.seqs)
    missing_sockets = missing = dup_sockets = disorder_sockets = 0
    for _, seqs in got.records:
        lost = len(expected - set(seqs))
        missing += lost
        missing_sockets += lost > 0
        dup_sockets += len(seqs) != len(set(seqs))
        disorder_sockets += list(seqs) != sorted(seqs)
    first = min(expected)
    contiguous = expected == set(range(first, first + len(expected)))
    unanswered = sorted(set(got.ats) - expected)
    bench.failed |= missing > 0 or dup_sockets > 0 or disorder_sockets > 0
    if unanswered:
        print(f"   events delivered whose write got no answer: seqs {unanswered}")
    print(
        f"   sockets with missing seqs: {missing_sockets} ({missing} seqs missing), "
        f"with duplicates: {dup_sockets}, out of order: {disorder_sockets}; "
        f"writer's seqs contiguous: {contiguous}; non-event frames: {got.other}"
    )


async def single(bench: Bench, count: int, wait: float, gap: float) -> None:
    """One event at a time; per event, commit -> first and -> last socket."""
    print(
        f"-- single: {count} events one at a time to {bench.sockets} sockets "
        f"(the next {gap:g} s after all sockets got the previous one, or after {wait:g} s)"
    )
    await bench.writer.ensure_open()
    await bench.everyone("mark")
    writes, cpu, started = Writes(), CpuMeter(bench), now()
    for _ in range(count):
        await book(bench, writes)
        await wait_delivered(bench, len(writes.seqs), wait, wait)
        await asyncio.sleep(gap)
    report_writes(bench, writes, now() - started)
    if not writes.seqs:
        return
    got = await bench.received()
    spans: dict[int, list[float]] = {seq: [] for seq in writes.seqs}
    for times, seqs in got.records:
        for received, seq in zip(times, seqs, strict=True):
            spans[seq].append(received)
    first, last, request = [], [], []
    for seq in writes.seqs:
        at = got.ats.get(seq)
        if at is None:
            print(f"   seq {seq}: received by no socket")
            continue
        first.append(min(spans[seq]) - at)
        last.append(max(spans[seq]) - at)
        request.append(max(spans[seq]) - writes.sent_at[seq])
        print(
            f"   seq {seq}: commit->first {first[-1] * 1000:.1f} ms, commit->last "
            f"{last[-1] * 1000:.1f} ms, request->last {request[-1] * 1000:.1f} ms, "
            f"{len(spans[seq])}/{bench.sockets} sockets"
        )
    print(f"   fan-out commit->last socket:  {summary_ms(last)}")
    print(f"   fan-out commit->first socket: {summary_ms(first)}")
    print(f"   fan-out request->last socket: {summary_ms(request)}")
    check(bench, got, writes)
    bench.cpu_per_delivery.append(cpu.report(sum(len(seqs) for _, seqs in got.records)))


async def phase(bench: Bench, name: str, count: int, rate: float | None) -> None:
    """Publish ``count`` events (at ``rate``/s, or all at once) and report their delivery."""
    label = f"at {rate:g}/s" if rate else "as fast as possible (pipelined on one socket)"
    print(f"-- {name}: {count} events {label} to {bench.sockets} sockets")
    await bench.writer.ensure_open()
    await bench.everyone("mark")
    writes, cpu, started, clock = Writes(), CpuMeter(bench), now(), time.perf_counter()
    tasks = []
    for i in range(count):
        if rate:
            await asyncio.sleep(max(0.0, clock + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(book(bench, writes)))
    await asyncio.gather(*tasks)
    answered = now()
    report_writes(bench, writes, answered - started)
    await wait_delivered(bench, len(writes.seqs), bench.stall, float("inf"))
    if not writes.seqs:
        return
    got = await bench.received()
    latencies: list[float] = []
    from_request: list[float] = []
    last_receive = started
    for times, seqs in got.records:
        for received, seq in zip(times, seqs, strict=True):
            latencies.append(received - got.ats[seq])
            from_request.append(received - writes.sent_at.get(seq, received))
        if times:
            last_receive = max(last_receive, times[-1])
    wall = last_receive - started
    print(
        f"   delivered {len(latencies)} of {len(set(writes.seqs) | set(got.ats)) * bench.sockets} events in "
        f"{wall:.2f} s (first send -> last receive): {len(latencies) / wall:.0f} deliveries/s; "
        f"last receive {(last_receive - answered) * 1000:+.0f} ms from the last write's answer"
    )
    print(f"   latency commit->client (at -> receive): {summary_ms(latencies)}")
    print(f"   latency request->client (writer send -> receive): {summary_ms(from_request)}")
    check(bench, got, writes)
    bench.cpu_per_delivery.append(cpu.report(sum(len(seqs) for _, seqs in got.records)))


def start_clients(
    args: argparse.Namespace, url: str, tokens: list[str], channel: str
) -> list[Client]:
    """``--procs`` worker processes (or this one, for 0) sharing the sockets and the batch."""
    procs = max(1, args.procs)
    counts = [args.sockets // procs + (i < args.sockets % procs) for i in range(procs)]
    batch = max(1, args.batch // procs)
    specs = [Spec(url, tokens, channel, n, batch, not args.full_client) for n in counts]
    return [ProcessClient(s) for s in specs] if args.procs else [LocalClient(specs[0])]


@dataclass
class Target:
    """A server to fan out from: its WebSocket URL, pid, tokens and calendar."""

    name: str
    url: str
    pid: int
    writer_token: str
    tokens: list[str]
    calendar_id: str


async def run_target(args: argparse.Namespace, target: Target) -> list[float]:
    """Every phase against one server; returns its CPU per delivery (us) per phase."""
    print(f"== target: {target.name}")
    channel = f"calendar:{target.calendar_id}"
    clients = start_clients(args, target.url, target.tokens, channel)
    writer = Writer(target.url, target.writer_token)
    try:
        clock = time.perf_counter()
        errors = [
            e for part in await asyncio.gather(*(c.call("open") for c in clients)) for e in part
        ]
        opened = args.sockets - len(errors)
        where = f"{args.procs} client processes" if args.procs else "receivers in this process"
        print(
            f"   opened {opened} of {args.sockets} sockets (hello + subscribe) in "
            f"{time.perf_counter() - clock:.1f} s ({where}, batches of {args.batch})"
        )
        report_errors(errors, "sockets")
        bench = Bench(clients, opened, writer, target.calendar_id, target.pid, args.stall)
        every = args.mode in ("all", "both")
        if every or args.mode == "single":
            await single(bench, args.single, args.single_wait, args.single_gap)
        if every or args.mode == "steady":
            await phase(bench, "steady", int(args.rate * args.seconds), args.rate)
        if every or args.mode == "burst":
            await phase(bench, "burst", args.burst, None)
        codes = [c for part in await bench.everyone("closed") for c in part]
        print(
            f"   sockets closed by the server during the run: {len(codes)} "
            f"(codes: {sorted(set(codes))})"
        )
        return bench.cpu_per_delivery
    finally:
        await writer.close()
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


@contextlib.asynccontextmanager
async def raw_server() -> AsyncIterator[tuple[str, int]]:
    """The bare websockets broadcast server (tests/bench/raw_server.py), its URL and pid."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.raw_server",
        str(port),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    await process.stdout.readline()  # "ready"
    try:
        yield f"ws://127.0.0.1:{port}/ws", process.pid
    finally:
        process.terminate()
        await process.wait()


async def main(args: argparse.Namespace) -> None:
    limit = raise_fd_limit()
    header(
        "fan-out",
        sockets=args.sockets,
        client="full" if args.full_client else "lean",
        procs=args.procs,
        accounts=args.accounts,
        single=args.single,
        rate=args.rate,
        seconds=args.seconds,
        burst=args.burst,
        mode=args.mode,
        targets=args.targets,
        fd_limit=limit,
    )
    figures: dict[str, list[float]] = {}
    if args.targets in ("hub", "both"):
        async with running_hub() as hub:
            staff = await hub.staff(args.accounts + 1)
            calendar_id = (await hub.calendars(1))[0]
            tokens = [a.access_token for a in staff[1:]]
            target = Target(
                "hub", hub.server.ws_url, hub.pid, staff[0].access_token, tokens, calendar_id
            )
            figures["hub"] = await run_target(args, target)
    if args.targets in ("raw", "both"):
        async with raw_server() as (url, pid):
            fake = [f"raw-{i}" for i in range(args.accounts + 1)]
            target = Target("raw websockets", url, pid, fake[0], fake[1:], str(uuid.uuid4()))
            figures["raw"] = await run_target(args, target)
    if len(figures) == 2:
        print("== hub CPU per delivery against the raw websockets broadcast, per phase")
        for i, (hub_us, raw_us) in enumerate(zip(figures["hub"], figures["raw"], strict=False)):
            print(
                f"   phase {i + 1}: hub {hub_us:.1f} us, raw {raw_us:.1f} us: {hub_us / raw_us:.2f}x"
            )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=10, help="staff accounts sharing them")
    client = parser.add_mutually_exclusive_group()
    client.add_argument("--lean", action="store_true", help="regex-scanning receivers (default)")
    client.add_argument("--full-client", action="store_true", help="websockets connections")
    parser.add_argument("--procs", type=int, default=2, help="client processes (0: this one)")
    parser.add_argument("--single", type=int, default=20, help="events in the single phase")
    parser.add_argument("--single-wait", type=float, default=1.0, help="max s between them")
    parser.add_argument("--single-gap", type=float, default=0.2, help="s after all got one")
    parser.add_argument("--rate", type=float, default=20.0, help="steady events per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="steady phase length")
    parser.add_argument("--burst", type=int, default=200, help="events in the burst phase")
    parser.add_argument(
        "--mode",
        choices=["single", "steady", "burst", "all", "both"],
        default="all",
        help="phases to run; both = all (single, steady, burst)",
    )
    parser.add_argument("--batch", type=int, default=BATCH, help="sockets opened at once")
    parser.add_argument("--stall", type=float, default=15.0, help="give up after s with no frame")
    parser.add_argument(
        "--targets",
        choices=["hub", "raw", "both"],
        default="both",
        help="the hub, the bare websockets broadcast server (the raw limit), or both in turn",
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
