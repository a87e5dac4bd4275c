"""RFC 3339 times in and out, exactly as PROTOCOL.md ("Booking") says, free of I/O.

In: ``date-time`` of RFC 3339 section 5.6 with an offset or ``Z``; ``T`` or
``t`` between date and time (not a space); offsets within ±23:59; any number
of fraction digits, kept to the microsecond (truncated, so a time never
moves into the next second); a leap second ``:60`` where the RFC allows one
(23:59:60 UTC, as JSON Schema's ``date-time`` reads it), read as the last
microsecond of that minute. Between 1900-01-01 and 2999-12-31 UTC, so that
no later ``datetime`` arithmetic (a margin, a time zone, a week) can
overflow. Out: UTC with ``Z``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hub.domain.errors import BadRequest

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)

# The RFC's grammar with its ranges (hour 00-23, minute 00-59, second 00-60,
# offset within ±23:59) in ASCII digits (``\d`` would take other scripts'
# digits, which int() reads); the one group is a leap second.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|(60))"
    r"(?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
_HINT = "an RFC 3339 time with an offset, e.g. 2026-11-24T09:00:00Z"


def parse_time(value: str, field: str) -> datetime:
    """An RFC 3339 time with an offset, as an aware UTC datetime.

    Raises:
        BadRequest: naming ``field``, for anything else, whatever the text.
    """
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise BadRequest(f"{field} must be {_HINT}", field=field)
    # A local year within a day of the range cannot overflow the arithmetic below.
    if not EARLIEST.year - 1 <= int(value[:4]) <= LATEST.year + 1:
        raise _out_of_range(field)
    leap = match.group(1) is not None
    text = value.upper()  # fromisoformat takes neither "t" nor "z"
    if leap:
        text = text[:17] + "59" + text[19:]
    try:  # the grammar is checked: what is left is the calendar (no 30 February)
        local = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{field} is not a valid date and time", field=field) from None
    utc = local.astimezone(UTC)
    if leap:
        if (utc.hour, utc.minute) != (23, 59):
            raise BadRequest(f"{field} has a leap second outside 23:59:60 UTC", field=field)
        utc = utc.replace(microsecond=999_999)
    if not EARLIEST <= utc <= LATEST:
        raise _out_of_range(field)
    return utc


def _out_of_range(field: str) -> BadRequest:
    return BadRequest(f"{field} must be between 1900-01-01 and 2999-12-31 UTC", field=field)


def format_time(value: datetime) -> str:
    """UTC with ``Z``, as the hub always answers."""
    text = value.astimezone(UTC).isoformat(timespec="microseconds")
    text = text.replace(".000000", "")
    return text.replace("+00:00", "Z")
