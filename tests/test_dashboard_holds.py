"""Live slot holds on the staff grid (issue 13, item 3), in a real headless
Chromium against a real hub: a client's hold, made over the protocol with a
client socket, shows as a "being booked" block within a second and goes when
it is released, taken over by the booking, or expires.

One embedded hub serves the module with HUB_HOLD_SECONDS=8: long enough for
a test to look at a hold before it ends, short enough to watch one expire.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser_helpers import (
    Clinic,
    Pages,
    assert_accessible,
    at,
    day_label,
    running_clinic,
    shot,
)
from tests.conftest import Account
from tests.test_dashboard import LONDON, TUE, WEEKDAYS_9_TO_5, block, cell, dashboard
from tests.wsclient import HubClient

pytestmark = pytest.mark.browser

HOLD_SECONDS = 8


@pytest.fixture(scope="module")
async def clinic() -> AsyncIterator[Clinic]:
    async with running_clinic(
        "hub-dashboard-holds-", {"HUB_HOLD_SECONDS": str(HOLD_SECONDS)}
    ) as made:
        yield made


async def hold(
    socket: HubClient, calendar: dict[str, Any], hour: int, minute: int = 0, minutes: int = 30
) -> dict[str, Any]:
    """A client's hold of a slot on TUE, through the protocol."""
    end = hour * 60 + minute + minutes
    data = {
        "calendar_id": calendar["id"],
        "starts_at": at(TUE, hour, minute, LONDON),
        "ends_at": at(TUE, end // 60, end % 60, LONDON),
    }
    held: dict[str, Any] = (await socket.ok("slot.hold", data))["hold"]
    return held


def being_booked(page: Page, who: str, times: str) -> Locator:
    return page.get_by_role(
        "button", name=re.compile(rf"^Being booked, {who}, {times}, held until \d\d:\d\d, ")
    )


async def client_socket(clinic: Clinic, account: Account) -> HubClient:
    return await clinic.socket(account)


async def test_a_clients_hold_shows_within_a_second_and_goes_when_released(
    clinic: Clinic, pages: Pages
) -> None:
    """A client's hold is a "being booked" block within 1 s; cells under it are not offered; release removes it."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    page = await dashboard(pages, clinic, clinic.staff, london)
    client = await client_socket(clinic, clinic.client)
    try:
        held = await hold(client, london, 10)
        started = time.monotonic()
        shown = being_booked(page, "Client", "10:00–10:30")
        await expect(shown).to_be_visible(timeout=1000)
        assert time.monotonic() - started < 1.0
        await expect(shown).to_have_accessible_name(
            re.compile(
                rf"^Being booked, Client, 10:00–10:30, held until \d\d:\d\d, {re.escape(london['name'])}$"
            )
        )
        await expect(shown).to_have_attribute("data-expires-at", held["expires_at"])
        await expect(shown).to_be_enabled()  # not disabled by the held cell it sits in

        # Holding the same slot again extends it: the same block, a later expiry.
        extended = await hold(client, london, 10)
        assert extended["id"] == held["id"]
        await expect(shown).to_have_attribute("data-expires-at", extended["expires_at"])
        await expect(page.locator("#view-host .appt.hold")).to_have_count(1)

        under = page.get_by_role(
            "gridcell", name=f"{day_label(TUE)}, 10:15, {london['name']}, being booked"
        )
        await expect(under).to_have_attribute("aria-disabled", "true")
        await under.focus()  # the hold's block covers it from the mouse
        await page.keyboard.press("Enter")
        await expect(page.locator("#feedback-status")).to_contain_text(
            "is being booked right now; pick another time"
        )
        await expect(page.get_by_role("dialog", name="New appointment")).to_be_hidden()
        await assert_accessible(page, "week view with a hold")
        await page.screenshot(path=shot("dashboard-hold.png"))

        await client.ok("slot.release", {"hold_id": held["id"]})
        released = time.monotonic()
        await expect(shown).to_have_count(0, timeout=1000)
        assert time.monotonic() - released < 1.0
        await expect(cell(page, TUE, "10:15", london)).not_to_have_attribute(
            "aria-disabled", "true"
        )
        await cell(page, TUE, "10:15", london).click()
        await expect(page.get_by_role("dialog", name="New appointment")).to_be_visible()
    finally:
        await client.close()


async def test_a_hold_turns_into_the_appointment_booked_from_it(
    clinic: Clinic, pages: Pages
) -> None:
    """Booking with hold_id ends the hold in the booking: the block becomes the appointment, with no gap."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    page = await dashboard(pages, clinic, clinic.staff, london)
    client = await client_socket(clinic, clinic.client)
    try:
        held = await hold(client, london, 11)
        shown = being_booked(page, "Client", "11:00–11:30")
        await expect(shown).to_be_visible(timeout=1000)
        # Count the frames in which neither the hold nor the appointment is drawn.
        await page.evaluate(
            """() => {
                window.__gaps = 0;
                const host = document.querySelector("#view-host");
                new MutationObserver(() => {
                    const there = host.querySelector(".appt.hold, .appt.status-pending");
                    if (!there) window.__gaps += 1;
                }).observe(host, { childList: true, subtree: true });
            }"""
        )
        booked = await client.ok(
            "appointment.create",
            {
                "calendar_id": london["id"],
                "starts_at": held["starts_at"],
                "ends_at": held["ends_at"],
                "title": "Knee check",
                "hold_id": held["id"],
            },
        )
        made = booked["appointment"]
        started = time.monotonic()
        await expect(block(page, made)).to_have_accessible_name(
            re.compile(r"^Knee check, Client, 11:00–11:30, pending"), timeout=1000
        )
        await expect(shown).to_have_count(0)
        assert time.monotonic() - started < 1.0
        assert await page.evaluate("window.__gaps") == 0
    finally:
        await client.close()


async def test_staff_release_a_hold_after_asking_once(clinic: Clinic, pages: Pages) -> None:
    """Staff may end a client's hold from its block (asked once); the client's hold is then gone."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    page = await dashboard(pages, clinic, clinic.staff, london, view="day", day=TUE)
    client = await client_socket(clinic, clinic.client2)
    try:
        held = await hold(client, london, 14)
        shown = being_booked(page, "Clientb", "14:00–14:30")
        await shown.click()
        ask = page.get_by_role("alertdialog", name="Release this hold?")
        await expect(ask).to_contain_text("Clientb is booking")
        await assert_accessible(page, "release hold dialog")
        await ask.get_by_role("button", name="Leave it").click()
        await expect(shown).to_be_visible()
        await shown.click()
        await ask.get_by_role("button", name="Release hold").click()
        await expect(shown).to_have_count(0, timeout=1000)
        await expect(page.locator("#feedback-status")).to_contain_text("Released the hold")
        gone = await client.error("slot.release", {"hold_id": held["id"]})
        assert gone["code"] == "not_found"
    finally:
        await client.close()


async def test_an_expired_hold_leaves_the_grid(clinic: Clinic, pages: Pages) -> None:
    """A hold nobody books goes from the grid when the hub expires it (within 2 s of expires_at), not before."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    page = await dashboard(pages, clinic, clinic.staff, london, view="day", day=TUE)
    client = await client_socket(clinic, clinic.client)
    try:
        held = await hold(client, london, 15, minutes=45)
        shown = being_booked(page, "Client", "15:00–15:45")
        await expect(shown).to_be_visible(timeout=1000)
        expires = datetime.fromisoformat(held["expires_at"]).timestamp()
        await expect(shown).to_have_count(0, timeout=(HOLD_SECONDS + 4) * 1000)
        gone = time.time()
        assert expires - 0.5 <= gone <= expires + 3, gone - expires
    finally:
        await client.close()
