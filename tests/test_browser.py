"""The staff dashboard and the client page, end to end in a real headless Chromium.

One embedded hub (SQLite) serves the module; each test makes its own calendar
so that bookings never collide across tests. Screenshots land in
test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.browser_helpers import (
    CHROMIUM,
    PHONE,
    Pages,
    at,
    launch,
    not_reloaded,
    shot,
    tomorrow,
)
from tests.conftest import WEEK_ALL_DAY, Account, make_staff, sign_in, sign_up
from tests.servers import HubServer, run_hub
from tests.wsclient import HubClient, session

pytestmark = pytest.mark.browser

ZONE = "Europe/Berlin"


@dataclass
class Clinic:
    """A running hub with an admin, two staff and two clients."""

    server: HubServer
    env: dict[str, str]
    admin: Account
    staff: Account
    staff2: Account
    client: Account
    client2: Account

    @property
    def url(self) -> str:
        return self.server.url

    async def socket(self, account: Account) -> HubClient:
        return await session(self.server.ws_url, account.access_token)

    async def calendar(self, zone: str = ZONE) -> dict[str, Any]:
        admin = await self.socket(self.admin)
        try:
            data = {
                "name": f"Room {uuid.uuid4().hex[:5]}",
                "timezone": zone,
                "working_hours": WEEK_ALL_DAY,
            }
            calendar: dict[str, Any] = (await admin.ok("calendar.create", data))["calendar"]
            return calendar
        finally:
            await admin.close()

    async def book(self, by: Account, **data: Any) -> dict[str, Any]:
        client = await self.socket(by)
        try:
            appointment: dict[str, Any] = (await client.ok("appointment.create", data))[
                "appointment"
            ]
            return appointment
        finally:
            await client.close()


@pytest.fixture(scope="module")
async def clinic() -> AsyncIterator[Clinic]:
    folder = tempfile.mkdtemp(prefix="hub-browser-")
    env = {"DATABASE_URL": f"sqlite:///{folder}/hub.db"}
    server = HubServer(env)
    await asyncio.to_thread(server.start)
    clinic: Clinic | None = None
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as api:
            admin = await sign_up(api, "admin")
            made = await asyncio.to_thread(run_hub, ["create-admin", "--email", admin.email], env)
            assert made.returncode == 0, made.stderr
            admin = await sign_in(api, admin)
            clinic = Clinic(
                server,
                env,
                admin,
                await make_staff(api, admin, "staff"),
                await make_staff(api, admin, "staffb"),
                await sign_up(api, "client"),
                await sign_up(api, "clientb"),
            )
        yield clinic
    finally:
        # The restart test swaps in a new server process: stop whichever runs.
        await asyncio.to_thread((clinic.server if clinic else server).stop)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: apt-get install -y chromium"
        if os.environ.get("HUB_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        yield chromium
        await chromium.close()


@pytest.fixture
async def pages(browser: Browser) -> AsyncIterator[Pages]:
    opened = Pages(browser)
    yield opened
    await opened.close()
    assert not opened.errors, opened.errors


def staff_path(calendar: dict[str, Any], view: str = "day", day: Any = None) -> str:
    day = day or tomorrow(calendar["timezone"])
    return f"/?calendars={calendar['id']}&view={view}&date={day.isoformat()}"


def block(page: Page, appointment_id: str) -> Any:
    return page.locator(f'#grid .appt[data-id="{appointment_id}"]')


async def test_empty_database_tells_how_to_make_the_first_admin(clinic: Clinic) -> None:
    """`hub serve` on a database with no accounts prints the create-admin command."""
    assert "hub create-admin --email" in clinic.server.log()


async def test_client_booking_shows_on_staff_page_and_confirmation_comes_back(
    clinic: Clinic, pages: Pages
) -> None:
    """A client's booking appears on an open staff page within a second; staff's confirm shows on the client page."""
    calendar = await clinic.calendar()
    day = tomorrow(ZONE)
    staff = await pages.open(
        clinic.url, clinic.staff.email, clinic.staff.password, staff_path(calendar)
    )
    client = await pages.open(
        clinic.url, clinic.client.email, clinic.client.password, f"/?calendar={calendar['id']}"
    )

    await client.fill("#book-day", day.isoformat())
    await expect(client.locator("#slots")).to_have_attribute("data-day", day.isoformat())
    slot = client.locator("#slots button.slot", has_text="10:00").first
    await slot.click()
    await expect(slot).to_have_attribute("aria-pressed", "true")
    await client.fill("#book-reason", "Knee check")
    await client.click("#book-submit")
    await expect(client.locator("#book-msg")).to_contain_text("Booked")
    booked_at = time.monotonic()

    on_staff = staff.locator("#grid .appt", has_text="Knee check")
    await expect(on_staff).to_be_visible(timeout=1000)
    assert time.monotonic() - booked_at < 1.0
    await expect(on_staff).to_have_attribute("data-status", "pending")
    await expect(on_staff).to_have_attribute("data-starts-at", at(day, 10, 0, ZONE))
    appointment_id = await on_staff.get_attribute("data-id")
    mine = client.locator(f'#my-appts li[data-id="{appointment_id}"]')
    await expect(mine.locator(".badge")).to_have_text("pending")

    await on_staff.click()
    await expect(staff.locator("#appt-dialog")).to_be_visible()
    await staff.click('#appt-actions button[data-action="confirmed"]')
    await expect(staff.locator("#appt-dialog")).to_be_hidden()
    await expect(on_staff).to_have_attribute("data-status", "confirmed")
    await expect(mine.locator(".badge")).to_have_text("confirmed", timeout=2000)

    await mine.locator("button[data-cancel]").click()
    await mine.locator("button[data-cancel]", has_text="Really cancel?").click()
    await expect(mine.locator(".badge")).to_have_text("cancelled")
    await expect(on_staff).to_have_attribute("data-status", "cancelled", timeout=2000)
    assert await not_reloaded(staff) and await not_reloaded(client)


async def test_reschedule_on_one_staff_page_moves_the_block_on_another(
    clinic: Clinic, pages: Pages
) -> None:
    """Two staff pages: one reschedules through the dialog, the other's block moves live."""
    calendar = await clinic.calendar()
    day = tomorrow(ZONE)
    made = await clinic.book(
        clinic.staff,
        calendar_id=calendar["id"],
        starts_at=at(day, 9, 0, ZONE),
        ends_at=at(day, 9, 30, ZONE),
        title="Physio",
        client_id=clinic.client.id,
    )
    path = staff_path(calendar)
    one = await pages.open(clinic.url, clinic.staff.email, clinic.staff.password, path)
    two = await pages.open(clinic.url, clinic.staff2.email, clinic.staff2.password, path)
    watched = block(two, made["id"])
    await expect(watched).to_have_attribute("data-starts-at", at(day, 9, 0, ZONE))
    top_before = await watched.evaluate("(el) => el.offsetTop")

    await block(one, made["id"]).click()
    await one.fill("#move-start", "11:15")
    await one.fill("#move-end", "12:00")
    await one.click("#move-save")
    await expect(one.locator("#staff-msg")).to_contain_text("Rescheduled")

    await expect(watched).to_have_attribute("data-starts-at", at(day, 11, 15, ZONE), timeout=2000)
    await expect(watched).to_have_attribute("data-ends-at", at(day, 12, 0, ZONE))
    await expect(watched).to_contain_text("11:15–12:00")
    await expect(watched).to_have_attribute("data-version", "2")
    await asyncio.sleep(0.5)  # the block slides; measure where it came to rest
    assert await watched.evaluate("(el) => el.offsetTop") > top_before
    assert await not_reloaded(two)


