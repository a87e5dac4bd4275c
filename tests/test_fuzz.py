"""Hostile frames at live signed-in sessions, on both backends (issue 11).

Frames are built from the message declarations (``MESSAGES``): a declared
type with its fields, each given a valid value or a hostile one (lone
surrogates, huge and negative integers, deep nesting, extreme and malformed
times, wrong types, nulls, long strings), unknown fields beside them, and
some frames that are not objects at all. They go, pipelined in batches, to
an admin's or a user's socket, each with a fresh id the test expects back
(or with an id chosen to be unusable).

For every batch: exactly one answer per frame in order, carrying the frame's
id, or a ``bad_request`` without id where the id is unusable or the frame
is not a JSON object; never ``internal``; a close only with a code
PROTOCOL.md lists; and the socket answers ``ping`` afterwards.
``tests/bench/hostile.py`` runs the same generator for 50,000+ frames.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import count
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from hub.wire.messages import MESSAGES
from hub.wire.schema import Field
from tests.conftest import Backend, admin_account, make_calendar, sign_up
from tests.servers import HubServer
from tests.wsclient import HubClient, session

LISTED_CLOSES = {1003, 1009, 1012, 4001, 4003, 4008, 4029}  # PROTOCOL.md, "Close codes"
EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "300"))  # batches per backend in CI
BATCH = 20  # frames per batch, at most


@dataclass(frozen=True)
class Raw:
    """A value as JSON text; ``breaks_json`` when no bounded decoder takes the frame."""

    text: str
    breaks_json: bool = False


def raw(value: Any) -> Raw:
    return Raw(json.dumps(value, ensure_ascii=False))


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


SOON = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
PLAUSIBLE_TIMES = [
    (SOON + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ") for m in (0, 30, 60)
]
HOSTILE_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1900-01-01T00:00:00Z",
    "2999-12-31T23:59:59.999999Z",
    "1899-12-31T23:00:00-01:00",
    "1998-12-31T23:59:60Z",
    "2030-03-04T09:00:00.123456789012345678Z",
    "2030-03-04T09:00:00+10:60",
    "2030-03-04 09:00:00Z",
    "2030-02-30T09:00:00Z",
    "2030-03-04T09:00:00",
    "2030-03-04t09:00:00z",
]
HOSTILE = [
    Raw('"\\ud800"'),
    Raw('"x\\udfff y"'),
    Raw('"\\udc00\\ud800"'),
    Raw('"\\u0000"'),
    Raw('""'),
    Raw("null"),
    Raw("true"),
    Raw("1.5"),
    Raw("[]"),
    Raw("{}"),
    Raw(str(2**31)),
    Raw(str(2**63)),
    Raw(str(-(2**63) - 1)),
    Raw(str(10**30)),
    Raw(str(-(10**30))),
    Raw("-1"),
    Raw("0"),
    Raw("1e308"),
    Raw(nested(20)),
    Raw('"' + "x" * 5000 + '"'),
    Raw('"' + "é" * 3000 + '"'),
    *(raw(t) for t in HOSTILE_TIMES),
    Raw("1e999", breaks_json=True),
    Raw("NaN", breaks_json=True),
    Raw("-Infinity", breaks_json=True),
    Raw("9" * 5000, breaks_json=True),
    Raw(nested(40), breaks_json=True),
    Raw(nested(2000), breaks_json=True),
]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@dataclass
class Pool:
    """Ids of real things, so that frames reach the services and not only not_found."""

    ids: list[str] = field(default_factory=lambda: [str(uuid.uuid4())])


POOL = Pool()


VALID_EDGE_TIMES = [
    "1900-01-01T00:00:00Z",
    "2999-12-31T23:59:59.999999Z",
    "1899-12-31T23:00:00-01:00",
    "1998-12-31T23:59:60Z",
    "2030-03-04T09:00:00.123456789012Z",
    "2030-03-04t09:00:00-23:59",
]


def valid_values(spec: Field) -> st.SearchStrategy[Any]:
    """Values the field accepts, its limits and odd corners included."""
    if spec.choices:
        return st.sampled_from(spec.choices)
    if spec.kind == "int":
        low, high = spec.int_range
        return st.integers(low, high) | st.sampled_from([low, high, max(low, min(high, 30))])
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "time":
        any_time = st.builds(
            lambda d, minutes: d.astimezone(timezone(timedelta(minutes=minutes))).isoformat(),
            st.datetimes(datetime(1901, 1, 1), datetime(2998, 1, 1), timezones=st.just(UTC)),
            st.integers(-1439, 1439),
        )
        return st.sampled_from(PLAUSIBLE_TIMES + VALID_EDGE_TIMES) | any_time
    if spec.kind == "id":
        return st.sampled_from(POOL.ids) | st.uuids().map(str)
    if spec.kind == "channel":
        return st.tuples(st.sampled_from(["calendar", "user"]), st.sampled_from(POOL.ids)).map(
            ":".join
        )
    if spec.kind == "email":
        return st.emails().map(str)
    if spec.kind == "any":
        hours = st.fixed_dictionaries(
            {"weekday": st.integers(-1, 7), "start": st.sampled_from(["09:00", "25:00", "x"])},
            optional={"end": st.sampled_from(["17:00", "08:00", "24:00"])},
        )
        return st.lists(hours, max_size=3) | JSON
    if spec.name == "timezone":
        return st.sampled_from(["UTC", "Europe/Paris", "Mars/Olympus", "", "../etc"])
    low, high = spec.min_length or 0, min(spec.max_length or 50, 300)
    return st.text(min_size=low, max_size=high) | st.just("é" * high) | st.just("😀" * high)


def hostile_values(spec: Field) -> st.SearchStrategy[Raw]:
    too_long = Raw(json.dumps("x" * ((spec.max_length or 5000) + 1)))
    return st.sampled_from([*HOSTILE, too_long]) | JSON.map(raw)


def members(pairs: list[tuple[str, Raw]]) -> str:
    return "{" + ",".join(json.dumps(k) + ":" + v.text for k, v in pairs) + "}"


@dataclass(frozen=True)
class Frame:
    """A frame to send; ``bad_id`` is the id's JSON text when the id is unusable ("" for none)."""

    members: tuple[tuple[str, Raw], ...] = ()
    bad_id: str | None = None
    whole: str | None = None  # a frame that is not a JSON object at all

    def render(self, fresh_id: str | int) -> tuple[str, str | int | None]:
        """The text, and the id its answer must carry (None: a bad_request without id)."""
        if self.whole is not None:
            return self.whole, None
        pairs = list(self.members)
        if self.bad_id is None:
            pairs.insert(0, ("id", raw(fresh_id)))
        elif self.bad_id:
            pairs.insert(0, ("id", Raw(self.bad_id)))
        usable = self.bad_id is None and not any(v.breaks_json for _, v in self.members)
        return members(pairs), fresh_id if usable else None


