"""Series benchmark: book a 52-occurrence weekly series on PostgreSQL, one after another.

Each request is one ``appointment.create`` with ``FREQ=WEEKLY;COUNT=52`` on a
calendar of its own (a fresh year each time, so nothing conflicts), from a
staff socket; the figure is the request's round trip: expansion, the rules
for 52 occurrences, one transaction, 104 events appended and published.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

from tests.bench.common import cpu_seconds, header, running_hub, socket_session, summary_ms


async def main(args: argparse.Namespace) -> None:
    header("series", series=args.series, occurrences=52)
    async with running_hub() as hub:
        (staff,) = await hub.staff(1)
        (client,) = await hub.users(1)
        calendars = await hub.calendars(args.series)
        desk = await socket_session(hub.server.ws_url, staff.access_token)
        first = datetime(2030, 1, 7, 9, tzinfo=UTC)
        round_trips: list[float] = []
        cpu = cpu_seconds(hub.pid)
        started = time.perf_counter()
        for calendar_id in calendars:
            data = {
                "calendar_id": calendar_id,
                "starts_at": first.isoformat().replace("+00:00", "Z"),
                "ends_at": (first + timedelta(minutes=45)).isoformat().replace("+00:00", "Z"),
                "title": "Physiotherapy",
                "client_id": client.id,
                "recurrence": "FREQ=WEEKLY;COUNT=52",
            }
            sent = time.perf_counter()
            answer = await desk.ok("appointment.create", data)
            round_trips.append(time.perf_counter() - sent)
            assert len(answer["appointments"]) == 52
        elapsed = time.perf_counter() - started
        busy = (cpu_seconds(hub.pid) - cpu) / elapsed
        print(f"   {args.series} series of 52 in {elapsed:.2f} s: {summary_ms(round_trips)}")
        print(f"   hub process CPU: {busy * 100:.0f}% of one core")
        await desk.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=100, help="series to book")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
