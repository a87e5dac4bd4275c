"""availability.get over 31 days for a calendar holding 2,000 appointments.

    uv run python -m tests.bench.availability [--appointments 2000] [--queries 50]

Books the appointments through a staff socket (15-minute slots at random
quarter hours over the next 31 days, working hours 08:00-20:00 in
Europe/Berlin), then asks for 30-minute slots over the whole 31 days and
prints the answer time (request to answer, one socket) p50/p95/p99/max.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

from tests.bench.common import header, running_hub, socket_session, summary_ms
from tests.conftest import make_calendar


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def run(appointments: int, queries: int) -> None:
    header("availability", appointments=appointments, queries=queries)
    async with running_hub() as hub:
        desk = await socket_session(hub.server.ws_url, hub.admin.access_token)
        hours = [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(7)]
        calendar = await make_calendar(desk, timezone="Europe/Berlin", working_hours=hours)
        start = (datetime.now(UTC) + timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        quarters = random.Random(7).sample(range(31 * 24 * 4), appointments)
        started = time.perf_counter()
        for index in quarters:
            begin = start + timedelta(minutes=15 * index)
            await desk.ok(
                "appointment.create",
                {
                    "calendar_id": calendar["id"],
                    "title": "Busy",
                    "starts_at": _z(begin),
                    "ends_at": _z(begin + timedelta(minutes=15)),
                },
            )
        print(f"   booked {appointments} appointments in {time.perf_counter() - started:.1f} s")
        request = {
            "calendar_id": calendar["id"],
            "from": _z(start),
            "to": _z(start + timedelta(days=31)),
            "duration_minutes": 30,
        }
        timings: list[float] = []
        slots = 0
        for _ in range(queries):
            began = time.perf_counter()
            answer = await desk.ok("availability.get", request)
            timings.append(time.perf_counter() - began)
            slots = len(answer["slots"])
        print(f"   {slots} free 30-minute slots over 31 days")
        print(f"   availability.get answer time: {summary_ms(timings)}")
        await desk.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.appointments, args.queries))


if __name__ == "__main__":
    main()
