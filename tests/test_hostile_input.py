"""The parsing boundary (issue 11): whatever the input, a bad_request and nothing else.

Unit level: ``parse_frame`` for socket frames, ``validate`` and
``decode_object`` for REST bodies and query parameters. Each case here
raised something other than a protocol error, or accepted what the protocol
refuses, before issue 11.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.errors import BadRequest, MalformedBody
from hub.wire.jsontext import MAX_DEPTH, check_depth, decode, decode_object
from hub.wire.messages import MESSAGES
from hub.wire.protocol import MAX_INT_ID, FrameError, encode_error, parse_frame, peek_id
from hub.wire.schema import INT32_MAX, INT64_MAX, Field, Shape, validate
from hub.wire.times import parse_time

CALENDAR_ID = "5b0c1f8e-6a0d-4f3e-9a53-2b1d7c4e8f10"
SURROGATE = "\ud800"
# A lone surrogate as it arrives on the wire: the JSON escape, in plain ASCII text.
ESCAPED_SURROGATE = "\\ud800"

# The REST shapes of sign-up, login and profile, field for field (hub/web/rest_auth.py).
REGISTER = Shape(
    (
        Field("email", "email"),
        Field("password", "str", min_length=8, max_length=1024),
        Field("full_name", "str", min_length=1, max_length=200),
    )
)
PROFILE = Shape(
    (
        Field("full_name", "str", required=False, min_length=1, max_length=200),
        Field("password", "str", required=False, min_length=8, max_length=1024, refuse_null=True),
    )
)


def frame(kind: str, data: dict[str, Any] | None = None, request_id: Any = "r1") -> str:
    message: dict[str, Any] = {"type": kind, "id": request_id}
    if data is not None:
        message["data"] = data
    return json.dumps(message)


def booking(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "calendar_id": CALENDAR_ID,
        "starts_at": "2030-03-04T09:00:00Z",
        "ends_at": "2030-03-04T09:30:00Z",
        "title": "Check-up",
    }
    data.update(changes)
    return data


def refused(text: str) -> FrameError:
    """The FrameError parse_frame raises for ``text``, once its answer is known to encode."""
    with pytest.raises(FrameError) as caught:
        parse_frame(text)
    encode_error(caught.value.request_id, caught.value).encode("utf-8")
    return caught.value


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# Lone surrogates


def test_lone_surrogate_id_is_answered_without_id() -> None:
    """{"type":"ping","id":"\\ud800"} is a bad_request with no id (it wedged the session)."""
    error = refused('{"type":"ping","id":"' + ESCAPED_SURROGATE + '"}')
    assert (error.request_id, error.field) == (None, "id")


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("appointment.create", booking(title=SURROGATE), "title"),
        ("appointment.create", booking(notes="ok " + SURROGATE), "notes"),
        ("appointment.create", booking(idempotency_key=SURROGATE), "idempotency_key"),
        ("auth.refresh", {"token": "eyJ" + SURROGATE}, "token"),
        ("hello", {"token": SURROGATE}, "token"),
        ("users.list", {"query": SURROGATE}, "query"),
        ("appointment.create", booking(calendar_id=SURROGATE), "calendar_id"),
        ("appointment.create", booking(starts_at="2030-03-04T09:00:00Z" + SURROGATE), "starts_at"),
        ("subscribe", {"channel": "calendar:" + SURROGATE}, "channel"),
    ],
)
def test_lone_surrogate_in_a_string_field_names_the_field(
    kind: str, data: dict[str, Any], field: str
) -> None:
    """A lone surrogate in any string field is bad_request naming that field, id kept."""
    error = refused(frame(kind, data))  # json.dumps escapes it as \ud800, as a client would
    assert (error.request_id, error.field) == ("r1", field)


def test_lone_surrogate_inside_an_any_field_is_refused() -> None:
    """Strings and keys inside a free-form value (working_hours) are checked too."""
    hours = [{"weekday": 0, "start": "09:00", "end": "17:00", SURROGATE: 1}]
    data = {"name": "Room", "timezone": "UTC", "working_hours": hours}
    assert refused(frame("calendar.create", data)).field == "working_hours"
    hours = [{"weekday": 0, "start": SURROGATE, "end": "17:00"}]
    data["working_hours"] = hours
    assert refused(frame("calendar.create", data)).field == "working_hours"


@pytest.mark.parametrize("field", ["email", "password", "full_name"])
def test_lone_surrogate_in_rest_sign_up_fields(field: str) -> None:
    """Sign-up, login and profile bodies refuse a lone surrogate with bad_request naming it."""
    body = {"email": "ada@example.test", "password": "correct horse", "full_name": "Ada"}
    body[field] = ("x" if field != "email" else "ada@exa") + SURROGATE + "mple.test"
    with pytest.raises(BadRequest) as caught:
        validate(REGISTER, decode_object(json.dumps(body).encode()))
    assert caught.value.field == field


def test_raw_utf8_encoded_surrogate_in_a_body_is_malformed() -> None:
    """Bytes that encode a surrogate (ED A0 80) are not UTF-8: 400, not a string to store."""
    with pytest.raises(MalformedBody):
        decode_object(b'{"full_name": "\xed\xa0\x80"}')


def test_nul_is_refused_in_every_string_kind() -> None:
    """NUL, which PostgreSQL text cannot hold, is refused in ids and times too."""
    assert refused(frame("appointment.create", booking(starts_at="2030\x00"))).field == "starts_at"
    assert refused(frame("hello", {"token": "a\x00b"})).field == "token"


# Nesting depth


@pytest.mark.parametrize("depth", [1_000, 5_000, 100_000])
def test_deep_data_is_bad_request_not_recursion_error(depth: int) -> None:
    """data nested 1,000+ deep raised RecursionError (1006 and a traceback per frame)."""
    error = refused('{"type":"ping","id":"r1","data":' + nested(depth) + "}")
    assert error.code == "bad_request"


@pytest.mark.parametrize("body", [nested(5_000), '{"a":' * 5_000 + "1" + "}" * 5_000])
def test_deep_rest_body_is_400_not_500(body: str) -> None:
    """A 5,000-deep REST body is MalformedBody (400), not a RecursionError (500)."""
    with pytest.raises(MalformedBody) as caught:
        decode_object(body.encode())
    assert caught.value.status == 400


def test_depth_limit_is_exact_and_ignores_brackets_in_strings() -> None:
    """MAX_DEPTH levels decode, one more is refused; brackets inside strings do not count."""
    assert decode(nested(MAX_DEPTH)) is not None
    with pytest.raises(MalformedBody):
        check_depth(nested(MAX_DEPTH + 1))
    notes = '[{"\\"[' * 40
    assert parse_frame(frame("appointment.create", booking(notes=notes))).data["notes"] == notes


def test_deep_any_value_from_code_is_refused_by_validate() -> None:
    """validate itself bounds a free-form value, for callers that did not decode with bounds."""
    value: Any = []
    for _ in range(5_000):
        value = [value]
    with pytest.raises(BadRequest) as caught:
        validate(Shape((Field("working_hours", "any"),)), {"working_hours": value})
    assert caught.value.field == "working_hours"


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_numbers_are_not_json(text: str) -> None:
    """NaN, Infinity and overflowing floats are refused (json.dumps would echo them as non-JSON)."""
    refused('{"type":"ping","id":"r1","data":{"x":' + text + "}}")


def test_huge_integer_literal_is_bad_request() -> None:
    """A 5,000-digit number (past Python's int limit) is bad_request, not a ValueError."""
    refused('{"type":"ping","id":' + "9" * 5_000 + "}")


def test_peek_id_survives_hostile_frames() -> None:
    """The id of a frame refused unread (rate-limited) is read without raising."""
    assert peek_id('{"id":"r9","data":' + nested(5_000) + "}") is None
    assert peek_id('{"id":"' + ESCAPED_SURROGATE + '"}') is None
    assert peek_id('{"id": 12, "type": 3}') == 12


# Times


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00Z",
        "1899-12-31T23:59:59Z",
        "1900-01-01T00:30:00+01:00",
        "3000-01-01T00:00:00Z",
        "2999-12-31T23:59:59-00:01",
    ],
)
def test_times_outside_1900_to_2999_utc_are_bad_request(text: str) -> None:
    """Times near year 1 or 9999 raised OverflowError; outside the range is bad_request."""
    data = {"calendar_id": CALENDAR_ID, "from": text, "to": text, "duration_minutes": 30}
    assert refused(frame("availability.get", data)).field == "from"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1900-01-01T00:00:00Z", datetime(1900, 1, 1, tzinfo=UTC)),
        ("1899-12-31T23:00:00-01:00", datetime(1900, 1, 1, tzinfo=UTC)),
        ("2999-12-31T23:59:59.999999Z", datetime(2999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
        ("3000-01-01T00:59:59+01:00", datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_range_ends_are_accepted(text: str, expected: datetime) -> None:
    """The first and last instants of the range parse, whatever the offset."""
    assert parse_time(text, "t") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-03-04t09:00:00z", datetime(2030, 3, 4, 9, tzinfo=UTC)),
        ("2030-03-04T09:00:00+23:59", datetime(2030, 3, 3, 9, 1, tzinfo=UTC)),
        ("2030-03-04T09:00:00-23:59", datetime(2030, 3, 5, 8, 59, tzinfo=UTC)),
        ("2030-03-04T09:00:00-00:00", datetime(2030, 3, 4, 9, tzinfo=UTC)),
        ("2030-03-04T09:00:00.123456789012345Z", datetime(2030, 3, 4, 9, 0, 0, 123456, tzinfo=UTC)),
        ("2030-03-04T09:00:00.9999999Z", datetime(2030, 3, 4, 9, 0, 0, 999999, tzinfo=UTC)),
        ("2030-03-04T09:00:00.5Z", datetime(2030, 3, 4, 9, 0, 0, 500000, tzinfo=UTC)),
        ("2028-02-29T00:00:00Z", datetime(2028, 2, 29, tzinfo=UTC)),
        ("1998-12-31T23:59:60Z", datetime(1998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("1998-12-31T15:59:60.123-08:00", datetime(1998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2016-12-31T23:59:60z", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_rfc3339_times_are_read_as_the_rfc_says(text: str, expected: datetime) -> None:
    """t/z, offsets to ±23:59, long fractions (truncated), leap seconds (last microsecond)."""
    parsed = parse_time(text, "t")
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2030-03-04 09:00:00Z",  # a space, not T
        "2030-03-04T09:00:00+10:60",  # offset minutes past 59 (was read as +11:00)
        "2030-03-04T09:00:00+24:00",
        "2030-03-04T09:00:00",  # no offset
        "2030-03-04T09:00Z",  # no seconds
        "2030-03-04T09:00:00.Z",  # a dot and no digits
        "2030-02-30T09:00:00Z",  # no such day
        "2030-02-29T09:00:00Z",
        "2030-13-01T09:00:00Z",
        "2030-03-04T24:00:00Z",
        "2030-03-04T09:60:00Z",
        "2030-03-04T09:00:61Z",
        "1998-12-31T23:58:60Z",  # a leap second, but not at 23:59 UTC
        "1998-12-31T23:59:60+01:00",
        "0000-01-01T00:00:00Z",
        "２０３０-03-04T09:00:00Z",  # fullwidth digits, which int() would read
        "٢٠٣٠-03-04T09:00:00Z",  # Arabic-Indic digits
        "2030-03-04T09:00:00Z\n",
        " 2030-03-04T09:00:00Z",
        "2030-W10-1T09:00:00Z",
        "20300304T090000Z",
    ],
)
def test_non_rfc3339_times_are_bad_request(text: str) -> None:
    """Anything the RFC's grammar or the calendar refuses is bad_request naming the field."""
    with pytest.raises(BadRequest) as caught:
        parse_time(text, "starts_at")
    assert caught.value.field == "starts_at"
    assert refused(frame("appointment.create", booking(starts_at=text))).field == "starts_at"


def test_rest_query_times_go_through_the_same_boundary() -> None:
    """The REST list query (from/to as text) refuses an overflowing time with bad_request."""
    query = Shape((Field("from", "time", required=False), Field("to", "time", required=False)))
    with pytest.raises(BadRequest) as caught:
        validate(query, {"from": "0001-01-01T00:00:00+14:00"})
    assert caught.value.field == "from"


# Integers


def test_every_integer_field_has_the_databases_range() -> None:
    """Each declared int field has a maximum within BIGINT, and its JSON Schema says so."""
    for message in MESSAGES.values():
        for spec in message.shape.fields:
            if spec.kind == "int":
                assert spec.maximum is not None, (message.type, spec.name)
                assert spec.maximum <= INT64_MAX
                schema = message.shape.json_schema()["properties"][spec.name]
                assert schema["maximum"] == spec.maximum, (message.type, spec.name)


@pytest.mark.parametrize(
    ("kind", "data", "field", "largest"),
    [
        ("appointment.update", {"appointment_id": CALENDAR_ID}, "version", INT32_MAX),
        ("appointment.cancel", {"appointment_id": CALENDAR_ID}, "version", INT32_MAX),
        ("subscribe", {"channel": "calendar:" + CALENDAR_ID}, "since", INT64_MAX),
    ],
)
def test_integer_fields_stop_at_the_column_type(
    kind: str, data: dict[str, Any], field: str, largest: int
) -> None:
    """version fits an INTEGER and since a BIGINT; one more is bad_request."""
    assert parse_frame(frame(kind, {**data, field: largest})).data[field] == largest
    assert refused(frame(kind, {**data, field: largest + 1})).field == field
    assert refused(frame(kind, {**data, field: 10**30})).field == field


def test_undeclared_int_maximum_defaults_to_integer_column() -> None:
    """An int field declared without a range still stops at SQL INTEGER's."""
    shape = Shape((Field("count", "int"),))
    assert validate(shape, {"count": INT32_MAX}) == {"count": INT32_MAX}
    with pytest.raises(BadRequest):
        validate(shape, {"count": INT32_MAX + 1})
    with pytest.raises(BadRequest):
        validate(shape, {"count": -(2**31) - 1})


@pytest.mark.parametrize("request_id", [MAX_INT_ID + 1, -MAX_INT_ID - 1, 10**40])
def test_integer_id_outside_json_safe_range_is_answered_without_id(request_id: int) -> None:
    """An integer id beyond ±(2^53-1) cannot be echoed exactly: bad_request without id."""
    error = refused(frame("ping", request_id=request_id))
    assert (error.request_id, error.field) == (None, "id")


def test_integer_ids_at_the_edges_are_echoed() -> None:
    """±(2^53-1) are usable ids."""
    assert parse_frame(frame("ping", request_id=MAX_INT_ID)).id == MAX_INT_ID
    assert parse_frame(frame("ping", request_id=-MAX_INT_ID)).id == -MAX_INT_ID


def test_query_string_integer_is_read_and_bounded() -> None:
    """A query parameter ?version=… reads as an integer, and 13 digits get a range error."""
    shape = Shape((Field("version", "int", minimum=1, maximum=INT32_MAX, in_query=True),))
    assert validate(shape, {"version": "12"}) == {"version": 12}
    assert shape.json_schema()["properties"]["version"]["maximum"] == INT32_MAX
    for text in ["1234567890123", "0", "-3", "+3", "1.0", "", "٣", "9" * 5_000]:
        with pytest.raises(BadRequest) as caught:
            validate(shape, {"version": text})
        assert caught.value.field == "version"


# null


def test_refuse_null_makes_null_a_bad_request() -> None:
    """PATCH users/me {"password": null} is refused; absent is still fine."""
    with pytest.raises(BadRequest) as caught:
        validate(PROFILE, {"password": None})
    assert caught.value.field == "password"
    assert validate(PROFILE, {"full_name": None}) == {}
    assert validate(PROFILE, {}) == {}


# Whatever the frame


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)
FIELD_NAMES = sorted({f.name for m in MESSAGES.values() for f in m.shape.fields})
HOSTILE_TEXT = st.sampled_from(
    [
        ESCAPED_SURROGATE,
        "\\udfff",
        "NaN",
        "1e999",
        nested(2_000),
        "9" * 4_400,
        '"0001-01-01T00:00:00+14:00"',
        '"9999-12-31T23:59:59-14:00"',
        '"2030-03-04T09:00:00+10:60"',
    ]
)


@st.composite
def hostile_frames(draw: st.DrawFn) -> str:
    """A frame of a declared type, some field values JSON, some raw hostile text."""
    kind = draw(st.sampled_from(sorted(MESSAGES)))
    names = draw(st.lists(st.sampled_from(FIELD_NAMES), max_size=5, unique=True))
    parts = []
    for name in names:
        if draw(st.booleans()):
            parts.append(json.dumps(name) + ":" + draw(HOSTILE_TEXT))
        else:
            parts.append(json.dumps(name) + ":" + json.dumps(draw(JSON_VALUES)))
    request_id = draw(st.sampled_from(['"r1"', "7", '"' + ESCAPED_SURROGATE + '"', "1e400"]))
    return f'{{"type":"{kind}","id":{request_id},"data":{{{",".join(parts)}}}}}'


@settings(max_examples=400, deadline=None)
@given(text=hostile_frames() | st.text(max_size=300))
def test_parse_frame_raises_only_frame_errors_that_encode(text: str) -> None:
    """Any frame gives a Request or a FrameError whose answer encodes to UTF-8."""
    try:
        request = parse_frame(text)
    except FrameError as exc:
        encode_error(exc.request_id, exc).encode("utf-8")
        return
    json.dumps({"id": request.id}, ensure_ascii=False).encode("utf-8")
