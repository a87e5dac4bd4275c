"""The client booking page (static/client.js, static/client/) in a real Chromium.

A real `hub serve` on an embedded database serves the module; accounts and
calendars are made through the protocol, each test with calendars of its own.
Days are counted from the hub's clock (the page takes "today" from the hub
too), at least two days ahead and at fixed wall-clock times, so the tests
pass on any day and at any hour. Screenshots land in
test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, ViewportSize, async_playwright, expect

from tests.browser_helpers import CHROMIUM, launch, shot
from tests.conftest import WEEK_ALL_DAY, Account, make_staff, sign_in, sign_up
from tests.servers import ROOT, HubServer, run_hub
from tests.wsclient import HubClient, session

pytestmark = pytest.mark.browser

ZONE = "Europe/Berlin"
WIDE = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"


# Helpers of this file ------------------------------------------------------


@dataclass
class Clinic:
    """A running hub with an admin, a staff member and two clients."""

    server: HubServer
    env: dict[str, str]
    admin: Account
    staff: Account
    ann: Account
    bob: Account

    async def socket(self, account: Account) -> HubClient:
        return await session(self.server.ws_url, account.access_token)

    async def ask(self, account: Account, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        client = await self.socket(account)
        try:
            return await client.ok(kind, data)
        finally:
            await client.close()

    async def calendar(self, **fields: Any) -> dict[str, Any]:
        data = {
            "name": f"Room {uuid.uuid4().hex[:4]}",
            "timezone": ZONE,
            "working_hours": WEEK_ALL_DAY,
            **fields,
        }
        calendar: dict[str, Any] = (await self.ask(self.admin, "calendar.create", data))["calendar"]
        return calendar


async def start_clinic(env: dict[str, str]) -> tuple[HubServer, Clinic]:
    server = HubServer(env)
    await asyncio.to_thread(server.start)
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
            await sign_up(api, "ann"),
            await sign_up(api, "bob"),
        )
    return server, clinic


@pytest.fixture(scope="module")
async def clinic() -> AsyncIterator[Clinic]:
    folder = tempfile.mkdtemp(prefix="hub-clientpage-")
    server, made = await start_clinic({"DATABASE_URL": f"sqlite:///{folder}/hub.db"})
    try:
        yield made
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        yield browser
        await browser.close()


@pytest.fixture
async def errors() -> list[str]:
    """Uncaught page errors of the test; none may happen."""
    return []


async def open_page(
    browser: Browser,
    url: str,
    account: Account,
    errors: list[str],
    path: str = "/",
    viewport: Any = None,
    zone: str = ZONE,
) -> Page:
    """A new tab, signed in through the form, with the client page ready."""
    context = await browser.new_context(
        viewport=cast(ViewportSize, viewport or WIDE), timezone_id=zone
    )
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{account.email}: {exc}"))
    await page.goto(url + path)
    await page.fill("#signin-email", account.email)
    await page.fill("#signin-password", account.password)
    await page.click("#signin-form button[type=submit]")
    await page.wait_for_selector("body[data-ready=client]")
    await expect(page.get_by_role("grid")).to_be_visible()
    return page


def today() -> date:
    """Today on the hub's clock (this machine's) in the calendars' zone."""
    return datetime.now(ZoneInfo(ZONE)).date()


def day_name(day: date) -> str:
    """As the page names days: "Tue 1 Dec"."""
    return f"{day:%a} {day.day} {day:%b}"