async def test_lost_race_shows_slot_taken_and_the_truth(clinic: Clinic, pages: Pages) -> None:
    """Booking a time someone took a moment earlier shows slot_taken and the real booking."""
    calendar = await clinic.calendar()
    day = tomorrow(ZONE)
    page = await pages.open(
        clinic.url, clinic.staff.email, clinic.staff.password, staff_path(calendar)
    )
    await page.locator("#grid-scroll").evaluate("(el) => { el.scrollTop = 13 * 48; }")
    lane = page.locator(f'#grid .lane[data-calendar="{calendar["id"]}"]')
    await lane.click(position={"x": 30, "y": 14 * 48 + 10})
    dialog = page.locator("#new-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#new-start")).to_have_value("14:00")
    await expect(page.locator("#new-end")).to_have_value("14:30")
    await page.fill("#new-title-input", "Race loser")
    await page.fill("#new-client-search", "clientb")
    option = page.locator(f'#new-client option[value="{clinic.client2.id}"]')
    await expect(option).to_have_count(1)
    await page.select_option("#new-client", clinic.client2.id)

    winner = await clinic.book(
        clinic.staff2,
        calendar_id=calendar["id"],
        starts_at=at(day, 14, 0, ZONE),
        ends_at=at(day, 14, 30, ZONE),
        title="Race winner",
        client_id=clinic.client.id,
    )
    await page.click("#new-submit")

    await expect(page.locator("#new-msg")).to_contain_text("slot_taken")
    await expect(page.locator("#staff-msg")).to_contain_text("slot_taken")
    await page.click("#new-cancel")
    await expect(block(page, winner["id"])).to_have_attribute("data-status", "confirmed")
    await expect(block(page, winner["id"])).to_contain_text("Race winner")
    await expect(page.locator("#grid .appt", has_text="Race loser")).to_have_count(0)


