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
