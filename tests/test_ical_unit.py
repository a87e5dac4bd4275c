"""Unit tests for hub.wire.ical: feeds read back by icalendar and by Mozilla's ical.js under Node."""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.wire.ical import PRODID, FeedEvent, render_feed

PARSE_ICS = Path(__file__).parent / "js" / "parse_ics.mjs"
HOST = "hub.example.org"
LONG_TITLE = "Physiotherapie: Rücken, Schulter; Nachsorge 💪 " * 5  # 230 characters
STATUSES = {
    "pending": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "completed": "CONFIRMED",
    "cancelled": "CANCELLED",
    "no_show": "CANCELLED",
}


def z(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def appointment(number: int, **fields: Any) -> FeedEvent:
    start = z(2027, 1, 4, 9) + timedelta(days=number)
    values: dict[str, Any] = {
        "id": f"0000000{number}-aaaa-bbbb-cccc-dddddddddddd",
        "starts_at": start,
        "ends_at": start + timedelta(minutes=45),
        "summary": f"Appointment {number}",
        "description": "",
        "status": "confirmed",
        "version": 1,
        "created_at": z(2026, 12, 1, 8, 0, number),
        "updated_at": z(2026, 12, 2, 8, 0, number),
    }
    values.update(fields)
    return FeedEvent(**values)


EVENTS = [
    appointment(
        0, status="pending", summary="Knee, left; week 1", description="Bring shoes, towel; water"
    ),
    appointment(1, status="confirmed", version=3, description="Line one\nLine two\\three"),
    appointment(2, status="completed", version=2, summary="Señora Núñez — café"),
    appointment(3, status="cancelled", version=4, summary="Cancelled 🙅 session"),
    appointment(4, status="no_show", version=2, summary=LONG_TITLE, description=LONG_TITLE),
]


def ical_js(body: bytes) -> dict[str, Any]:
    """The feed as Mozilla's ical.js reads it (tests/js/parse_ics.mjs)."""
    done = subprocess.run(
        ["node", str(PARSE_ICS)], input=body, capture_output=True, check=True, timeout=60
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_every_event_reads_back_the_same_in_icalendar() -> None:
    """UID, UTC times, STATUS, SEQUENCE, texts and stamps survive a parse by icalendar."""
    parsed = icalendar.Calendar.from_ical(render_feed(EVENTS, host=HOST, name="Dr Ana"))
    vevents = parsed.walk("VEVENT")
    assert len(vevents) == len(EVENTS)
    for vevent, event in zip(vevents, EVENTS, strict=True):
        assert vevent["UID"] == f"{event.id}@{HOST}"
        assert vevent.decoded("DTSTART") == event.starts_at
        assert vevent.decoded("DTSTART").tzinfo is not None
        assert vevent.decoded("DTSTART").utcoffset() == timedelta(0)
        assert vevent.decoded("DTEND") == event.ends_at
        assert vevent["STATUS"] == STATUSES[event.status]
        assert vevent.decoded("SEQUENCE") == event.version - 1
        assert vevent["SUMMARY"] == event.summary
        assert vevent.get("DESCRIPTION") == (event.description or None)
        assert vevent.decoded("DTSTAMP") == event.updated_at
        assert vevent.decoded("LAST-MODIFIED") == event.updated_at
        assert vevent.decoded("CREATED") == event.created_at


def test_every_event_reads_back_the_same_in_ical_js() -> None:
    """The same checks through a second, independent parser: Mozilla's ical.js under Node."""
    parsed = ical_js(render_feed(EVENTS, host=HOST, name="Dr Ana"))
    assert len(parsed["events"]) == len(EVENTS)
    for read, event in zip(parsed["events"], EVENTS, strict=True):
        assert read == {
            "uid": f"{event.id}@{HOST}",
            "start": iso(event.starts_at),
            "end": iso(event.ends_at),
            "start_zone": "UTC",
            "summary": event.summary,
            "description": event.description or None,
            "status": STATUSES[event.status],
            "sequence": event.version - 1,
            "dtstamp": iso(event.updated_at),
            "created": iso(event.created_at),
            "last_modified": iso(event.updated_at),
        }


def test_calendar_properties() -> None:
    """VERSION, PRODID, CALSCALE, the name and the refresh hints, as both parsers read them."""
    body = render_feed(EVENTS, host=HOST, name="Praxis Süd, Raum 2")
    parsed = icalendar.Calendar.from_ical(body)
    assert parsed["VERSION"] == "2.0"
    assert parsed["PRODID"] == PRODID
    assert parsed["CALSCALE"] == "GREGORIAN"
    assert parsed["X-WR-CALNAME"] == "Praxis Süd, Raum 2"
    assert parsed["NAME"] == "Praxis Süd, Raum 2"
    assert parsed["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert parsed.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    assert "METHOD" not in parsed  # without METHOD, DTSTAMP is the last change (RFC 5545)
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in body
    assert ical_js(body)["calendar"] == {
        "version": "2.0",
        "prodid": PRODID,
        "calscale": "GREGORIAN",
        "method": None,
        "name": "Praxis Süd, Raum 2",
        "x-wr-calname": "Praxis Süd, Raum 2",
        "refresh-interval": "PT1H",
        "refresh-interval-type": "duration",
        "x-published-ttl": "PT1H",
    }


def test_refresh_hint_follows_the_setting() -> None:
    """A 15-minute refresh is written as PT15M in both refresh properties."""
    body = render_feed([], host=HOST, name="N", refresh=timedelta(minutes=15))
    calendar = ical_js(body)["calendar"]
    assert (calendar["refresh-interval"], calendar["x-published-ttl"]) == ("PT15M", "PT15M")


def test_lines_are_folded_at_75_octets_with_crlf() -> None:
    """Every line ends in CRLF and holds at most 75 octets; folding keeps UTF-8 sequences whole."""
    body = render_feed(EVENTS, host=HOST, name="N")
    assert body.endswith(b"END:VCALENDAR\r\n")
    lines = body.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # the long title was folded
    for line in lines:
        line.decode("utf-8")  # no line ends inside a multi-octet character


def test_same_input_gives_the_same_bytes_in_start_order() -> None:
    """Rendering twice, or from shuffled input, gives identical bytes with events by start."""
    first = render_feed(EVENTS, host=HOST, name="N")
    shuffled = EVENTS[:]
    random.Random(7).shuffle(shuffled)
    assert render_feed(shuffled, host=HOST, name="N") == first
    assert render_feed(list(reversed(EVENTS)), host=HOST, name="N") == first
    starts = [e["start"] for e in ical_js(first)["events"]]
    assert starts == sorted(starts)


def test_changes_change_the_bytes() -> None:
    """A new version, status or title changes the body, so an ETag over it changes too."""
    first = render_feed(EVENTS, host=HOST, name="N")
    changed = [replace(EVENTS[0], version=2, updated_at=z(2026, 12, 3)), *EVENTS[1:]]
    assert render_feed(changed, host=HOST, name="N") != first
    assert (
        render_feed([replace(EVENTS[0], status="cancelled"), *EVENTS[1:]], host=HOST, name="N")
        != first
    )


def test_times_in_other_zones_are_written_in_utc_to_the_second() -> None:
    """An offset start becomes its UTC instant with Z; fractions of a second are dropped."""
    plus_two = timezone(timedelta(hours=2))
    event = appointment(
        0,
        starts_at=datetime(2027, 6, 1, 10, 0, 0, 999_999, tzinfo=plus_two),
        ends_at=datetime(2027, 6, 1, 11, 0, tzinfo=plus_two),
    )
    body = render_feed([event], host=HOST, name="N")
    assert b"\r\nDTSTART:20270601T080000Z\r\n" in body
    assert b"\r\nDTEND:20270601T090000Z\r\n" in body
    assert ical_js(body)["events"][0]["start"] == "2027-06-01T08:00:00.000Z"


def test_control_characters_are_dropped_and_newlines_kept() -> None:
    """CR LF and CR become LF; other control characters, invalid in iCalendar text, go."""
    event = appointment(0, summary="a\x00b\x07c\x1bd\x7f", description="one\r\ntwo\rthree\tfour")
    body = render_feed([event], host=HOST, name="N\x08ame")
    read = ical_js(body)
    assert read["events"][0]["summary"] == "abcd"
    assert read["events"][0]["description"] == "one\ntwo\nthree\tfour"
    assert read["calendar"]["x-wr-calname"] == "Name"


def test_empty_feed_is_a_valid_calendar() -> None:
    """A feed with no appointments still parses, with its properties and no events."""
    body = render_feed([], host=HOST, name="N")
    assert icalendar.Calendar.from_ical(body).walk("VEVENT") == []
    read = ical_js(body)
    assert read["events"] == []
    assert read["calendar"]["x-wr-calname"] == "N"


def test_bad_events_are_refused() -> None:
    """An unknown status, a version below 1 or a naive time is a programming error."""
    with pytest.raises(ValueError, match="status"):
        appointment(0, status="done")
    with pytest.raises(ValueError, match="version"):
        appointment(0, version=0)
    with pytest.raises(ValueError, match="aware"):
        appointment(0, starts_at=datetime(2027, 1, 1, 9))


# Any text a person can type: no surrogates, no control characters but tab and newline.
TYPED = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029")
    | st.sampled_from("\n\t,;:\\\"'"),
    max_size=250,
)


# Each example starts Node once (~0.25 s), so few examples with many events each.
@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(TYPED, TYPED), min_size=1, max_size=10))
def test_any_typed_text_round_trips_through_both_parsers(texts: list[tuple[str, str]]) -> None:
    """Titles and notes of any typed text come back unchanged from icalendar and ical.js."""
    events = [
        appointment(n, summary=summary, description=notes)
        for n, (summary, notes) in enumerate(texts)
    ]
    body = render_feed(events, host=HOST, name="N")
    from_js = ical_js(body)["events"]
    from_py = icalendar.Calendar.from_ical(body).walk("VEVENT")
    for event, read, vevent in zip(events, from_js, from_py, strict=True):
        assert read["summary"] == vevent["SUMMARY"] == event.summary
        assert read["description"] == (event.description or None)
        assert vevent.get("DESCRIPTION") == (event.description or None)
