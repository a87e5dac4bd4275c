"""Structured logs: one JSON line per event worth an operator's attention.

Callers pass named fields; tokens and passwords are never among them, and
:func:`event` drops any field whose name says it is a secret, as a second
line of defence.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_logger = logging.getLogger("hub")
_SECRET_WORDS = ("token", "password", "secret", "authorization")


def setup(json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    _logger.handlers[:] = [handler]
    _logger.setLevel(logging.INFO)
    _logger.propagate = False
    _state["json"] = json_lines


_state: dict[str, bool] = {"json": True}


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with its fields."""
    safe = {k: v for k, v in fields.items() if not any(w in k.lower() for w in _SECRET_WORDS)}
    if _state["json"]:
        line = json.dumps({"ts": round(time.time(), 3), "event": name, **safe}, default=str)
    else:
        line = name + " " + " ".join(f"{k}={v}" for k, v in safe.items())
    _logger.log(level, line)


class Limited:
    """At most ``per_minute`` lines of one event a minute; the rest are counted.

    Whatever a client can provoke (an unexpected error on its request) must
    not let it flood the logs: the next line after a quiet spell says how
    many were left out.
    """

    def __init__(self, name: str, per_minute: int = 10) -> None:
        self.name = name
        self.per_minute = per_minute
        self._window = 0.0
        self._count = 0
        self._suppressed = 0

    def event(self, level: int = logging.ERROR, **fields: Any) -> None:
        current = time.monotonic()
        if current - self._window >= 60:
            self._window, self._count = current, 0
        if self._count >= self.per_minute:
            self._suppressed += 1
            return
        self._count += 1
        if self._suppressed:
            fields["suppressed_before"] = self._suppressed
            self._suppressed = 0
        event(self.name, level, **fields)