def long_day_name(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def wall(day: date, hour: int, minute: int = 0, zone: str = ZONE) -> str:
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def show_month(page: Page, day: date) -> None:
    """Press "Previous month" / "Next month" until the grid shows the month of `day`."""
    wanted = f"{day:%B %Y}"
    for _ in range(24):
        shown = (await page.locator("#cp-month-title").text_content()) or ""
        if shown == wanted:
            await expect(page.get_by_role("grid", name=wanted)).to_be_visible()
            return
        earlier = datetime.strptime(shown, "%B %Y").date() < day.replace(day=1)
        await page.get_by_role("button", name="Next month" if earlier else "Previous month").click()
        await expect(page.locator("#cp-month-title")).not_to_have_text(shown)
    raise AssertionError(f"the grid never showed {wanted}")


def day_button(page: Page, day: date) -> Locator:
    return page.get_by_role("grid").get_by_role(
        "button", name=re.compile(rf"^{re.escape(day_name(day))}, ")
    )


async def choose_day(page: Page, day: date) -> None:
    await show_month(page, day)
    await day_button(page, day).click()
    await expect(
        page.get_by_role("heading", name=f"Free times on {long_day_name(day)}")
    ).to_be_visible()


def times(page: Page) -> Locator:
    return page.get_by_role("group", name=re.compile(r"^Free times on "))


def time_button(page: Page, text: str) -> Locator:
    return times(page).get_by_role("button", name=text, exact=True)


async def pick(page: Page, text: str) -> None:
    """Pick a free time and wait until the hub holds it for this user."""
    await time_button(page, text).click()
    await expect(page.get_by_text(re.compile(r"^Held for you until \d\d:\d\d"))).to_be_visible()


async def choose_calendar(page: Page, calendar: dict[str, Any]) -> None:
    await page.get_by_role("combobox", name="Calendar").select_option(calendar["id"])


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical on the page as it is."""
    await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate("() => axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def snap(page: Page, name: str) -> None:
    """A full-page screenshot from the top (the sticky top bar stays at the top)."""
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=shot(name), full_page=True)


async def close(page: Page) -> None:
    await page.context.close()


# Tests -----------------------------------------------------------------------


async def test_a_held_time_disappears_on_another_page_within_a_second_and_comes_back(
    clinic: Clinic, browser: Browser, errors: list[str]
) -> None:
    """One client's pick holds a time: another client's button goes within 1 s and returns on release."""
    calendar = await clinic.calendar()
    day = today() + timedelta(days=2)
    path = f"/?calendar={calendar['id']}"
    ann = await open_page(browser, clinic.server.url, clinic.ann, errors, path)
    bob = await open_page(browser, clinic.server.url, clinic.bob, errors, path)
    for page in (ann, bob):
        await choose_day(page, day)
    await expect(time_button(bob, "10:00")).to_be_visible()
    count_before = await day_button(bob, day).get_attribute("aria-label")

    await pick(ann, "10:00")
    started = time.monotonic()
    await expect(time_button(bob, "10:00")).to_have_count(0, timeout=1000)
    assert time.monotonic() - started < 1.0
    await expect(day_button(bob, day)).not_to_have_attribute("aria-label", count_before or "")

    await pick(ann, "11:00")  # picking another time releases the first
    started = time.monotonic()
    await expect(time_button(bob, "10:00")).to_be_visible(timeout=1000)
    await expect(time_button(bob, "11:00")).to_have_count(0, timeout=1000)
    assert time.monotonic() - started < 2.0

    await ann.goto("about:blank")  # leaving the page releases the hold
    await expect(time_button(bob, "11:00")).to_be_visible(timeout=2000)
    await expect(ann.get_by_role("grid")).to_have_count(0)
    await close(ann)
    await close(bob)
    assert not errors


async def test_a_hold_that_runs_out_is_said_and_the_time_comes_back_elsewhere(
    browser: Browser, errors: list[str]
) -> None:
    """When the hub lets a hold expire, its holder is told nothing was booked and others get the time back."""
    folder = tempfile.mkdtemp(prefix="hub-clientpage-expiry-")
    server, clinic = await start_clinic(
        {"DATABASE_URL": f"sqlite:///{folder}/hub.db", "HUB_HOLD_SECONDS": "3"}
    )
    try:
        calendar = await clinic.calendar()
        day = today() + timedelta(days=2)
        path = f"/?calendar={calendar['id']}"
        ann = await open_page(browser, server.url, clinic.ann, errors, path)
        bob = await open_page(browser, server.url, clinic.bob, errors, path)
        for page in (ann, bob):
            await choose_day(page, day)
        await pick(ann, "09:00")
        await expect(time_button(bob, "09:00")).to_have_count(0, timeout=1000)
        await expect(ann.get_by_role("status").filter(has_text="ran out")).to_have_text(
            f"Your hold on {day_name(day)} at 09:00 ran out, so others may book that time now. "
            "Nothing was booked. Pick a time to hold it again.",
            timeout=8000,
        )
        await expect(time_button(bob, "09:00")).to_be_visible(timeout=1000)
        await expect(time_button(ann, "09:00")).to_have_attribute("aria-pressed", "false")
        await close(ann)
        await close(bob)
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(folder, ignore_errors=True)
    assert not errors


async def test_book_from_a_held_time_then_staff_confirms_it_live(
    clinic: Clinic, browser: Browser, errors: list[str]
) -> None:
    """Booking a held time ends the hold in the booking; staff's confirmation shows without reload."""
    calendar = await clinic.calendar()
    day = today() + timedelta(days=3)
    watcher = await clinic.socket(clinic.staff)
    await watcher.ok("subscribe", {"channel": f"calendar:{calendar['id']}"})
    page = await open_page(
        browser, clinic.server.url, clinic.ann, errors, f"/?calendar={calendar['id']}"
    )
    await choose_day(page, day)
    await pick(page, "14:00")
    held = await watcher.next_event()
    assert held["event"] == "slot.held"
    await page.get_by_label("Reason for the visit").fill("Knee check")
    await page.get_by_role("button", name="Book", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="Booked: Knee check")).to_contain_text(
        f"{day_name(day)} at 14:00"
    )
    created = await watcher.next_event()
    assert created["event"] == "appointment.created"
    assert created["data"]["hold_id"] == held["data"]["id"]
    assert created["data"]["starts_at"] == wall(day, 14)

    mine = (
        page.get_by_role("list", name="Your appointments")
        .get_by_role("listitem")
        .filter(has_text="Knee check")
    )
    await expect(mine).to_contain_text("Waiting for confirmation")
    await expect(time_button(page, "14:00")).to_have_count(0)
    await watcher.ok(
        "appointment.set_status",
        {"appointment_id": created["data"]["id"], "status": "confirmed"},
    )
    await expect(mine).to_contain_text("Confirmed", timeout=1000)
    await watcher.close()
    await close(page)
    assert not errors


