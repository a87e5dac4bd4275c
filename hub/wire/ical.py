"""Calendar feeds: appointments as an RFC 5545 calendar, built with icalendar, free of I/O.

One ``VEVENT`` per appointment, in start order, with ``UID`` = ``<id>@<host>``
(stable, so a calendar app updates an event instead of adding one),
``DTSTART``/``DTEND`` in UTC, ``SUMMARY``, ``DESCRIPTION`` when there are
notes, ``STATUS`` from the appointment's status, ``SEQUENCE`` = version - 1,
``CREATED`` and ``LAST-MODIFIED``. ``DTSTAMP`` is ``updated_at``: without a
``METHOD`` RFC 5545 §3.8.7.2 makes it the time the event last changed, and
a body that depends only on the appointments lets the server answer 304.

The calendar carries ``VERSION``, ``PRODID``, ``CALSCALE:GREGORIAN``, its
name twice (RFC 7986 ``NAME`` and the ``X-WR-CALNAME`` that Apple Calendar,
Google Calendar and Outlook read) and a refresh hint twice (RFC 7986
``REFRESH-INTERVAL`` and the ``X-PUBLISHED-TTL`` that Apple Calendar and
Outlook honour). The same input always renders to the same bytes.

Text never goes through string formatting: icalendar escapes commas,
semicolons, backslashes and newlines and folds long lines at 75 octets
without splitting a UTF-8 sequence. Control characters other than tab and
newline are not allowed in iCalendar text (RFC 5545 §3.3.11), so they are
dropped; CR LF and CR become LF.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vDuration

PRODID = "-//Realtime Scheduling Hub//hub feed//EN"
REFRESH = timedelta(hours=1)
_STATUS = {
    "pending": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "completed": "CONFIRMED",
    "cancelled": "CANCELLED",
    "no_show": "CANCELLED",
}
_NEWLINES = re.compile(r"\r\n?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class FeedEvent:
    """One appointment as a feed shows it; datetimes are aware, in any zone."""

    id: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    description: str
    status: str  # pending | confirmed | cancelled | completed | no_show
    version: int
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        if self.status not in _STATUS:
            raise ValueError(f"unknown appointment status {self.status!r}")
        if self.version < 1:
            raise ValueError("version starts at 1")
        for stamp in (self.starts_at, self.ends_at, self.created_at, self.updated_at):
            if stamp.tzinfo is None:
                raise ValueError("feed times must be timezone-aware")


def render_feed(
    events: Sequence[FeedEvent], *, host: str, name: str, refresh: timedelta = REFRESH
) -> bytes:
    """The feed as ``text/calendar`` bytes (UTF-8, CRLF line ends), events in start order."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.calendar_name = _clean(name)
    # RFC 7986 gives REFRESH-INTERVAL no default value type, so VALUE=DURATION is required.
    calendar.add("refresh-interval", vDuration(refresh), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(refresh))
    for event in sorted(events, key=lambda e: (_utc(e.starts_at), _utc(e.ends_at), e.id)):
        calendar.add_component(_vevent(event, host))
    body: bytes = calendar.to_ical()
    return body


def _vevent(event: FeedEvent, host: str) -> Event:
    vevent = Event()
    vevent.add("uid", f"{event.id}@{host}")
    vevent.add("dtstamp", _utc(event.updated_at))
    vevent.add("dtstart", _utc(event.starts_at))
    vevent.add("dtend", _utc(event.ends_at))
    vevent.add("summary", _clean(event.summary))
    if description := _clean(event.description):
        vevent.add("description", description)
    vevent.add("status", _STATUS[event.status])
    vevent.add("sequence", event.version - 1)
    vevent.add("created", _utc(event.created_at))
    vevent.add("last-modified", _utc(event.updated_at))
    return vevent


def _utc(moment: datetime) -> datetime:
    """UTC to the second: iCalendar times have no fractions, so render them as ``…Z``."""
    return moment.astimezone(UTC).replace(microsecond=0)


def _clean(text: str) -> str:
    return _CONTROLS.sub("", _NEWLINES.sub("\n", text))
