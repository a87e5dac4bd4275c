"""The demo clinic behind ``hub serve --demo``: seed an empty database, then keep it lively.

Everything goes through the hub's own services (accounts, calendars, booking),
acting for the demo's own accounts, so the demo obeys every booking rule and
its changes are published like any socket write's: an open dashboard shows
the simulated clinic change live. The demo only ever touches its own
accounts (``@clinic.example``) and calendars.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub import logs
from hub.domain.availability import working_intervals
from hub.domain.errors import HubError
from hub.domain.model import Appointment, Calendar, Role, User, calendar_channel
from hub.domain.times import now, parse_wire_time
from hub.service.access import Identity
from hub.service.runtime import Runtime
from hub.settings import Settings
from hub.storage.store import Store
from hub.storage.users import Users

DOMAIN = "clinic.example"
PASSWORD = "demo-password"
ADMIN = ("Ada Admin", "admin")
STAFF = [("Dr. Sam Okafor", "sam"), ("Tara Lindqvist", "tara")]
CLIENTS = [
    ("Ben Carter", "ben"),
    ("Chloé Martin", "chloe"),
    ("Diego Álvarez", "diego"),
    ("Emi Tanaka", "emi"),
    ("Farah Haddad", "farah"),
    ("Grace Osei", "grace"),
]


def _hours(days: range, *ranges: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"weekday": d, "start": a, "end": b} for d in days for a, b in ranges]


# name, time zone, working hours, index of the owning staff member (or None)
CALENDARS: list[tuple[str, str, list[dict[str, Any]], int | None]] = [
    (
        "London · General practice",
        "Europe/London",
        _hours(range(5), ("08:30", "12:30"), ("13:30", "18:00")),
        0,
    ),
    ("New York · Physiotherapy", "America/New_York", _hours(range(6), ("08:00", "17:00")), 1),
    ("Tokyo · Telehealth", "Asia/Tokyo", _hours(range(5), ("09:00", "19:00")), None),
]
TITLES = [
    "Check-up",
    "Follow-up",
    "Consultation",
    "Vaccination",
    "Blood test",
    "Physio session",
    "Back pain",
    "Video call",
    "Prescription review",
    "Sports injury",
]
ACTIVE = ("pending", "confirmed")
ACTIVITY_SECONDS = (3.0, 6.0)
MAX_UPCOMING = 60

HINT = (
    "The database has no accounts yet. Create the first admin with:\n"
    "  hub create-admin --email you@example.com\n"
    "(or start with `hub serve --demo` for a demo clinic to look around in)"
)


@dataclass
class World:
    """The demo's own accounts and calendars."""

    admin: User
    staff: list[User]
    clients: list[User]
    calendars: list[Calendar]


def acting(user: User) -> Identity:
    """The hub acting for one of the demo's accounts (no sign-in, no token)."""
    return Identity(user.id, None)


def with_demo(app: Starlette, url: str = "") -> ASGIApp:
    """Wrap the hub's app: after its lifespan has started, seed and simulate.

    The seeding runs before the server reports startup complete, so the first
    page load already sees the clinic; the activity task stops before the
    hub's own shutdown closes the runtime.
    """
    runtime: Runtime = app.state.runtime
    tasks: list[asyncio.Task[None]] = []

    async def demo_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                try:
                    world = await prepare(runtime, url)
                except Exception as exc:
                    print(f"hub: the demo could not start: {exc!r}", file=sys.stderr, flush=True)
                    world = None
                if world is not None:
                    tasks.append(asyncio.create_task(simulate(runtime, world)))
            await send(message)

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            return message

        await app(scope, receive_wrapper, send_wrapper)

    return demo_app


def first_admin_hint(settings: Settings) -> str | None:
    """How to make the first admin, when the database has no accounts yet."""

    async def count() -> int:
        store = Store(settings)
        await store.connect()
        try:
            return await Users(store).count()
        finally:
            await store.disconnect()

    try:
        accounts = asyncio.run(count())
    except Exception:
        return None  # the server start will report what is wrong
    return HINT if accounts == 0 else None