BAD_IDS = ['"\\ud800"', '"' + "i" * 201 + '"', str(2**53), str(-(2**53)), "1.5", "null", "[]", ""]
EXTRA_NAMES = st.text(max_size=10).filter(lambda n: n not in ("id", "type", "data"))


@st.composite
def declared_frames(draw: st.DrawFn) -> Frame:
    """A declared type with its fields: all valid, one hostile, or hostile anywhere.

    Unknown fields (ignored by the hub) ride along in every mode.
    """
    message = MESSAGES[draw(st.sampled_from(sorted(MESSAGES)))]
    mode = draw(st.sampled_from(["valid", "valid", "one", "one", "one", "many"]))
    fields = [f for f in message.shape.fields if f.required or draw(st.booleans())]
    spoiled = {draw(st.sampled_from(["id", "type", "data", *(f.name for f in fields)]))}
    if mode == "many":
        spoiled = set(draw(st.lists(st.sampled_from(["id", "type", "data", *message.shape.names]))))
    if mode == "valid":
        spoiled = set()
    data = [
        (f.name, draw(hostile_values(f) if f.name in spoiled else valid_values(f).map(raw)))
        for f in fields
    ]
    extras = st.sampled_from([h for h in HOSTILE if not h.breaks_json]) | JSON.map(raw)
    data += draw(st.lists(st.tuples(EXTRA_NAMES, extras), max_size=2))
    data_text = Raw(members(data), any(v.breaks_json for _, v in data))
    if "data" in spoiled:
        data_text = draw(st.sampled_from(HOSTILE))
    kind = raw(message.type)
    if "type" in spoiled:
        kind = draw(st.sampled_from([raw("no.such"), Raw("7"), Raw("null"), Raw('"\\ud800"')]))
    top = [("type", kind), ("data", data_text)]
    top += draw(st.lists(st.tuples(EXTRA_NAMES, extras), max_size=1))
    bad_id = draw(st.sampled_from(BAD_IDS)) if "id" in spoiled else None
    return Frame(tuple(draw(st.permutations(top))), bad_id)


NOT_OBJECTS = (
    st.text(max_size=200).filter(lambda t: not t.lstrip().startswith("{"))
    | JSON.filter(lambda v: not isinstance(v, dict)).map(json.dumps)
    | st.sampled_from([nested(5000), '"\\ud800"', "NaN", "{" * 3000])
)
FRAMES = st.one_of(*[declared_frames()] * 9, NOT_OBJECTS.map(lambda t: Frame(whole=t)))
BATCHES = st.lists(FRAMES, min_size=1, max_size=BATCH)


@dataclass
class Tally:
    """Frames sent, answers by code, closes by code, and what broke the rules."""

    frames: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    closes: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


_ids = count(1)


def fresh_id() -> str | int:
    n = next(_ids)
    return n * 7 if n % 3 == 0 else f"fz{n}"


