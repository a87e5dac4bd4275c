"""The wire protocol (PROTOCOL.md, version 1), free of I/O.

Against the declarations in :mod:`hub.wire.messages`, :func:`parse_frame`
turns a text frame into a :class:`Request` or raises :class:`FrameError` (a
``bad_request``), and nothing else, whatever the text: the JSON is decoded
with bounds (:mod:`hub.wire.jsontext`) and every field checked
(:mod:`hub.wire.schema`). The ``encode_*`` functions build the frames the
server sends. The session module does the socket work; the services know
neither.

A frame's ``id`` is echoed in its answer, so it must survive the trip back:
a string of at most :data:`MAX_ID_LENGTH` valid Unicode characters, or an
integer within ±(2**53 - 1), the integers every JSON client reads exactly.
A frame whose id is anything else is answered without an id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from hub.domain.errors import BadRequest, HubError
from hub.wire import jsontext
from hub.wire.messages import MESSAGES
from hub.wire.schema import check_text, validate

PROTOCOL_VERSION = 1
MAX_ID_LENGTH = 200
MAX_INT_ID = 2**53 - 1
# parse_frame's own bound; the socket's HUB_WS_MAX_BYTES (1009) is far lower.
MAX_FRAME_CHARS = 1 << 20


class CloseCode(IntEnum):
    """Close codes; the comment says whether the client should reconnect."""

    UNSUPPORTED_DATA = 1003  # binary frame: a client bug, do not retry as is
    MESSAGE_TOO_BIG = 1009  # a client bug, do not retry as is
    SERVICE_RESTART = 1012  # reconnect (to any node) and resume with `since`
    UNAUTHORIZED = 4001  # stop: sign in again before reconnecting
    ROLE_CHANGED = 4003  # reconnect and say hello again: the new role decides
    SLOW_CONSUMER = 4008  # reconnect and resume with `since`
    RATE_LIMITED = 4029  # reconnect later, slower


@dataclass(frozen=True)
class Request:
    id: str | int | None
    type: str
    data: dict[str, Any]


class FrameError(BadRequest):
    """A frame that cannot be answered as a request; carries the id if one was read."""

    def __init__(self, message: str, field: str | None, request_id: str | int | None) -> None:
        super().__init__(message, field=field)
        self.request_id = request_id


def parse_frame(text: str) -> Request:
    """Parse and validate one text frame.

    Raises:
        FrameError: not a JSON object, no string ``type``, unknown type, or a
            bad field; ``request_id`` is set when the frame had a usable id.
            Nothing else, whatever the text.
    """
    try:
        message = jsontext.decode(text, MAX_FRAME_CHARS)
    except BadRequest as exc:
        raise FrameError(exc.message, None, None) from None
    if not isinstance(message, dict):
        raise FrameError("the message must be a JSON object", None, None)
    request_id = message.get("id")
    problem = _id_problem(request_id)
    if problem:
        raise FrameError(problem, "id", None)
    kind = message.get("type")
    if not isinstance(kind, str):
        raise FrameError("type must be a string", "type", request_id)
    declaration = MESSAGES.get(kind)
    if declaration is None:
        raise FrameError(f"unknown message type {kind[:50]!r}", "type", request_id)
    try:
        data = validate(declaration.shape, message.get("data"))
    except BadRequest as exc:
        raise FrameError(exc.message, exc.field, request_id) from None
    return Request(request_id, kind, data)


def _id_problem(request_id: object) -> str | None:
    """Why an id cannot be echoed, or None when it can."""
    if isinstance(request_id, str):
        if len(request_id) > MAX_ID_LENGTH:
            return f"id must have at most {MAX_ID_LENGTH} characters"
        try:
            check_text(request_id, "id")
        except BadRequest as exc:
            return exc.message
        return None
    if isinstance(request_id, int) and not isinstance(request_id, bool):
        if -MAX_INT_ID <= request_id <= MAX_INT_ID:
            return None
        return f"an integer id must be within ±{MAX_INT_ID}"
    return "id must be a string or an integer"


def peek_id(text: str) -> str | int | None:
    """The usable id of a frame that will not otherwise be parsed (one refused unread)."""
    try:
        message = jsontext.decode(text, MAX_FRAME_CHARS)
    except BadRequest:
        return None
    request_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(request_id, str | int) and _id_problem(request_id) is None:
        return request_id
    return None


def _dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def encode_ok(request_id: str | int | None, data: dict[str, Any]) -> str:
    return _dumps({"type": "ok", "id": request_id, "data": data})


def encode_error(request_id: str | int | None, error: HubError) -> str:
    frame: dict[str, Any] = {"type": "error"}
    if request_id is not None:
        frame["id"] = request_id
    frame["error"] = error.to_wire()
    return _dumps(frame)