async def test_reschedule_holds_the_new_time_then_moves_the_appointment(
    clinic: Clinic, browser: Browser, errors: list[str]
) -> None:
    """ "Reschedule" picks and holds a new time the same way, then appointment.update moves it."""
    calendar = await clinic.calendar()
    day = today() + timedelta(days=4)
    booked = (
        await clinic.ask(
            clinic.bob,
            "appointment.create",
            {
                "calendar_id": calendar["id"],
                "starts_at": wall(day, 9),
                "ends_at": wall(day, 9, 30),
                "title": "Check-up",
            },
        )
    )["appointment"]
    page = await open_page(
        browser, clinic.server.url, clinic.bob, errors, f"/?calendar={calendar['id']}"
    )
    item = (
        page.get_by_role("list", name="Your appointments")
        .get_by_role("listitem")
        .filter(has_text="Check-up")
    )
    await item.get_by_role("button", name="Reschedule").click()
    await expect(page.get_by_text("Rescheduling:")).to_be_visible()
    await expect(
        page.get_by_role("heading", name=f"Free times on {long_day_name(day)}")
    ).to_be_visible()
    await pick(page, "15:30")
    await snap(page, "client-page-reschedule-1440.png")
    await page.get_by_role("button", name="Move to this time").click()
    await expect(page.get_by_role("status").filter(has_text="Moved: Check-up")).to_contain_text(
        f"{day_name(day)} at 15:30"
    )
    await expect(item).to_contain_text("15:30–16:00")
    await expect(page.get_by_text("Rescheduling:")).to_be_hidden()
    async with httpx.AsyncClient(base_url=clinic.server.url) as api:
        now = (
            await api.get(f"/api/v1/appointments/{booked['id']}", headers=clinic.bob.auth)
        ).json()
    assert (now["starts_at"], now["ends_at"], now["version"]) == (
        wall(day, 15, 30),
        wall(day, 16),
        2,
    )
    await expect(time_button(page, "09:00")).to_be_visible()  # the old time is free again
    await close(page)
    assert not errors