async def run_batch(client: HubClient, batch: list[Frame], tally: Tally) -> bool:
    """Send a batch pipelined, then a ping; check the answers. False when the socket closed."""
    sent = [frame.render(fresh_id()) for frame in batch]
    before = len(client.frames)
    try:
        for text, _ in sent:
            await client.send_raw(text)
            tally.frames += 1
        pong = await client.request("ping", timeout=30)
    except (ConnectionClosed, TimeoutError) as exc:
        code = await client.closed_with(timeout=5)
        tally.closes[code or 0] += 1
        if code not in LISTED_CLOSES:
            tally.problems.append(f"close {code} ({exc!r}) after {[t[:300] for t, _ in sent]}")
        return False
    received = [f for f in client.frames[before:] if f.get("type") != "event"]
    answers = received[: next(i for i, f in enumerate(received) if f is pong)]
    if len(answers) != len(sent):
        tally.problems.append(f"{len(sent)} frames, {len(answers)} answers: {answers}")
    for (text, expected), answer in zip(sent, answers, strict=False):
        code = answer["error"]["code"] if answer["type"] == "error" else answer["type"]
        tally.answers[code] += 1
        if code == "internal":
            tally.problems.append(f"internal for {text[:2000]}")
        if answer.get("id") != expected or (expected is None and code != "bad_request"):
            tally.problems.append(f"answer {answer} to {text[:300]} (expected id {expected!r})")
    if pong["type"] != "ok":
        tally.problems.append(f"ping answered {pong}")
    return True


@dataclass
class Target:
    """An admin's and a user's signed-in sockets on one hub, reopened after a listed close."""

    hub: HubServer
    tokens: dict[str, str]
    sockets: dict[str, HubClient] = field(default_factory=dict)
    total: Tally = field(default_factory=Tally)  # every batch so far

    async def socket(self, role: str) -> HubClient:
        if role not in self.sockets:
            self.sockets[role] = await session(self.hub.ws_url, self.tokens[role])
        return self.sockets[role]

    async def run(self, role: str, batch: list[Frame], tally: Tally) -> None:
        frames, problems = tally.frames, len(tally.problems)
        answers, closes = tally.answers.copy(), tally.closes.copy()
        if not await run_batch(await self.socket(role), batch, tally):
            await self.sockets.pop(role).close()
        self.total.frames += tally.frames - frames
        self.total.answers.update(tally.answers - answers)
        self.total.closes.update(tally.closes - closes)
        self.total.problems += tally.problems[problems:]

    async def close(self) -> None:
        for client in self.sockets.values():
            await client.close()


async def make_target(hub: HubServer, admin_token: str) -> Target:
    """Sockets for an admin and a user, a calendar, an appointment, and a bystander account."""
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as api:
        user = await sign_up(api, "fuzzuser")
        bystander = await sign_up(api, "bystander")  # user.update may demote or deactivate it
    target = Target(hub, {"admin": admin_token, "user": user.access_token})
    admin = await target.socket("admin")
    calendar = await make_calendar(admin)
    booked = await admin.ok(
        "appointment.create",
        {
            "calendar_id": calendar["id"],
            "starts_at": PLAUSIBLE_TIMES[0],
            "ends_at": PLAUSIBLE_TIMES[1],
            "title": "fuzz",
        },
    )
    POOL.ids[:] = [calendar["id"], booked["appointment"]["id"], bystander.id, str(uuid.uuid4())]
    return target


@pytest.fixture(scope="module")
async def target(backend: Backend, hub: HubServer) -> AsyncIterator[Target]:
    async with httpx.AsyncClient(base_url=hub.url, timeout=30) as api:
        admin = await admin_account(backend, hub, api)
    made = await make_target(hub, admin.access_token)
    yield made
    await made.close()


CALENDAR = str(uuid.uuid4())
# The frames issue 11 found breaking a session, every run.
ISSUE_11 = [
    Frame((("type", raw("ping")),), bad_id='"\\ud800"'),
    Frame((("type", raw("ping")), ("data", Raw(nested(1000), breaks_json=True)))),
    Frame(
        (
            ("type", raw("availability.get")),
            (
                "data",
                raw(
                    {
                        "calendar_id": CALENDAR,
                        "from": "0001-01-01T00:00:00+14:00",
                        "to": "9999-12-31T23:59:59-14:00",
                        "duration_minutes": 30,
                    }
                ),
            ),
        )
    ),
    Frame((("type", raw("auth.refresh")), ("data", Raw('{"token": "\\ud800"}')))),
    Frame((("type", raw("users.list")), ("data", Raw('{"query": "x\\udfff"}')))),
]


@example(batch=ISSUE_11, role="admin")
@example(batch=ISSUE_11, role="user")
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=BATCHES, role=st.sampled_from(["admin", "user"]))
async def test_hostile_frames_never_break_a_session(
    target: Target, batch: list[Frame], role: str
) -> None:
    """One answer per frame with its id (or bad_request without), never internal, ping after."""
    tally = Tally()
    await target.run(role, batch, tally)
    assert not tally.problems, tally.problems


async def test_fuzzed_hub_logged_no_internal_error(target: Target, hub: HubServer) -> None:
    """The fuzzing ran, and left the process healthy with no internal error or traceback logged."""
    assert target.total.frames >= EXAMPLES, target.total
    assert sum(target.total.answers.values()) >= EXAMPLES, target.total
    async with httpx.AsyncClient(base_url=hub.url) as api:
        assert (await api.get("/health/db")).status_code == 200
    log = hub.log_path.read_text()
    assert '"event": "internal_error"' not in log
    assert "Traceback" not in log
