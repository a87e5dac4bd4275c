"""Instants: the hub keeps and answers UTC, always aware."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """Aware UTC; a naive value (SQLite hands these back) is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """UTC with ``Z``, as the hub always answers."""
    text = value.astimezone(UTC).isoformat(timespec="microseconds")
    text = text.replace(".000000", "")
    return text.replace("+00:00", "Z")


def parse_wire_time(text: str) -> datetime:
    """A time the hub itself wrote (``format_time``), back to an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
