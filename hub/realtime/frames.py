"""The one frame the realtime layer builds: a channel event, as clients receive it."""

from __future__ import annotations

import json
from typing import Any


def encode_event(channel: str, seq: int, event: str, data: dict[str, Any], at: str) -> str:
    return json.dumps(
        {"type": "event", "channel": channel, "seq": seq, "event": event, "data": data, "at": at},
        separators=(",", ":"),
        ensure_ascii=False,
    )