async def test_stale_version_shows_version_conflict_and_the_current_appointment(
    clinic: Clinic, pages: Pages
) -> None:
    """Acting on a version someone just replaced shows version_conflict and the current appointment."""
    calendar = await clinic.calendar()
    day = tomorrow(ZONE)
    made = await clinic.book(
        clinic.staff,
        calendar_id=calendar["id"],
        starts_at=at(day, 9, 0, ZONE),
        ends_at=at(day, 9, 30, ZONE),
        title="Moving target",
        client_id=clinic.client.id,
    )
    page = await pages.open(
        clinic.url, clinic.staff.email, clinic.staff.password, staff_path(calendar)
    )
    await block(page, made["id"]).click()
    await expect(page.locator("#appt-when")).to_contain_text("09:00–09:30")
    # Hold this page's events, as if the other change were still on its way.
    await page.evaluate(f"window.hub._subs.get('calendar:{calendar['id']}')._buffer = []")
    other = await clinic.socket(clinic.staff2)
    try:
        data = {
            "appointment_id": made["id"],
            "version": 1,
            "starts_at": at(day, 11, 0, ZONE),
            "ends_at": at(day, 11, 30, ZONE),
        }
        await other.ok("appointment.update", data)
    finally:
        await other.close()

    await page.click('#appt-actions button[data-action="cancel"]')
    await expect(page.locator("#appt-msg")).to_contain_text("version_conflict")
    await expect(page.locator("#appt-when")).to_contain_text("11:00–11:30")
    await expect(page.locator("#appt-changed")).to_be_visible()
    await page.click('#appt-form button[value="close"]')
    moved = block(page, made["id"])
    await expect(moved).to_have_attribute("data-starts-at", at(day, 11, 0, ZONE))
    await expect(moved).to_have_attribute("data-status", "confirmed")
    await expect(moved).to_have_attribute("data-version", "2")


async def test_page_reconnects_after_hub_restart_and_shows_what_changed(
    clinic: Clinic, pages: Pages
) -> None:
    """The hub restarts under an open staff page; it reconnects alone and shows the changes."""
    calendar = await clinic.calendar()
    day = tomorrow(ZONE)
    times = {"starts_at": at(day, 8, 0, ZONE), "ends_at": at(day, 8, 45, ZONE)}
    first = await clinic.book(
        clinic.staff,
        calendar_id=calendar["id"],
        title="Before",
        client_id=clinic.client.id,
        **times,
    )
    page = await pages.open(
        clinic.url, clinic.staff.email, clinic.staff.password, staff_path(calendar)
    )
    await expect(block(page, first["id"])).to_have_attribute("data-status", "confirmed")

    await asyncio.to_thread(clinic.server.stop)
    await expect(page.locator("#conn")).to_have_attribute("data-state", "reconnecting")
    await expect(page.locator("#conn")).to_contain_text("reconnecting…")
    clinic.server = HubServer(clinic.env, port=clinic.server.port)
    await asyncio.to_thread(clinic.server.start)

    staff = await clinic.socket(clinic.staff)
    try:
        await staff.ok("appointment.cancel", {"appointment_id": first["id"], "version": 1})
        second = (
            await staff.ok(
                "appointment.create",
                {
                    "calendar_id": calendar["id"],
                    "title": "After restart",
                    "client_id": clinic.client2.id,
                    **times,
                },
            )
        )["appointment"]
    finally:
        await staff.close()

    await expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=20_000)
    await expect(block(page, first["id"])).to_have_attribute("data-status", "cancelled")
    await expect(block(page, second["id"])).to_contain_text("After restart")
    assert await not_reloaded(page)


