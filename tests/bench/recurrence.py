"""Cost of parsing and expanding a recurrence, in process (no hub, no database).

    uv run --dev python -m tests.bench.recurrence [--repeat 200]

Prints p50/p99/max in milliseconds of parse_recurrence + expand for typical
52-occurrence series in Europe/Berlin, and for rules that never match again
(the worst case: dateutil searches on for a match), beside plain dateutil on
the same hopeless rules without the module's 400-year-cycle shift.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MO, MONTHLY, TU, rrule

from hub.domain.recurrence import expand, parse_recurrence

BERLIN = ZoneInfo("Europe/Berlin")
FIRST = datetime(2027, 1, 4, 9, tzinfo=UTC)  # Monday 10:00 in Berlin
RULES = {
    "weekly, 52": "FREQ=WEEKLY;COUNT=52",
    "weekly Tu/Th, until 2027-06-30": "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20270630T000000Z",
    "monthly 2MO/-1FR, 52": "FREQ=MONTHLY;BYDAY=2MO,-1FR;COUNT=52",
    "daily, 52": "FREQ=DAILY;COUNT=52",
    "hopeless: DAILY;INTERVAL=7;BYDAY=TU": "FREQ=DAILY;INTERVAL=7;BYDAY=TU;COUNT=52",
    "hopeless: MONTHLY;BYDAY=1MO;BYMONTHDAY=31": "FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=31;COUNT=52",
}
DATEUTIL_ALONE = {
    "dateutil alone, DAILY;INTERVAL=7;BYDAY=TU": lambda: rrule(
        DAILY, dtstart=datetime(2027, 1, 4, 10), interval=7, byweekday=TU
    ),
    "dateutil alone, MONTHLY;BYDAY=1MO;BYMONTHDAY=31": lambda: rrule(
        MONTHLY, dtstart=datetime(2027, 1, 4, 10), byweekday=MO(1), bymonthday=31
    ),
}


def timed(work: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def line(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(
        f"{label:48} p50 {statistics.median(ordered):8.2f} ms  p99 {p99:8.2f} ms"
        f"  max {ordered[-1]:8.2f} ms  (n={len(ordered)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    print("2 shared cores: figures include whatever else the machine runs.")
    for label, text in RULES.items():
        hopeless = label.startswith("hopeless")
        repeat = max(3, args.repeat // 20) if hopeless else args.repeat

        def work(text: str = text) -> object:
            return expand(parse_recurrence(text, 52), FIRST, timedelta(minutes=45), BERLIN)

        line(label, timed(work, repeat))
    for label, make in DATEUTIL_ALONE.items():
        line(label, timed(partial(_first_two, make), 3))


def _first_two(make: Any) -> list[Any]:
    return list(islice(make(), 2))


if __name__ == "__main__":
    main()
