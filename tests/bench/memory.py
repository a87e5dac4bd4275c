"""Memory benchmark: hub RSS per idle, authenticated, subscribed socket."""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from tests.bench.common import (
    BATCH,
    abort_all,
    header,
    open_many,
    raise_fd_limit,
    report_errors,
    rss_kb,
    running_hub,
)


async def main(args: argparse.Namespace) -> None:
    limit = raise_fd_limit()
    header(
        "memory", sockets=args.sockets, accounts=args.accounts, settle=args.settle, fd_limit=limit
    )
    async with running_hub() as hub:
        staff = await hub.staff(args.accounts)
        tokens = [a.access_token for a in staff]
        channel = f"calendar:{(await hub.calendars(1))[0]}"
        # Warm-up: run every code path once so the baseline includes it, then close.
        warm, _ = await open_many(hub.server.ws_url, tokens, channel, args.batch, args.batch)
        abort_all(ws for ws, _ in warm)
        await asyncio.sleep(args.settle)
        before = rss_kb(hub.pid)
        clock = time.perf_counter()
        opened, errors = await open_many(
            hub.server.ws_url, tokens, channel, args.sockets, args.batch
        )
        print(
            f"   client: {len(opened)} of {args.sockets} sockets open (hello + subscribe) "
            f"in {time.perf_counter() - clock:.1f} s"
        )
        report_errors(errors, "sockets")
        await asyncio.sleep(args.settle)
        after = rss_kb(hub.pid)
        per = (after - before) / max(1, len(opened))
        print(
            f"   hub RSS before {before / 1024:.1f} MB, after {after / 1024:.1f} MB, "
            f"+{(after - before) / 1024:.1f} MB"
        )
        print(f"   per idle subscribed socket: {per:.1f} KB (over {len(opened)} sockets)")
        print(f"   client (this process) RSS: {rss_kb(os.getpid()) / 1024:.1f} MB")
        abort_all(ws for ws, _ in opened)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--accounts", type=int, default=10, help="staff accounts sharing them")
    parser.add_argument("--batch", type=int, default=BATCH, help="sockets opened at once")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before measuring")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