async def test_demo_clinic_week_view_and_client_page(pages: Pages) -> None:
    """`hub serve --demo` seeds a clinic that lives; screenshots of the week view and client page."""
    folder = tempfile.mkdtemp(prefix="hub-demo-")
    demo = HubServer({"DATABASE_URL": f"sqlite:///{folder}/hub.db"}, args=("--demo",))
    await asyncio.to_thread(demo.start)
    try:
        log = demo.log()
        assert "Demo clinic ready" in log and "sam@clinic.example" in log, log
        staff = await pages.open(demo.url, "sam@clinic.example", "demo-password", "/?view=week")
        await expect(staff.locator("#calendar-picks input:checked")).to_have_count(3)
        await expect(staff.locator("#grid .appt").nth(10)).to_be_attached()
        statuses = set(
            await staff.locator("#grid .appt").evaluate_all(
                "(els) => els.map((el) => el.dataset.status)"
            )
        )
        assert len(statuses) >= 3, statuses
        await staff.screenshot(path=shot("staff-week.png"))
        await staff.click("#view-day")
        await staff.screenshot(path=shot("staff-day.png"))

        client = await pages.open(demo.url, "ben@clinic.example", "demo-password")
        await expect(client.locator("#my-appts li.mine").first).to_be_visible()
        day = tomorrow("Europe/London").isoformat()
        await client.fill("#book-day", day)
        await expect(client.locator("#slots")).to_have_attribute("data-day", day)
        if await client.locator("#slots button.slot").count():
            await client.locator("#slots button.slot").first.click()  # show a chosen time
        await client.screenshot(path=shot("client.png"))
        phone = await pages.open(demo.url, "chloe@clinic.example", "demo-password", viewport=PHONE)
        await expect(phone.locator("#slots")).to_have_attribute("data-day", re.compile(r"\d"))
        await phone.screenshot(path=shot("client-phone.png"), full_page=True)

        # The simulated clients keep the dashboard moving.
        await staff.wait_for_function(
            "Number(document.body.dataset.events || 0) > 0", timeout=15_000
        )
    finally:
        await asyncio.to_thread(demo.stop)
        shutil.rmtree(folder, ignore_errors=True)


async def test_access_token_is_refreshed_before_it_expires(pages: Pages) -> None:
    """A newcomer registers on the page; with 3-second access tokens it stays on one live session via REST refresh + auth.refresh."""
    folder = tempfile.mkdtemp(prefix="hub-refresh-")
    env = {"DATABASE_URL": f"sqlite:///{folder}/hub.db", "ACCESS_TOKEN_EXPIRE_MINUTES": "0.05"}
    server = HubServer(env)
    await asyncio.to_thread(server.start)
    try:
        page = await pages.register(
            server.url, "Rita Refresh", "rita@example.test", "correct horse"
        )
        await expect(page.locator("#who")).to_contain_text("Rita Refresh · user")
        state = "[window.hub.session.session_id, sessionStorage['hub.tokens']]"
        first = await page.evaluate(state)
        await asyncio.sleep(5)  # well past the lifetime of the first access token
        await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        later = await page.evaluate(state)
        # Without auth.refresh the hub would have closed the socket with 4001 at expiry.
        assert later[0] == first[0], "the page reconnected instead of refreshing in place"
        assert later[1] != first[1], "the tokens were never refreshed"
        answer = await page.evaluate("window.hub.request('ping').then((d) => d.server_time)")
        assert answer.endswith("Z")
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(folder, ignore_errors=True)