async def prepare(runtime: Runtime, url: str = "") -> World | None:
    """Seed an empty database, or find the demo of an earlier run; print how to sign in."""
    accounts = await runtime.accounts.users.count()
    world = await seed(runtime, random.Random(2026)) if accounts == 0 else await _find(runtime)
    if world is None:
        print(
            "hub: --demo: this database already has accounts of its own; "
            "not seeding and not simulating anything.",
            flush=True,
        )
        return None
    _print_sign_in(world, url)
    return world


async def seed(runtime: Runtime, rng: random.Random) -> World:
    """An admin, two staff, six clients, three calendars and a week of appointments."""
    register = runtime.accounts.register
    admin = await register(_email(ADMIN[1]), PASSWORD, ADMIN[0], role=Role.ADMIN)
    staff = [await register(_email(key), PASSWORD, name, role=Role.STAFF) for name, key in STAFF]
    clients = [await register(_email(key), PASSWORD, name) for name, key in CLIENTS]
    calendars = []
    for name, zone, hours, owner in CALENDARS:
        data: dict[str, Any] = {"name": name, "timezone": zone, "working_hours": hours}
        if owner is not None:
            data["owner_id"] = staff[owner].id
        calendars.append(await runtime.calendars.create(acting(admin), data))
    world = World(admin, staff, clients, calendars)
    for calendar in calendars:
        await _seed_calendar(runtime, world, calendar, rng)
    return world


async def _seed_calendar(
    runtime: Runtime, world: World, calendar: Calendar, rng: random.Random
) -> None:
    """Three days back to four ahead: past ones closed, future ones pending or confirmed."""
    today = now().astimezone(calendar.zone).date()
    current = now()
    for offset in range(-3, 5):
        day = today + timedelta(days=offset)
        for start, end in _working_ranges(calendar, day):
            for slot_start, slot_end in _pick_slots(start, end, rng):
                client, staff = rng.choice(world.clients), rng.choice(world.staff)
                title = rng.choice(TITLES)
                try:
                    if slot_start > current + timedelta(minutes=30) and rng.random() < 0.55:
                        booked = await _create(
                            runtime, client, calendar, slot_start, slot_end, title
                        )
                        roll = rng.random()
                        if roll < 0.4:
                            booked = await _status(runtime, staff, booked, "confirmed")
                        elif roll < 0.55:
                            booked = await _cancel(runtime, client, booked)
                    else:
                        booked = await _create(
                            runtime, staff, calendar, slot_start, slot_end, title, client.id
                        )
                        roll = rng.random()
                        if slot_start <= current and slot_end <= current and roll < 0.6:
                            booked = await _status(runtime, staff, booked, "completed")
                        elif slot_start <= current and slot_end <= current and roll < 0.75:
                            booked = await _status(runtime, staff, booked, "no_show")
                        elif roll > 0.87:
                            booked = await _cancel(runtime, staff, booked)
                except HubError as exc:
                    logs.event("demo_seed_skipped", code=exc.code)


