"""Declarative message shapes and their validation, free of I/O.

A :class:`Shape` lists the fields of one message body; :func:`validate` turns
untrusted JSON into a dict of checked, converted values or raises
:class:`~hub.domain.errors.BadRequest` naming the first field at fault, and
nothing else, whatever the input. The REST routes (bodies and query
parameters) and the socket protocol share these shapes, so a field means the
same thing on both transports. Unknown fields are ignored, so that newer
clients can talk to older hubs.

What every field gets, beyond its kind:

- strings: valid Unicode scalar values (a lone surrogate, which a ``\\ud800``
  escape decodes to, cannot be encoded back to UTF-8) and no NUL, also
  inside ``any`` values and their keys;
- integers: a range the database holds (:data:`INT32_MAX` unless the field
  says otherwise); ``in_query`` fields also read decimal text;
- times: :func:`~hub.wire.times.parse_time`; ids: a UUID, made canonical;
- ``null``: read as absent, unless the field says ``refuse_null``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

from hub.domain.errors import BadRequest
from hub.wire.jsontext import MAX_DEPTH
from hub.wire.times import format_time as format_time
from hub.wire.times import parse_time as parse_time

Kind = Literal["str", "int", "bool", "time", "id", "email", "channel", "key", "any"]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # SQL INTEGER
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # SQL BIGINT

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CHANNEL = re.compile(r"(calendar|user):[0-9a-f-]{36}")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DECIMAL = re.compile(r"-?[0-9]{1,20}")


@dataclass(frozen=True)
class Field:
    """One field of a message body."""

    name: str
    kind: Kind
    required: bool = True
    min_length: int | None = None
    max_length: int | None = None
    # ``int`` fields: the range; unset ends are those of SQL INTEGER.
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    description: str = ""
    # JSON ``null`` is refused (bad_request) rather than read as "absent".
    refuse_null: bool = False
    # ``int`` fields: decimal text is read too, as a query parameter arrives.
    in_query: bool = False
    # Documentation only: the JSON Schema of a field checked further than its kind
    # says (an ``any`` list, a number read from a query string); replaces the generated one.
    schema: Mapping[str, Any] | None = dataclass_field(default=None, compare=False)

    @property
    def int_range(self) -> tuple[int, int]:
        """The values an ``int`` field takes, its ends included."""
        low = INT32_MIN if self.minimum is None else self.minimum
        high = INT32_MAX if self.maximum is None else self.maximum
        return low, high


@dataclass(frozen=True)
class Shape:
    """The fields of one message body."""

    fields: tuple[Field, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of a body of this shape (unknown fields are allowed)."""
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {f.name: field_schema(f) for f in self.fields},
        }
        required = [f.name for f in self.fields if f.required]
        if required:
            schema["required"] = required
        return schema


_KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "key": {"type": "string"},
    "int": {"type": "integer"},
    "bool": {"type": "boolean"},
    "time": {"type": "string", "format": "date-time"},
    "id": {"type": "string", "format": "uuid"},
    "email": {"type": "string", "format": "email", "maxLength": 320},
    "channel": {"type": "string", "pattern": f"^{_CHANNEL.pattern}$"},
    "any": {},
}


def field_schema(spec: Field) -> dict[str, Any]:
    """One field as JSON Schema (in the subset OpenAPI 3.0 shares), as :func:`validate` sees it."""
    if spec.schema is not None:
        schema = dict(spec.schema)
    else:
        schema = dict(_KIND_SCHEMAS[spec.kind])
        limits: dict[str, int | None] = {
            "minLength": spec.min_length,
            "maxLength": spec.max_length,
        }
        if spec.kind == "int":
            limits["minimum"], limits["maximum"] = spec.int_range
        schema.update({k: v for k, v in limits.items() if v is not None})
        if spec.choices:
            schema["enum"] = list(spec.choices)
    if spec.description:
        schema["description"] = spec.description
    return schema