async def test_book_weekly_is_all_or_nothing_and_books_a_series(
    clinic: Clinic, browser: Browser, errors: list[str]
) -> None:
    """ "Book weekly" previews the dates; a taken week books nothing; a free run books one series."""
    calendar = await clinic.calendar()
    day = today() + timedelta(days=2)
    taken = day + timedelta(days=14)
    await clinic.ask(
        clinic.bob,
        "appointment.create",
        {
            "calendar_id": calendar["id"],
            "starts_at": wall(taken, 10),
            "ends_at": wall(taken, 10, 30),
            "title": "Bob's",
        },
    )
    page = await open_page(
        browser, clinic.server.url, clinic.ann, errors, f"/?calendar={calendar['id']}"
    )
    await choose_day(page, day)
    await pick(page, "10:00")
    await page.get_by_label("Reason for the visit").fill("Physio course")
    await page.get_by_role("checkbox", name="Book weekly").check()
    await page.get_by_role("combobox", name="Number of weeks").select_option("3")
    dates = ", ".join(day_name(day + timedelta(days=7 * i)) for i in range(3))
    await expect(page.get_by_text(f"3 appointments at 10:00: {dates}.")).to_be_visible()

    await page.get_by_role("button", name="Book", exact=True).click()
    notice = page.get_by_role("status").filter(has_text=re.compile("^(Not booked|Booked)"))
    await expect(notice).to_have_text(
        f"Not booked: not every week is free ({day_name(taken)} (taken)). "
        "Nothing was booked; choose fewer weeks or another time."
    )
    await expect(page.get_by_text(re.compile(r"^Held for you until"))).to_be_visible()

    await page.get_by_role("combobox", name="Number of weeks").select_option("2")
    await page.get_by_role("button", name="Book", exact=True).click()
    await expect(notice).to_contain_text(
        f"Booked: Physio course, {day_name(day)} at 10:00, and weekly after that (2 appointments)."
    )
    upcoming = page.get_by_role("list", name="Your appointments")
    await expect(
        upcoming.get_by_role("listitem").filter(has_text="Physio course · weekly")
    ).to_have_count(2)
    mine = (
        await clinic.ask(clinic.ann, "appointments.list", {"channel": f"user:{clinic.ann.id}"})
    )["appointments"]
    course = [a for a in mine if a["title"] == "Physio course"]
    assert sorted(a["starts_at"] for a in course) == [
        wall(day, 10),
        wall(day + timedelta(days=7), 10),
    ]
    assert len({a["series_id"] for a in course}) == 1 and course[0]["series_id"]
    await close(page)
    assert not errors


