"""Frames the realtime layer builds: a channel event, as clients receive it."""

from __future__ import annotations

import json
from typing import Any


class Frame:
    """One text frame for any number of sockets.

    Encoded once; the transport may keep the frame's serialised form in
    ``wire`` (:mod:`hub.web.outbox`), so every socket it goes to shares it.
    """

    __slots__ = ("text", "wire")

    def __init__(self, text: str) -> None:
        self.text = text
        self.wire: bytes | None = None


def encode_event(channel: str, seq: int, event: str, data: dict[str, Any], at: str) -> Frame:
    return Frame(
        json.dumps(
            {
                "type": "event",
                "channel": channel,
                "seq": seq,
                "event": event,
                "data": data,
                "at": at,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
    )
