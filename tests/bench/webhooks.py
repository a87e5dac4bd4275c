"""Webhook benchmark: bookings without webhooks, then with 3 webhooks to a local receiver.

One hub on PostgreSQL + Redis, ``--clients`` admin sockets each booking on
its own calendar in a closed loop (one request in flight per socket). First
``--bookings`` bookings with no webhook; then three webhooks (every
calendar) to a receiver in this process, and ``--bookings`` more. Prints the
booking round trip (p50/p99) of both phases side by side, the events
delivered per second, commit -> receiver latency, and how long after the
last booking the last delivery came. Every delivery is checked: each event
once per webhook, in seq order per channel, its signature valid.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field

import standardwebhooks

from tests.bench.common import (
    cpu_seconds,
    header,
    parse_at,
    running_hub,
    slot,
    socket_session,
    summary_ms,
)
from tests.bench.fanout import cpu_or_none, machine_busy, service_pids
from tests.receiver import Receiver
from tests.wsclient import HubClient

WEBHOOKS = 3


class CpuMeter:
    """CPU shares (one core = 100 %) of the hub, this process, PostgreSQL + Redis, the machine."""

    def __init__(self, hub_pid: int) -> None:
        self.pids = {"hub": hub_pid, "this process": os.getpid()}
        self.services = {p: cpu_or_none(p) for p in service_pids()}
        self.start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.machine = machine_busy()
        self.clock = time.perf_counter()

    def shares(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self.clock
        found = {n: (cpu_seconds(p) - self.start[n]) / elapsed for n, p in self.pids.items()}
        services = 0.0
        for pid, start in self.services.items():
            end = cpu_or_none(pid)
            if start is not None and end is not None:
                services += end - start
        found["PostgreSQL + Redis"] = services / elapsed
        found["whole machine"] = (machine_busy() - self.machine) / elapsed
        return found


@dataclass
class Phase:
    """Booking round trips of one phase, its wall time and CPU shares."""

    round_trips: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)


async def book_all(
    clients: list[HubClient], calendars: list[str], per_client: int, first_slot: int, pid: int
) -> Phase:
    """Each client books ``per_client`` successive slots on its own calendar."""
    phase = Phase()

    async def loop(client: HubClient, calendar_id: str) -> None:
        for index in range(first_slot, first_slot + per_client):
            starts_at, ends_at = slot(index)
            data = {
                "calendar_id": calendar_id,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "title": "bench",
            }
            sent = time.perf_counter()
            answer = await client.request("appointment.create", data, timeout=30)
            phase.round_trips.append(time.perf_counter() - sent)
            assert answer["type"] == "ok", answer

    meter, started = CpuMeter(pid), time.perf_counter()
    await asyncio.gather(*(loop(c, cal) for c, cal in zip(clients, calendars, strict=True)))
    phase.wall = time.perf_counter() - started
    phase.cpu = meter.shares()
    return phase


def check_deliveries(receiver: Receiver, secrets: dict[str, str], expected: int) -> None:
    """Each event once per webhook, in seq order per channel, every signature valid."""
    by_stream: dict[tuple[str, str], list[int]] = defaultdict(list)
    for request in receiver.requests:
        secret = secrets[request.path]
        standardwebhooks.Webhook(secret).verify(request.body, request.headers)
        by_stream[request.path, request.payload["data"]["channel"]].append(request.seq)
    assert len(receiver.requests) == expected, (len(receiver.requests), expected)
    for seqs in by_stream.values():
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs


async def main(args: argparse.Namespace) -> None:
    per_client = args.bookings // args.clients
    total = per_client * args.clients
    header(
        "webhooks",
        clients=args.clients,
        bookings=total,
        webhooks=WEBHOOKS,
        concurrency=args.concurrency or "default",
    )
    receiver = await Receiver().start()
    env = {"HUB_WEBHOOK_ALLOW_PRIVATE": "true"}
    if args.concurrency:
        env["HUB_WEBHOOK_CONCURRENCY"] = str(args.concurrency)
    try:
        async with running_hub(env) as hub:
            calendars = await hub.calendars(args.clients)
            clients = [
                await socket_session(hub.server.ws_url, hub.admin.access_token)
                for _ in range(args.clients)
            ]
            await book_all(clients, calendars, 5, 0, hub.pid)  # warm up
            without = await book_all(clients, calendars, per_client, 10, hub.pid)
            secrets = {}
            for name in "abc"[:WEBHOOKS]:
                reply = await hub.api.post(
                    "/api/v1/webhooks",
                    json={"url": f"{receiver.url}/{name}"},
                    headers=hub.admin.auth,
                )
                assert reply.status_code == 201, reply.text
                secrets[f"/hook/{name}"] = reply.json()["secret"]
            started = time.monotonic()
            with_hooks = await book_all(clients, calendars, per_client, 10 + per_client, hub.pid)
            booked = time.monotonic()
            expected = total * WEBHOOKS
            await receiver.wait_until(lambda: len(receiver.requests) >= expected, timeout=600)
            drained = time.monotonic()
            for client in clients:
                await client.close()
            await asyncio.sleep(1.0)  # nothing more may arrive
            check_deliveries(receiver, secrets, expected)
            report(without, with_hooks, receiver, started, booked, drained)
    finally:
        await receiver.stop()


def report(
    without: Phase,
    with_hooks: Phase,
    receiver: Receiver,
    started: float,
    booked: float,
    drained: float,
) -> None:
    delivered = len(receiver.requests)
    first, last = receiver.requests[0].at, receiver.requests[-1].at
    latencies = [r.wall - parse_at(r.payload["timestamp"]) for r in receiver.requests]
    print(f"   {'':24} {'without webhooks':>36} {'with 3 webhooks':>36}")
    print(f"   {'booking round trip':24} {summary_ms(without.round_trips):>36}", end="")
    print(f" {summary_ms(with_hooks.round_trips):>36}")
    rates = [len(p.round_trips) / p.wall for p in (without, with_hooks)]
    print(f"   {'bookings/s':24} {rates[0]:>36.1f} {rates[1]:>36.1f}")
    for name in without.cpu:
        label = f"CPU, {name}"
        print(f"   {label:24} {without.cpu[name]:>36.0%} {with_hooks.cpu[name]:>36.0%}")
    print(
        f"   deliveries: {delivered} in {last - started:.2f} s from the first booking "
        f"({delivered / (last - started):.0f}/s); first to last delivery "
        f"{delivered / max(last - first, 1e-9):.0f}/s"
    )
    print(f"   commit -> receiver: {summary_ms(latencies)}")
    print(f"   last delivery {drained - booked:.2f} s after the last booking's answer")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=1000, help="bookings in each phase")
    parser.add_argument("--clients", type=int, default=10, help="sockets, one calendar each")
    parser.add_argument(
        "--concurrency", type=int, default=0, help="HUB_WEBHOOK_CONCURRENCY (0: the default)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