async def test_next_available_and_days_that_say_why_they_have_no_times(
    clinic: Clinic, browser: Browser, errors: list[str]
) -> None:
    """ "Next available" finds the first day with free times; other days name their reason."""
    first = today() + timedelta(days=3)
    hours = [{"weekday": first.weekday(), "start": "09:00", "end": "10:00"}]
    calendar = await clinic.calendar(working_hours=hours, horizon_days=20)
    full = first + timedelta(days=7)
    await clinic.ask(
        clinic.staff,
        "appointment.create",
        {
            "calendar_id": calendar["id"],
            "starts_at": wall(full, 9),
            "ends_at": wall(full, 10),
            "title": "Block",
            "client_id": clinic.ann.id,
        },
    )
    page = await open_page(browser, clinic.server.url, clinic.ann, errors)
    await choose_calendar(page, calendar)
    # A calendar opens on its first day with free times, in whichever month it falls.
    heading = page.get_by_role("heading", name=f"Free times on {long_day_name(first)}")
    await expect(heading).to_be_visible()
    await expect(day_button(page, first)).to_have_attribute(
        "aria-label", f"{day_name(first)}, 3 free times"
    )

    await page.get_by_role("button", name="Next month").click()
    await page.get_by_role("button", name="Next month").click()
    await page.get_by_role("button", name="Next available").click()
    await expect(page.get_by_role("grid", name=f"{first:%B %Y}")).to_be_visible()
    await expect(heading).to_be_visible()
    await expect(page.locator("td[aria-selected=true]")).to_have_count(1)
    await expect(page.locator("td[aria-selected=true] button")).to_have_attribute(
        "aria-label", f"{day_name(first)}, 3 free times"
    )

    reasons = {
        first + timedelta(days=1): "closed",
        full: "fully booked",
        today() + timedelta(days=21): "beyond the booking horizon",
    }
    for day, reason in reasons.items():
        await show_month(page, day)
        button = day_button(page, day)
        await expect(button).to_have_attribute("aria-label", f"{day_name(day)}, {reason}")
        await expect(button).to_have_attribute("aria-disabled", "true")
        await button.focus()  # disabled days stay focusable
        await expect(button).to_be_focused()
    await show_month(page, today())
    if today().day > 1:
        yesterday = today() - timedelta(days=1)
        await expect(day_button(page, yesterday)).to_have_attribute(
            "aria-label", f"{day_name(yesterday)}, past"
        )
    else:  # no past day in this month, and the page offers no earlier month
        await expect(page.get_by_role("button", name="Previous month")).to_be_disabled()

    # The grid's keyboard: arrows move day by day and week by week, over disabled days too.
    await show_month(page, first)
    await day_button(page, first).focus()
    await page.keyboard.press("ArrowRight")
    await expect(day_button(page, first + timedelta(days=1))).to_be_focused()
    await page.keyboard.press("ArrowUp")
    await expect(day_button(page, first - timedelta(days=6))).to_be_focused()
    await close(page)
    assert not errors


async def test_times_show_in_the_chosen_zone_with_the_calendars_beside_them(
    clinic: Clinic, browser: Browser, errors: list[str]
) -> None:
    """ "Time zone" defaults to the browser's; times show in it, with the calendar's clock beside."""
    calendar = await clinic.calendar()
    day = today() + timedelta(days=2)
    page = await open_page(
        browser,
        clinic.server.url,
        clinic.ann,
        errors,
        f"/?calendar={calendar['id']}",
        zone="America/New_York",
    )
    zone = page.get_by_role("combobox", name="Time zone")
    await expect(zone).to_have_value("America/New_York")
    local = datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo(ZONE)).astimezone(
        ZoneInfo("America/New_York")
    )
    await choose_day(page, local.date())
    await expect(page.get_by_text(re.compile(r"^Times are in New York time"))).to_contain_text(
        "keeps Berlin time"
    )
    await expect(time_button(page, f"{local:%H:%M}, 10:00 Berlin time")).to_be_visible()

    await zone.select_option(ZONE)
    await choose_day(page, day)
    await expect(time_button(page, "10:00")).to_be_visible()
    await expect(page.get_by_text(re.compile(r"^Times are in Berlin time"))).not_to_contain_text(
        "keeps"
    )
    await close(page)
    assert not errors


async def test_cancel_asks_once_more_and_moves_the_appointment_under_past_and_cancelled(
    clinic: Clinic, browser: Browser, errors: list[str]
) -> None:
    """ "Cancel" asks to be sure; the cancelled appointment leaves the upcoming list for "Show past and cancelled"."""
    calendar = await clinic.calendar()
    day = today() + timedelta(days=5)
    await clinic.ask(
        clinic.ann,
        "appointment.create",
        {
            "calendar_id": calendar["id"],
            "starts_at": wall(day, 11),
            "ends_at": wall(day, 11, 30),
            "title": "Dentist",
        },
    )
    page = await open_page(
        browser, clinic.server.url, clinic.ann, errors, f"/?calendar={calendar['id']}"
    )
    upcoming = page.get_by_role("list", name="Your appointments")
    item = upcoming.get_by_role("listitem").filter(has_text="Dentist")
    await item.get_by_role("button", name="Cancel").click()
    await item.get_by_role("button", name="Keep it").click()
    await expect(item.get_by_role("button", name="Reschedule")).to_be_visible()
    await item.get_by_role("button", name="Cancel").click()
    await item.get_by_role("button", name="Yes, cancel it").click()
    await expect(page.get_by_role("status").filter(has_text="Cancelled: Dentist")).to_be_visible()
    await expect(upcoming.get_by_role("listitem").filter(has_text="Dentist")).to_have_count(0)
    past = page.get_by_role("list", name="Past and cancelled appointments")
    await expect(past).to_be_hidden()
    toggle = page.get_by_role("button", name="Show past and cancelled")
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    await toggle.click()
    await expect(past.get_by_role("listitem").filter(has_text="Dentist")).to_contain_text(
        "Cancelled"
    )
    await expect(page.get_by_role("button", name="Hide past and cancelled")).to_have_attribute(
        "aria-expanded", "true"
    )
    await close(page)
    assert not errors


