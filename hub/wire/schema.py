"""Declarative message shapes and their validation, free of I/O.

A :class:`Shape` lists the fields of one message body; :func:`validate` turns
untrusted JSON into a dict of checked, converted values or raises
:class:`~hub.errors.BadRequest` naming the first field at fault. The REST
routes and the socket protocol share these shapes, so a field means the same
thing on both transports. Unknown fields are ignored, so that newer clients
can talk to older hubs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any, Literal

from hub.domain.errors import BadRequest

Kind = Literal["str", "int", "bool", "time", "id", "email", "channel", "key", "any"]

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CHANNEL = re.compile(r"^(calendar|user):[0-9a-f-]{36}$")


@dataclass(frozen=True)
class Field:
    """One field of a message body."""

    name: str
    kind: Kind
    required: bool = True
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    description: str = ""
    # Documentation only: the JSON Schema of a field checked further than its kind
    # says (an ``any`` list, a number read from a query string); replaces the generated one.
    schema: Mapping[str, Any] | None = dataclass_field(default=None, compare=False)


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
    "channel": {"type": "string", "pattern": _CHANNEL.pattern},
    "any": {},
}


def field_schema(spec: Field) -> dict[str, Any]:
    """One field as JSON Schema (in the subset OpenAPI 3.0 shares), as :func:`validate` sees it."""
    if spec.schema is not None:
        schema = dict(spec.schema)
    else:
        schema = dict(_KIND_SCHEMAS[spec.kind])
        limits = {
            "minLength": spec.min_length,
            "maxLength": spec.max_length,
            "minimum": spec.minimum,
            "maximum": spec.maximum,
        }
        schema.update({k: v for k, v in limits.items() if v is not None})
        if spec.choices:
            schema["enum"] = list(spec.choices)
    if spec.description:
        schema["description"] = spec.description
    return schema


def validate(shape: Shape, data: object) -> dict[str, Any]:
    """Check ``data`` against ``shape``; absent optional fields are left out.

    Raises:
        BadRequest: with ``details.field`` naming the first wrong field.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise BadRequest("data must be a JSON object", field="data")
    checked: dict[str, Any] = {}
    for spec in shape.fields:
        if spec.name not in data or data[spec.name] is None:
            if spec.required:
                raise BadRequest(f"{spec.name} is required", field=spec.name)
            continue
        checked[spec.name] = _convert(spec, data[spec.name])
    return checked


def _convert(spec: Field, value: object) -> Any:
    if spec.kind == "any":
        return value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise BadRequest(f"{spec.name} must be true or false", field=spec.name)
        return value
    if spec.kind == "int":
        return _convert_int(spec, value)
    if not isinstance(value, str):
        raise BadRequest(f"{spec.name} must be a string", field=spec.name)
    if spec.kind == "time":
        return parse_time(value, spec.name)
    if spec.kind == "id":
        return parse_id(value, spec.name)
    if spec.kind == "email":
        if len(value) > 320 or not _EMAIL.match(value) or "\x00" in value:
            raise BadRequest(f"{spec.name} must be an email address", field=spec.name)
        return value.strip()
    if spec.kind == "channel" and not _CHANNEL.match(value):
        raise BadRequest(f"{spec.name} must be calendar:<id> or user:<id>", field=spec.name)
    return _check_str(spec, value)


def _convert_int(spec: Field, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{spec.name} must be an integer", field=spec.name)
    if spec.minimum is not None and value < spec.minimum:
        raise BadRequest(f"{spec.name} must be at least {spec.minimum}", field=spec.name)
    if spec.maximum is not None and value > spec.maximum:
        raise BadRequest(f"{spec.name} must be at most {spec.maximum}", field=spec.name)
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
    if "\x00" in value:
        raise BadRequest(f"{spec.name} must not contain NUL characters", field=spec.name)
    return value


def parse_time(value: str, field: str) -> datetime:
    """An RFC 3339 time with an offset, as an aware UTC datetime."""
    if not _RFC3339.match(value):
        raise BadRequest(
            f"{field} must be an RFC 3339 time with an offset, e.g. 2026-11-24T09:00:00Z",
            field=field,
        )
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{field} is not a valid time", field=field) from None
    return parsed.astimezone(UTC)


def parse_id(value: str, field: str) -> str:
    """A UUID, in canonical lower-case form."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest(f"{field} must be a UUID", field=field) from None


def format_time(value: datetime) -> str:
    """UTC with ``Z``, as the hub always answers."""
    text = value.astimezone(UTC).isoformat(timespec="microseconds")
    text = text.replace(".000000", "")
    return text.replace("+00:00", "Z")
