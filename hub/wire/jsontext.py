"""Untrusted JSON text to Python values, with bounds, free of I/O.

``json.loads`` alone is not a safe boundary: it raises ``RecursionError``
(not ``ValueError``) at about 1,000 levels of nesting, accepts ``NaN`` and
``Infinity`` (not JSON, and ``json.dumps`` would send them back as such),
and turns a ``\\ud800`` escape into a lone surrogate that no UTF-8 encoder
accepts. :func:`decode` refuses the first two as
:class:`~hub.domain.errors.MalformedBody`; lone surrogates are refused field
by field by :mod:`hub.wire.schema`, which can name the field.

Limits:

- Nesting: at most :data:`MAX_DEPTH` (32) arrays and objects inside one
  another, counting the outermost. The deepest real message is 4 levels
  (envelope, ``data``, ``working_hours``, one range), so 32 leaves room for
  any client while staying far below the interpreter's recursion limit.
- Size: bounded before decoding, by the transport (``HUB_WS_MAX_BYTES``
  closes a socket with 1009, ``HUB_MAX_BODY_BYTES`` answers a REST body
  with 413), and again here by ``max_chars`` for callers without one.
- Integers: Python refuses more than 4,300 digits (``ValueError``, so
  "not valid JSON"); field limits are :mod:`hub.wire.schema`'s job.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from hub.domain.errors import BadRequest, MalformedBody

MAX_DEPTH = 32
DEFAULT_MAX_CHARS = 4 << 20

# A JSON string (escapes included) or one bracket. In valid JSON a quote
# outside a string always opens one, so scanning strings and brackets left
# to right sees exactly the brackets the parser will see.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def _refuse_constant(name: str) -> Any:
    raise MalformedBody(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise MalformedBody("a number in the JSON text is too large")
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def decode(text: str | bytes, max_chars: int = DEFAULT_MAX_CHARS) -> Any:
    """One JSON value from untrusted text.

    Bytes must be UTF-8 (a leading byte order mark is skipped), as RFC 8259
    asks of JSON exchanged between systems.

    Raises:
        MalformedBody: not UTF-8, not JSON, nested deeper than
            :data:`MAX_DEPTH`, longer than ``max_chars``, or a number that
            is not finite. Nothing else, whatever the input.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MalformedBody("the JSON text is not valid UTF-8") from None
    if len(text) > max_chars:
        raise MalformedBody(f"the JSON text is longer than {max_chars} characters")
    check_depth(text)
    try:
        return _DECODER.decode(text)
    except ValueError:  # JSONDecodeError, and int() past 4,300 digits
        raise MalformedBody("the text is not valid JSON") from None


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    """Refuse text whose arrays and objects nest deeper than ``limit``, before decoding it.

    Raises:
        MalformedBody: nested too deep.
    """
    # Fewer brackets than the limit cannot nest past it: the common case, two
    # C-speed counts. Brackets inside strings only send a frame to the scan.
    if text.count("[") + text.count("{") <= limit:
        return
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token == "[" or token == "{":
            depth += 1
            if depth > limit:
                raise MalformedBody(f"the JSON text nests deeper than {limit} levels")
        elif token == "]" or token == "}":
            depth -= 1


def decode_object(raw: str | bytes, max_chars: int = DEFAULT_MAX_CHARS) -> dict[str, Any]:
    """A REST body: a JSON object, or ``{}`` when the body is empty.

    Raises:
        MalformedBody: as :func:`decode` (HTTP 400).
        BadRequest: JSON, but not an object (HTTP 422, ``details.field`` = ``body``).
    """
    if not raw.strip():
        return {}
    value = decode(raw, max_chars)
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object", field="body")
    return value