async def test_outage_pauses_booking_and_a_booking_without_answer_is_checked(
    browser: Browser, errors: list[str]
) -> None:
    """During an outage booking is paused with a sentence; a booking that got no answer is checked."""
    folder = tempfile.mkdtemp(prefix="hub-clientpage-outage-")
    env = {"DATABASE_URL": f"sqlite:///{folder}/hub.db"}
    server, clinic = await start_clinic(env)
    try:
        calendar = await clinic.calendar()
        day = today() + timedelta(days=2)
        page = await open_page(
            browser, server.url, clinic.ann, errors, f"/?calendar={calendar['id']}"
        )
        await choose_day(page, day)

        # A booking the hub takes but answers too late: the check finds it.
        await pick(page, "10:00")
        assert server.process is not None
        server.process.send_signal(signal.SIGSTOP)
        await page.get_by_role("button", name="Book", exact=True).click()
        notice = page.get_by_role("status").filter(
            has_text=re.compile("^(No answer|It went|It did)")
        )
        await expect(notice).to_have_text(
            "No answer from the booking system yet. Checking whether your booking went through…",
            timeout=15_000,
        )
        server.process.send_signal(signal.SIGCONT)
        await expect(notice).to_contain_text(
            f"It went through. Booked: Appointment, {day_name(day)} at 10:00.", timeout=10_000
        )

        # A booking the hub never gets: the check, once the hub is back, says nothing was booked.
        await pick(page, "11:00")
        server.process.send_signal(signal.SIGSTOP)
        await page.get_by_role("button", name="Book", exact=True).click()
        await expect(page.get_by_role("button", name="Booking…")).to_be_visible()
        server.kill()
        banner = page.get_by_role("status").filter(
            has_text="connection to the booking system was lost"
        )
        await expect(banner).to_be_visible(timeout=5000)
        await expect(notice).to_contain_text("Checking whether your booking went through")
        await expect(page.get_by_role("button", name=re.compile(r"^Book"))).to_be_disabled()
        await expect(times(page).get_by_role("button").first).to_be_disabled()
        await expect(
            page.get_by_role("list", name="Your appointments").get_by_role("button", name="Cancel")
        ).to_be_disabled()
        await snap(page, "client-page-outage-1440.png")

        server = HubServer(env, port=server.port)
        await asyncio.to_thread(server.start)
        await expect(notice).to_contain_text(
            "It did not go through: the booking system never got it, so nothing was booked.",
            timeout=15_000,
        )
        await expect(banner).to_be_hidden()
        await expect(page.get_by_role("button", name="Book", exact=True)).to_be_enabled()
        mine = (
            await clinic.ask(clinic.ann, "appointments.list", {"channel": f"user:{clinic.ann.id}"})
        )["appointments"]
        assert [a["starts_at"] for a in mine] == [wall(day, 10)]
        await close(page)
    finally:
        if server.process is not None and server.process.poll() is None:
            server.process.send_signal(signal.SIGCONT)
        await asyncio.to_thread(server.stop)
        shutil.rmtree(folder, ignore_errors=True)
    assert not errors