def validate(shape: Shape, data: object) -> dict[str, Any]:
    """Check ``data`` against ``shape``; absent optional fields are left out.

    Raises:
        BadRequest: with ``details.field`` naming the first wrong field; nothing else.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise BadRequest("data must be a JSON object", field="data")
    checked: dict[str, Any] = {}
    for spec in shape.fields:
        value = data.get(spec.name)
        if value is None:
            if spec.refuse_null and spec.name in data:
                raise BadRequest(f"{spec.name} must not be null", field=spec.name)
            if spec.required:
                raise BadRequest(f"{spec.name} is required", field=spec.name)
            continue
        checked[spec.name] = _convert(spec, value)
    return checked


def _convert(spec: Field, value: object) -> Any:
    if spec.kind == "any":
        check_json_text(value, spec.name)
        return value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise BadRequest(f"{spec.name} must be true or false", field=spec.name)
        return value
    if spec.kind == "int":
        return _convert_int(spec, value)
    if not isinstance(value, str):
        raise BadRequest(f"{spec.name} must be a string", field=spec.name)
    check_text(value, spec.name)
    if spec.kind == "time":
        return parse_time(value, spec.name)
    if spec.kind == "id":
        return parse_id(value, spec.name)
    if spec.kind == "email":
        if len(value) > 320 or not _EMAIL.fullmatch(value):
            raise BadRequest(f"{spec.name} must be an email address", field=spec.name)
        return value
    if spec.kind == "channel":
        return parse_channel(value, spec.name)
    return _check_str(spec, value)


def _convert_int(spec: Field, value: object) -> int:
    if spec.in_query and isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise BadRequest(f"{spec.name} must be an integer", field=spec.name)
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{spec.name} must be an integer", field=spec.name)
    low, high = spec.int_range
    if value < low:
        raise BadRequest(f"{spec.name} must be at least {low}", field=spec.name)
    if value > high:
        raise BadRequest(f"{spec.name} must be at most {high}", field=spec.name)
    return value


def _check_str(spec: Field, value: str) -> str:
    if spec.min_length is not None and len(value.strip()) < spec.min_length:
        raise BadRequest(
            f"{spec.name} must have at least {spec.min_length} characters", field=spec.name
        )
    if spec.max_length is not None and len(value) > spec.max_length:
        raise BadRequest(
            f"{spec.name} must have at most {spec.max_length} characters", field=spec.name
        )
    if spec.choices and value not in spec.choices:
        raise BadRequest(f"{spec.name} must be one of {', '.join(spec.choices)}", field=spec.name)
    return value


def check_text(value: str, field: str) -> None:
    """Refuse a string that UTF-8 cannot carry (a lone surrogate) or that holds NUL.

    Raises:
        BadRequest: naming ``field``.
    """
    if not value.isascii():  # ASCII, the common case, holds no surrogate
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(
                f"{field} must be valid Unicode (it holds a lone surrogate)", field=field
            ) from None
    if "\x00" in value:
        raise BadRequest(f"{field} must not contain NUL characters", field=field)


def check_json_text(value: object, field: str) -> None:
    """:func:`check_text` on every string and key inside a JSON value, at most MAX_DEPTH deep.

    Raises:
        BadRequest: naming ``field``.
    """
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            check_text(item, field)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise BadRequest(f"{field} is nested deeper than {MAX_DEPTH} levels", field=field)
            if isinstance(item, dict):
                pending.extend((key, depth) for key in item)
                pending.extend((child, depth + 1) for child in item.values())
            else:
                pending.extend((child, depth + 1) for child in item)


def parse_id(value: str, field: str) -> str:
    """A UUID, in canonical lower-case form.

    Raises:
        BadRequest: naming ``field``.
    """
    if _CANONICAL_UUID.fullmatch(value):  # the common case, at a fraction of uuid.UUID's cost
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest(f"{field} must be a UUID", field=field) from None


def parse_channel(value: str, field: str) -> str:
    """``calendar:<uuid>`` or ``user:<uuid>``, with the id canonical.

    Raises:
        BadRequest: naming ``field``.
    """
    if not _CHANNEL.fullmatch(value):
        raise BadRequest(f"{field} must be calendar:<id> or user:<id>", field=field)
    kind, _, key = value.partition(":")
    return f"{kind}:{parse_id(key, field)}"