def _working_ranges(calendar: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    """The calendar's working hours on one of its local days, in UTC."""
    start = datetime.combine(day, time(0), calendar.zone)
    end = datetime.combine(day + timedelta(days=1), time(0), calendar.zone)
    return [
        (iv.start, iv.end)
        for iv in working_intervals(calendar.working_hours, calendar.zone, start, end)
        if iv.start.astimezone(calendar.zone).date() == day
    ]


def _pick_slots(
    start: datetime, end: datetime, rng: random.Random
) -> list[tuple[datetime, datetime]]:
    """A few non-overlapping 30–60 minute slots on a quarter-hour grid."""
    picked: list[tuple[datetime, datetime]] = []
    cursor = start + timedelta(minutes=15 * rng.randint(0, 4))
    while cursor < end:
        length = timedelta(minutes=rng.choice((30, 30, 45, 60)))
        if cursor + length > end:
            break
        if rng.random() < 0.45:
            picked.append((cursor, cursor + length))
        cursor += length + timedelta(minutes=15 * rng.randint(0, 3))
    return picked


# Simulated activity

Step = Callable[[Runtime, World, random.Random], Awaitable[str | None]]


async def simulate(runtime: Runtime, world: World) -> None:
    """Every few seconds a client books, reschedules or cancels, or staff confirm or close."""
    rng = random.Random()
    steps: list[tuple[Step, float]] = [
        (_book, 0.35),
        (_reschedule, 0.2),
        (_cancel_one, 0.15),
        (_confirm_one, 0.2),
        (_close_one, 0.1),
    ]
    while True:
        await asyncio.sleep(rng.uniform(*ACTIVITY_SECONDS))
        upcoming = await _upcoming(runtime, world)
        weights = [w for _, w in steps]
        if len(upcoming) > MAX_UPCOMING:
            weights[0], weights[2] = 0.05, 0.45
        step = rng.choices([s for s, _ in steps], weights)[0]
        try:
            done = await step(runtime, world, rng)
        except HubError as exc:
            logs.event("demo_step_refused", step=step.__name__, code=exc.code)
        except Exception as exc:
            logs.event("demo_step_failed", logging.WARNING, step=step.__name__, error=repr(exc))
        else:
            if done:
                logs.event("demo_activity", did=done)


async def _book(runtime: Runtime, world: World, rng: random.Random) -> str | None:
    client = rng.choice(world.clients)
    calendar = rng.choice(world.calendars)
    duration = rng.choice((30, 30, 45, 60))
    slots = await _free_slots(runtime, client, calendar, now() + timedelta(hours=1), duration)
    if not slots:
        return None
    start, end = rng.choice(slots[:40])
    booked = await _create(runtime, client, calendar, start, end, rng.choice(TITLES))
    return f"{client.full_name} booked {booked.starts_at.isoformat()}"


async def _reschedule(runtime: Runtime, world: World, rng: random.Random) -> str | None:
    soon = now() + timedelta(hours=1)
    candidates = [a for a in await _upcoming(runtime, world) if _start(a) > soon]
    if not candidates:
        return None
    appointment = rng.choice(candidates)
    client = next(c for c in world.clients if c.id == appointment["client_id"])
    calendar = next(c for c in world.calendars if c.id == appointment["calendar_id"])
    duration = int((_end(appointment) - _start(appointment)) / timedelta(minutes=1))
    near = _start(appointment) - timedelta(hours=3)
    slots = [
        s
        for s in await _free_slots(runtime, client, calendar, max(near, now()), duration)
        if abs(s[0] - _start(appointment)) <= timedelta(hours=3)
    ]
    if not slots:
        return None
    start, end = rng.choice(slots)
    data = {
        "appointment_id": appointment["id"],
        "version": appointment["version"],
        "starts_at": start,
        "ends_at": end,
    }
    await runtime.booking.update(acting(client), data)
    return f"{client.full_name} moved an appointment to {start.isoformat()}"


async def _cancel_one(runtime: Runtime, world: World, rng: random.Random) -> str | None:
    candidates = await _upcoming(runtime, world)
    if not candidates:
        return None
    appointment = rng.choice(candidates)
    client = next(c for c in world.clients if c.id == appointment["client_id"])
    data = {"appointment_id": appointment["id"], "version": appointment["version"]}
    await runtime.booking.cancel(acting(client), data)
    return f"{client.full_name} cancelled"


async def _confirm_one(runtime: Runtime, world: World, rng: random.Random) -> str | None:
    pending = [a for a in await _upcoming(runtime, world) if a["status"] == "pending"]
    if not pending:
        return None
    appointment = rng.choice(pending)
    data = {"appointment_id": appointment["id"], "status": "confirmed"}
    await runtime.booking.set_status(acting(rng.choice(world.staff)), data)
    return "staff confirmed an appointment"


async def _close_one(runtime: Runtime, world: World, rng: random.Random) -> str | None:
    ended = [
        a
        for a in await _appointments(runtime, world, now() - timedelta(days=1), now())
        if a["status"] == "confirmed" and _end(a) <= now()
    ]
    if not ended:
        return None
    appointment = rng.choice(ended)
    status = "completed" if rng.random() < 0.8 else "no_show"
    data = {"appointment_id": appointment["id"], "status": status}
    await runtime.booking.set_status(acting(rng.choice(world.staff)), data)
    return f"staff marked an appointment {status}"


# Helpers


async def _appointments(
    runtime: Runtime, world: World, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Every appointment of the demo's calendars overlapping [start, end), as staff see it."""
    found: list[dict[str, Any]] = []
    for calendar in world.calendars:
        channel = calendar_channel(calendar.id)
        snapshot = await runtime.reading.snapshot(acting(world.admin), channel, start, end)
        found += snapshot.appointments
    return found


async def _upcoming(runtime: Runtime, world: World) -> list[dict[str, Any]]:
    """Pending and confirmed appointments of demo clients in the next three days."""
    ids = {c.id for c in world.clients}
    found = await _appointments(runtime, world, now(), now() + timedelta(days=3))
    return [
        a
        for a in found
        if a["status"] in ACTIVE and a.get("client_id") in ids and _start(a) > now()
    ]


async def _free_slots(
    runtime: Runtime, user: User, calendar: Calendar, start: datetime, minutes: int
) -> list[tuple[datetime, datetime]]:
    found = await runtime.reading.availability(
        acting(user), calendar.id, start, start + timedelta(days=3), minutes
    )
    return [(s.start, s.end) for s in found.slots]


async def _create(
    runtime: Runtime,
    actor: User,
    calendar: Calendar,
    start: datetime,
    end: datetime,
    title: str,
    client_id: str | None = None,
) -> Appointment:
    data: dict[str, Any] = {
        "calendar_id": calendar.id,
        "starts_at": start,
        "ends_at": end,
        "title": title,
    }
    if client_id is not None:
        data["client_id"] = client_id
    return (await runtime.booking.create(acting(actor), data)).appointment


async def _status(runtime: Runtime, staff: User, booked: Appointment, status: str) -> Appointment:
    data = {"appointment_id": booked.id, "status": status, "version": booked.version}
    return (await runtime.booking.set_status(acting(staff), data)).appointment


async def _cancel(runtime: Runtime, actor: User, booked: Appointment) -> Appointment:
    data = {"appointment_id": booked.id, "version": booked.version}
    return (await runtime.booking.cancel(acting(actor), data)).appointment


async def _find(runtime: Runtime) -> World | None:
    """The demo of an earlier run on this database, if that is what it holds."""
    found = [
        u
        for u in await runtime.accounts.users.search(f"@{DOMAIN}")
        if u.email.endswith(f"@{DOMAIN}")
    ]
    admins = [u for u in found if u.role is Role.ADMIN and u.is_active]
    if not admins:
        return None
    names = {name for name, _, _, _ in CALENDARS}
    mine = await runtime.calendars.list(acting(admins[0]))
    calendars = [c for c in mine if c.name in names and c.is_active]
    clients = [u for u in found if u.role is Role.USER and u.is_active]
    staff = [u for u in found if u.role is Role.STAFF and u.is_active]
    if not calendars or not clients or not staff:
        return None
    return World(admins[0], staff, clients, calendars)


def _print_sign_in(world: World, url: str) -> None:
    where = f" at {url}" if url else ""
    lines = [
        f"Demo clinic ready{where}. Sign in with any of these; the password is {PASSWORD!r}:",
        f"  admin   {world.admin.email}",
        "  staff   " + ", ".join(u.email for u in world.staff),
        "  client  " + ", ".join(u.email for u in world.clients),
        "Simulated clients book, reschedule and cancel every few seconds.",
    ]
    print("\n".join(lines), flush=True)


def _email(key: str) -> str:
    return f"{key}@{DOMAIN}"


def _start(appointment: dict[str, Any]) -> datetime:
    return parse_wire_time(appointment["starts_at"])


def _end(appointment: dict[str, Any]) -> datetime:
    return parse_wire_time(appointment["ends_at"])