ZONE_CASES = [
    # (zone, day, hour, minute): ordinary times, spring-forward gaps, autumn repeats, odd offsets
    ("Europe/Berlin", date(2027, 3, 28), 2, 30),
    ("Europe/Berlin", date(2027, 10, 31), 2, 30),
    ("Europe/Berlin", date(2027, 7, 1), 9, 0),
    ("America/New_York", date(2027, 3, 14), 2, 30),
    ("America/New_York", date(2027, 11, 7), 1, 30),
    ("America/Santiago", date(2027, 9, 5), 0, 0),
    ("Asia/Kolkata", date(2027, 1, 5), 4, 0),
    ("Australia/Lord_Howe", date(2027, 10, 3), 2, 15),
    ("Australia/Lord_Howe", date(2027, 4, 4), 1, 45),
    ("Pacific/Chatham", date(2027, 9, 26), 2, 50),
]


async def test_zone_arithmetic_matches_the_hubs_rule_for_gaps_and_repeats(
    clinic: Clinic, browser: Browser
) -> None:
    """static/client/zones.js puts a wall time where Python's zoneinfo does (fold=0: gap forward, repeat first)."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(clinic.server.url + "/")
    cases = [[z, {"y": d.year, "m": d.month, "d": d.day}, hh, mm] for z, d, hh, mm in ZONE_CASES]
    found: list[int] = await page.evaluate(
        """async (cases) => {
            const Z = await import("/client/zones.js");
            return cases.map(([zone, day, hour, minute]) => Z.instantOf(day, hour, minute, zone));
        }""",
        cases,
    )
    expected = [
        int(datetime(d.year, d.month, d.day, hh, mm, tzinfo=ZoneInfo(z)).timestamp() * 1000)
        for z, d, hh, mm in ZONE_CASES
    ]
    assert found == expected
    keys: list[str] = await page.evaluate(
        """async (ms) => { const Z = await import("/client/zones.js");
            return ms.map((t) => Z.keyOf(t, "Pacific/Kiritimati")); }""",
        expected,
    )
    assert keys == [
        datetime.fromtimestamp(ms / 1000, ZoneInfo("Pacific/Kiritimati")).date().isoformat()
        for ms in expected
    ]
    await context.close()


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1440", "390"])
async def test_axe_finds_nothing_serious_and_screenshots(
    clinic: Clinic, browser: Browser, errors: list[str], viewport: dict[str, int]
) -> None:
    """axe-core reports no serious or critical violation with a held time and appointments listed."""
    weekdays = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
    calendar = await clinic.calendar(name="Dr Weber · Physiotherapy", working_hours=weekdays)
    day = today() + timedelta(days=2)
    while day.weekday() > 3:  # a weekday with another after it
        day += timedelta(days=1)
    later = day + timedelta(days=1)
    async with httpx.AsyncClient(base_url=clinic.server.url) as api:
        clara = await sign_up(api, "clara")
    for hour in (9, 11, 14):  # a busy morning and afternoon on the chosen day
        await clinic.ask(
            clinic.ann,
            "appointment.create",
            {
                "calendar_id": calendar["id"],
                "starts_at": wall(day, hour),
                "ends_at": wall(day, hour, 30),
                "title": "Taken",
            },
        )
    await clinic.ask(  # confirmed: made by staff
        clinic.staff,
        "appointment.create",
        {
            "calendar_id": calendar["id"],
            "starts_at": wall(later, 9),
            "ends_at": wall(later, 9, 30),
            "title": "Physio",
            "client_id": clara.id,
        },
    )
    await clinic.ask(  # pending: booked by the client
        clara,
        "appointment.create",
        {
            "calendar_id": calendar["id"],
            "starts_at": wall(later, 16),
            "ends_at": wall(later, 16, 30),
            "title": "Follow-up",
        },
    )
    page = await open_page(
        browser,
        clinic.server.url,
        clara,
        errors,
        f"/?calendar={calendar['id']}",
        viewport=viewport,
    )
    await choose_day(page, day)
    await pick(page, "10:30")
    await page.get_by_role("checkbox", name="Book weekly").check()
    width = viewport["width"]
    await snap(page, f"client-page-{width}.png")
    assert await serious_violations(page) == []
    await close(page)
    assert not errors
