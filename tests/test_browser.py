"""The client booking page, end to end in a real headless Chromium, beside an
open staff dashboard (whose own tests are in tests/test_dashboard.py).

One embedded hub (SQLite) serves the module; each test makes its own calendar
so that bookings never collide across tests. Screenshots land in
test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser_helpers import (
    DESKTOP,
    PHONE,
    Clinic,
    Pages,
    at,
    not_reloaded,
    running_clinic,
    shot,
    tomorrow,
)
from tests.servers import HubServer
from tests.test_client_page import choose_day, pick

pytestmark = pytest.mark.browser

ZONE = "Europe/Berlin"


@pytest.fixture(scope="module")
async def clinic() -> AsyncIterator[Clinic]:
    async with running_clinic("hub-browser-") as made:
        yield made


def staff_path(calendar: dict[str, Any], view: str = "day", day: Any = None) -> str:
    day = day or tomorrow(calendar["timezone"])
    return (
        f"/?calendars={calendar['id']}&view={view}&date={day.isoformat()}&tz={calendar['timezone']}"
    )


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

    # Times in the calendar's own zone (the page starts in the browser's).
    await client.get_by_role("combobox", name="Time zone").select_option(ZONE)
    await choose_day(client, day)
    await pick(client, "10:00")
    await client.get_by_label("Reason for the visit").fill("Knee check")
    await client.get_by_role("button", name="Book", exact=True).click()
    await expect(client.get_by_role("status").filter(has_text="Booked: Knee check")).to_be_visible()
    booked_at = time.monotonic()

    on_staff = staff.get_by_role(
        "button", name=re.compile(r"^Knee check, Client, 10:00–10:30, pending")
    )
    await expect(on_staff).to_be_visible(timeout=1000)
    assert time.monotonic() - booked_at < 1.0
    await expect(on_staff).to_have_attribute("data-status", "pending")
    await expect(on_staff).to_have_attribute("data-starts-at", at(day, 10, 0, ZONE))
    appointment_id = await on_staff.get_attribute("data-id")
    on_staff = staff.locator(f'#view-host .appt[data-id="{appointment_id}"]')
    mine = (
        client.get_by_role("list", name="Your appointments")
        .get_by_role("listitem")
        .filter(has_text="Knee check")
    )
    await expect(mine).to_contain_text("Waiting for confirmation")

    await on_staff.click()
    await expect(staff.locator("#appt-dialog")).to_be_visible()
    await staff.click('#appt-actions button[data-action="confirmed"]')
    await expect(staff.locator("#appt-dialog")).to_be_hidden()
    await expect(on_staff).to_have_attribute("data-status", "confirmed")
    await expect(on_staff).to_have_accessible_name(
        re.compile(r"^Knee check, Client, 10:00–10:30, confirmed")
    )
    await expect(mine).to_contain_text("Confirmed", timeout=2000)

    await mine.get_by_role("button", name="Cancel").click()
    await mine.get_by_role("button", name="Yes, cancel it").click()
    await expect(
        client.get_by_role("status").filter(has_text="Cancelled: Knee check")
    ).to_be_visible()
    await expect(on_staff).to_have_attribute("data-status", "cancelled", timeout=2000)
    assert await not_reloaded(staff) and await not_reloaded(client)


async def test_demo_clinic_week_view_and_client_page(pages: Pages) -> None:
    """`hub serve --demo` seeds a clinic that lives; screenshots of the week view and client page."""
    folder = tempfile.mkdtemp(prefix="hub-demo-")
    demo = HubServer({"DATABASE_URL": f"sqlite:///{folder}/hub.db"}, args=("--demo",))
    await asyncio.to_thread(demo.start)
    try:
        log = demo.log()
        assert "Demo clinic ready" in log and "sam@clinic.example" in log, log
        staff = await pages.open(
            demo.url, "sam@clinic.example", "demo-password", "/?view=week", viewport=DESKTOP
        )
        await expect(staff.locator("#calendar-picks input:checked")).to_have_count(3)
        await expect(staff.locator("#view-host .appt").nth(10)).to_be_attached()
        statuses = set(
            await staff.locator("#view-host .appt").evaluate_all(
                "(els) => els.map((el) => el.dataset.status)"
            )
        )
        assert len(statuses) >= 3, statuses
        await staff.screenshot(path=shot("staff-week.png"))
        await staff.click("#view-day")
        await staff.screenshot(path=shot("staff-day.png"))

        client = await pages.open(demo.url, "ben@clinic.example", "demo-password")
        mine = client.get_by_role("list", name="Your appointments").get_by_role("listitem")
        await expect(mine.first).to_be_visible()
        await client.get_by_role("button", name="Next available").click()
        free = client.get_by_role("group", name=re.compile(r"^Free times on "))
        await expect(free.get_by_role("button").first).to_be_visible()
        await free.get_by_role("button").first.click()  # show a held time
        await expect(client.get_by_text(re.compile(r"^Held for you until"))).to_be_visible()
        await client.screenshot(path=shot("client.png"))
        phone = await pages.open(demo.url, "chloe@clinic.example", "demo-password", viewport=PHONE)
        await expect(phone.get_by_role("grid", name=re.compile(r"\w+ \d{4}"))).to_be_visible()
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
