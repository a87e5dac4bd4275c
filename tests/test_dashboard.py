"""The staff dashboard (static/staff/) in a real headless Chromium, driven by
role and accessible name as issue 12 names them.

One embedded hub serves the module; every test makes its own calendars
through the protocol and shows only those. The browser's clock is set to a
Tuesday 08:00 two weeks ahead (London), so weekday and hour never depend on
the day the suite runs. axe-core runs on each view, screen and dialog;
screenshots land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser_helpers import (
    DESKTOP,
    PHONE,
    Clinic,
    Pages,
    assert_accessible,
    at,
    date_label,
    day_label,
    not_reloaded,
    running_clinic,
    shot,
    sign_in_form,
    spare_monday,
    wall,
)
from tests.conftest import Account, make_staff
from tests.servers import HubServer

pytestmark = pytest.mark.browser

LONDON = "Europe/London"
MON = spare_monday(LONDON)
TUE = MON + timedelta(days=1)
WED = MON + timedelta(days=2)
NOW = wall(TUE, 8, 0, LONDON)  # the browser's clock
WEEKDAYS_9_TO_5 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]


@pytest.fixture(scope="module")
async def clinic() -> AsyncIterator[Clinic]:
    async with running_clinic("hub-dashboard-") as made:
        yield made


def path(
    *calendars: dict[str, Any], view: str = "week", day: date | None = None, tz: str | None = LONDON
) -> str:
    query = f"/?calendars={','.join(c['id'] for c in calendars)}&view={view}"
    if day:
        query += f"&date={day.isoformat()}"
    if tz:
        query += f"&tz={tz}"
    return query


async def dashboard(
    pages: Pages, clinic: Clinic, account: Account, *calendars: dict[str, Any], **options: Any
) -> Page:
    """A signed-in dashboard showing only these calendars, its clock at NOW unless told."""
    viewport = options.pop("viewport", DESKTOP)
    locale = options.pop("locale", "en-GB")
    zone = options.pop("zone", LONDON)
    clock = options.pop("clock", NOW)
    page = await pages.open(
        clinic.url,
        account.email,
        account.password,
        path(*calendars, **options),
        viewport,
        locale,
        zone,
        clock,
    )
    await page.wait_for_selector("body[data-loaded]")
    return page


async def book(
    clinic: Clinic,
    calendar: dict[str, Any],
    day: date,
    hour: int,
    minute: int = 0,
    minutes: int = 30,
    title: str = "Check-up",
    client: Account | None = None,
) -> dict[str, Any]:
    zone = calendar["timezone"]
    start = wall(day, hour, minute, zone)
    end = start + timedelta(minutes=minutes)
    return await clinic.book(
        clinic.staff,
        calendar_id=calendar["id"],
        starts_at=at(day, hour, minute, zone),
        ends_at=at(end.date(), end.hour, end.minute, zone),
        title=title,
        client_id=(client or clinic.client).id,
    )


def block(page: Page, appointment: dict[str, Any]) -> Locator:
    return page.locator(f'#view-host .appt[data-id="{appointment["id"]}"]')


def cell(
    page: Page,
    day: date,
    hhmm: str,
    calendar: dict[str, Any],
    closed: bool = False,
    taken: bool = False,
) -> Locator:
    """A grid cell by its name; a taken cell's name goes on with the appointment that starts there."""
    name = (
        f"{day_label(day)}, {hhmm}, {calendar['name']}{', outside working hours' if closed else ''}"
    )
    if taken:
        return page.get_by_role("gridcell", name=re.compile(f"^{re.escape(name)} "))
    return page.get_by_role("gridcell", name=name, exact=True)


async def listed(clinic: Clinic, calendar: dict[str, Any]) -> list[dict[str, Any]]:
    """The calendar's appointments as the hub holds them."""
    data = await clinic.ask(
        clinic.admin, "appointments.list", {"channel": f"calendar:{calendar['id']}"}
    )
    found: list[dict[str, Any]] = data["appointments"]
    return found


async def test_sign_in_and_week_view_name_cells_and_appointments(
    clinic: Clinic, pages: Pages
) -> None:
    """Sign-in and the week are axe-clean; cells and appointments carry their names; overlaps sit side by side."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    # A name with markup in it stays text (the grid's cells are built from markup).
    newyork = await clinic.calendar("America/New_York", "New York · Physio <i>&", WEEKDAYS_9_TO_5)
    gone = await book(clinic, london, TUE, 10, 15, minutes=30, title="Gone")
    await clinic.ask(clinic.staff, "appointment.cancel", {"appointment_id": gone["id"]})
    await book(clinic, london, TUE, 10, title="Check-up")
    await book(clinic, newyork, TUE, 5, minutes=60, title="Physio", client=clinic.client2)

    page = await pages.new_page(DESKTOP, clock=NOW)
    await page.goto(clinic.url + path(london, newyork))
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await assert_accessible(page, "sign-in")
    await page.screenshot(path=shot("dashboard-signin.png"))
    await sign_in_form(page, clinic.staff.email, clinic.staff.password)
    await page.wait_for_selector("body[data-loaded]")

    grid = page.get_by_role("grid", name=f"Week of {date_label(MON)}")
    await expect(grid).to_be_visible()
    await expect(grid.get_by_role("columnheader")).to_have_count(8)
    await expect(cell(page, TUE, "11:00", london)).to_have_count(1)
    occupied = rf"^{day_label(TUE)}, 10:00, {london['name']} .*Check-up, Client, 10:00–10:30"
    await expect(grid.get_by_role("gridcell", name=re.compile(occupied))).to_have_count(1)
    await expect(cell(page, TUE, "07:00", london, closed=True)).to_have_count(1)
    await expect(cell(page, TUE, "18:00", newyork)).to_have_count(1)  # 13:00 in New York
    await expect(grid.locator("i")).to_have_count(0)
    first = page.get_by_role(
        "button", name=re.compile(r"^Check-up, Client, 10:00–10:30, confirmed, London · GP")
    )
    second = page.get_by_role(
        "button",
        name=re.compile(
            r"^Physio, Clientb, 10:00–11:00, 05:00–06:00 New York time, confirmed, New York · Physio"
        ),
    )
    await expect(first).to_be_visible()
    await expect(second).to_contain_text("05:00–06:00 New York time")
    a, b = await first.bounding_box(), await second.bounding_box()
    assert a and b and (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]), (a, b)
    assert min(a["width"], b["width"]) > 70, "overlapping appointments keep a readable width"
    cancelled = block(page, gone)
    await expect(cancelled).to_have_accessible_name(
        re.compile(r"^Gone, Client, 10:15–10:45, cancelled")
    )
    column = await cell(page, TUE, "11:00", london).bounding_box()
    assert column and a["width"] + b["width"] > column["width"] * 0.9, (
        "a cancelled block takes no width"
    )
    await expect(page.get_by_role("checkbox", name=re.compile("London · GP"))).to_be_checked()
    await expect(page.get_by_role("button", name="Week")).to_have_attribute("aria-pressed", "true")
    await assert_accessible(page, "week view")
    await page.screenshot(path=shot("dashboard-week.png"))


async def test_views_switch_and_periods_move(clinic: Clinic, pages: Pages) -> None:
    """Day, Week, Month and Agenda switch (aria-pressed); Previous, Today and Next move by one period."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    tokyo = await clinic.calendar("Asia/Tokyo", "Tokyo · Video", WEEKDAYS_9_TO_5)
    await book(clinic, london, TUE, 9, 30, title="Vaccination")
    await book(clinic, tokyo, WED, 1, title="Video call", client=clinic.client2)
    page = await dashboard(pages, clinic, clinic.staff, london, tokyo)

    await page.get_by_role("button", name="Day", exact=True).click()
    await expect(page.get_by_role("button", name="Day", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(page.get_by_role("button", name="Week")).to_have_attribute("aria-pressed", "false")
    day = page.get_by_role("grid", name=f"Day, {TUE:%a} {date_label(TUE)}")
    await expect(day).to_be_visible()
    await expect(day.get_by_role("columnheader", name=re.compile("Tokyo · Video"))).to_be_visible()
    await expect(
        page.get_by_role("button", name=re.compile(r"^Vaccination, Client, 09:30–10:00"))
    ).to_be_visible()
    await assert_accessible(page, "day view")
    await page.screenshot(path=shot("dashboard-day.png"))
    await page.get_by_role("button", name="Next").click()
    await expect(page.get_by_role("grid", name=f"Day, {WED:%a} {date_label(WED)}")).to_be_visible()
    await page.get_by_role("button", name="Previous").click()
    await page.get_by_role("button", name="Previous").click()
    await expect(page.get_by_role("grid", name=f"Day, {MON:%a} {date_label(MON)}")).to_be_visible()

    await page.get_by_role("button", name="Month").click()
    month = page.get_by_role("grid", name=f"{MON:%B} {MON.year}")
    await expect(month).to_be_visible()
    await expect(
        month.get_by_role("gridcell", name=re.compile(rf"^{day_label(TUE)}, 2 appointments\b"))
    ).to_be_visible()
    await assert_accessible(page, "month view")
    await page.screenshot(path=shot("dashboard-month.png"))
    after = MON.replace(day=1) + timedelta(days=32)
    await page.get_by_role("button", name="Next").click()
    await expect(page.get_by_role("grid", name=f"{after:%B} {after.year}")).to_be_visible()
    await page.get_by_role("button", name="Today").click()
    await expect(month).to_be_visible()

    await page.get_by_role("button", name="Agenda").click()
    agenda = page.get_by_role("list", name="Agenda")
    await expect(agenda).to_be_visible()
    await expect(
        agenda.get_by_role("button", name=re.compile(r"^09:30–10:00 Vaccination Client confirmed"))
    ).to_be_visible()
    await expect(
        agenda.get_by_role(
            "button",
            name=re.compile(r"Video call Clientb .*Tokyo time confirmed Tokyo · Video"),
        )
    ).to_be_visible()
    await assert_accessible(page, "agenda")
    await page.screenshot(path=shot("dashboard-agenda.png"))

    await page.get_by_role("button", name="Week").click()
    await expect(page.get_by_role("grid", name=f"Week of {date_label(MON)}")).to_be_visible()
    await page.get_by_role("button", name="Next").click()
    await expect(
        page.get_by_role("grid", name=f"Week of {date_label(MON + timedelta(days=7))}")
    ).to_be_visible()
    await page.get_by_role("button", name="Today").click()
    await expect(page.get_by_role("grid", name=f"Week of {date_label(MON)}")).to_be_visible()


async def test_arrow_keys_reach_free_cells_and_enter_books_there(
    clinic: Clinic, pages: Pages
) -> None:
    """Free time is reachable by keyboard; Enter on a cell (or a click) opens New appointment at its time."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    page = await dashboard(pages, clinic, clinic.staff, london)

    start = cell(page, TUE, "10:00", london)
    await start.focus()
    await page.keyboard.press("ArrowDown")
    await expect(cell(page, TUE, "10:15", london)).to_be_focused()
    await page.keyboard.press("ArrowRight")
    await expect(cell(page, WED, "10:15", london)).to_be_focused()
    await page.keyboard.press("ArrowLeft")
    await expect(cell(page, TUE, "10:15", london)).to_be_focused()
    await expect(cell(page, TUE, "10:15", london)).to_have_attribute("tabindex", "0")
    await page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="New appointment")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Date", exact=True)).to_have_value(
        f"{TUE:%a} {date_label(TUE)}"
    )
    await expect(dialog.get_by_label("Start", exact=True)).to_have_value("10:15")
    await expect(dialog.get_by_label("End", exact=True)).to_have_value("10:45")
    await expect(dialog.get_by_label("Calendar")).to_have_value(london["id"])
    await dialog.get_by_label("Title").fill("Blood test")
    await dialog.get_by_label("Find client").fill("clientb")
    await dialog.get_by_label("Client", exact=True).select_option(clinic.client2.id)
    await assert_accessible(page, "new appointment dialog")
    await page.screenshot(path=shot("dashboard-new-appointment.png"))
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog).to_be_hidden()
    made = page.get_by_role(
        "button", name=re.compile(r"^Blood test, Clientb, 10:15–10:45, confirmed")
    )
    await expect(made).to_be_visible()

    await cell(page, WED, "14:00", london).click()
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Start", exact=True)).to_have_value("14:00")
    await expect(dialog.get_by_label("Date", exact=True)).to_have_value(
        f"{WED:%a} {date_label(WED)}"
    )


async def test_drag_moves_an_appointment_and_another_browser_sees_it_within_a_second(
    clinic: Clinic, pages: Pages
) -> None:
    """Dropping an appointment on a cell sends appointment.update; a second context shows the move within 1 s."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    made = await book(clinic, london, TUE, 10)
    one = await dashboard(pages, clinic, clinic.staff, london)
    two = await dashboard(pages, clinic, clinic.staff2, london)
    watched = block(two, made)
    await expect(watched).to_have_attribute("data-starts-at", at(TUE, 10, 0, LONDON))

    target = cell(one, WED, "11:00", london)
    await block(one, made).drag_to(
        target, source_position={"x": 20, "y": 3}, target_position={"x": 20, "y": 3}
    )
    dropped = time.monotonic()
    await expect(watched).to_have_attribute("data-starts-at", at(WED, 11, 0, LONDON), timeout=1000)
    assert time.monotonic() - dropped < 1.0
    await expect(watched).to_have_attribute("data-ends-at", at(WED, 11, 30, LONDON))
    await expect(watched).to_have_attribute("data-version", "2")
    await expect(block(one, made)).to_have_attribute("data-starts-at", at(WED, 11, 0, LONDON))
    await expect(one.locator("#feedback-status")).to_contain_text("Moved: Check-up")
    held = {a["id"]: a for a in await listed(clinic, london)}[made["id"]]
    assert (held["starts_at"], held["version"]) == (at(WED, 11, 0, LONDON), 2)
    assert await not_reloaded(two)


async def test_keyboard_moves_an_appointment_and_changes_its_length(
    clinic: Clinic, pages: Pages
) -> None:
    """M picks an appointment up, arrows move it and Shift+Down lengthens it, Enter drops; shown in the help."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    made = await book(clinic, london, TUE, 10)
    one = await dashboard(pages, clinic, clinic.staff, london)
    two = await dashboard(pages, clinic, clinic.staff2, london)

    await one.get_by_text("Keyboard", exact=True).click()
    await expect(one.locator(".help-body")).to_contain_text("pick it up to move it")
    await one.get_by_text("Keyboard", exact=True).click()
    moving = one.get_by_role("button", name=re.compile(r"^Check-up, Client, 10:00–10:30"))
    await moving.focus()
    await one.keyboard.press("m")
    await expect(one.locator("#grid-status")).to_contain_text("Moving Check-up")
    for key in ["ArrowDown", "ArrowDown", "ArrowRight", "Shift+ArrowDown"]:
        await one.keyboard.press(key)
    await expect(one.locator("#grid-status")).to_contain_text(f"{day_label(WED)}, 10:30–11:15")
    await one.keyboard.press("Enter")
    dropped = time.monotonic()
    watched = block(two, made)
    await expect(watched).to_have_attribute("data-starts-at", at(WED, 10, 30, LONDON), timeout=1000)
    assert time.monotonic() - dropped < 1.0
    await expect(watched).to_have_attribute("data-ends-at", at(WED, 11, 15, LONDON))
    await expect(block(one, made)).to_be_focused()

    await block(one, made).focus()
    await one.keyboard.press("m")
    await one.keyboard.press("ArrowDown")
    await one.keyboard.press("Escape")
    await expect(one.locator("#grid-status")).to_contain_text("stays where it was")
    await asyncio.sleep(0.3)
    await expect(watched).to_have_attribute("data-version", "2")


async def test_dragging_the_lower_edge_changes_the_length(clinic: Clinic, pages: Pages) -> None:
    """Dragging an appointment's lower edge sends a new end, snapped to 15 minutes."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    made = await book(clinic, london, TUE, 10)
    page = await dashboard(pages, clinic, clinic.staff, london)
    await block(page, made).hover()
    await expect(block(page, made)).to_have_class(re.compile(r"\bresizable\b"))
    box = await block(page, made).bounding_box()
    assert box
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 3  # on its lower edge
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x, y + 20, steps=3)
    await page.mouse.move(x, y + 45, steps=3)
    await page.mouse.up()
    await expect(block(page, made)).to_have_attribute("data-ends-at", at(TUE, 11, 15, LONDON))
    await expect(block(page, made)).to_have_attribute("data-starts-at", at(TUE, 10, 0, LONDON))
    held = {a["id"]: a for a in await listed(clinic, london)}[made["id"]]
    assert held["ends_at"] == at(TUE, 11, 15, LONDON)


async def test_refused_moves_put_the_block_back_and_say_why(clinic: Clinic, pages: Pages) -> None:
    """slot_taken and version_conflict leave the block where it was, with a sentence a receptionist understands."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    made = await book(clinic, london, TUE, 10)
    await book(clinic, london, TUE, 12, title="Taken", client=clinic.client2)
    page = await dashboard(pages, clinic, clinic.staff, london)
    top = await block(page, made).evaluate("(el) => el.getBoundingClientRect().top")

    await block(page, made).drag_to(
        cell(page, TUE, "12:00", london, taken=True),
        source_position={"x": 20, "y": 3},
        target_position={"x": 20, "y": 3},
    )
    alert = page.locator("#feedback-alert .toast")
    await expect(alert).to_contain_text("Check-up was not moved. That time is already booked")
    await expect(alert).to_have_attribute("data-code", "slot_taken")
    await expect(block(page, made)).to_have_attribute("data-starts-at", at(TUE, 10, 0, LONDON))
    await asyncio.sleep(0.4)  # any slide has settled
    assert await block(page, made).evaluate("(el) => el.getBoundingClientRect().top") == top

    # Hold this page's events, as if another change were still on its way.
    await page.evaluate(f"window.hub._subs.get('calendar:{london['id']}')._buffer = []")
    await clinic.ask(
        clinic.staff2,
        "appointment.update",
        {"appointment_id": made["id"], "version": 1, "title": "Renamed"},
    )
    await block(page, made).drag_to(
        cell(page, TUE, "14:00", london),
        source_position={"x": 20, "y": 3},
        target_position={"x": 20, "y": 3},
    )
    await expect(alert).to_contain_text("Someone else changed this appointment a moment ago")
    await expect(alert).to_have_attribute("data-code", "version_conflict")
    await expect(block(page, made)).to_have_attribute("data-version", "2")
    await expect(block(page, made)).to_have_accessible_name(
        re.compile(r"^Renamed, Client, 10:00–10:30")
    )
    await expect(block(page, made)).to_have_attribute("data-starts-at", at(TUE, 10, 0, LONDON))


async def test_no_show_asks_once_on_an_appointment_that_has_begun(
    clinic: Clinic, pages: Pages
) -> None:
    """No-show (allowed once an appointment has begun, by the hub's clock) asks once."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    yesterday = datetime.now(ZoneInfo(LONDON)).date() - timedelta(days=1)
    earlier = await book(clinic, london, yesterday, 11, title="Follow-up")
    page = await dashboard(
        pages, clinic, clinic.staff, london, day=yesterday, clock=datetime.now(UTC)
    )
    dialog = page.get_by_role("dialog", name="Follow-up")
    confirm = page.get_by_role("alertdialog")
    await block(page, earlier).click()
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="No-show").click()
    await expect(confirm).to_have_accessible_name("Mark as a no-show?")
    await confirm.get_by_role("button", name="Go back").click()
    await expect(block(page, earlier)).to_have_attribute("data-status", "confirmed")
    await dialog.get_by_role("button", name="No-show").click()
    await confirm.get_by_role("button", name="Mark no-show").click()
    await expect(block(page, earlier)).to_have_attribute("data-status", "no_show")


async def test_cancel_asks_once_and_can_be_undone(clinic: Clinic, pages: Pages) -> None:
    """Cancel asks once and offers Undo for more than 5 s, which books the slot again; no layout shift."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    made = await book(clinic, london, TUE, 10, title="Check-up")
    page = await dashboard(pages, clinic, clinic.staff, london)
    confirm = page.get_by_role("alertdialog")

    grid_box = await page.get_by_role("grid").bounding_box()
    await block(page, made).click()
    appointment = page.get_by_role("dialog", name="Check-up")
    await expect(appointment).to_be_visible()
    await assert_accessible(page, "appointment dialog")
    await page.screenshot(path=shot("dashboard-appointment.png"))
    await appointment.get_by_role("button", name="Cancel appointment").click()
    await expect(confirm).to_have_accessible_name("Cancel this appointment?")
    await assert_accessible(page, "confirmation dialog")
    await page.screenshot(path=shot("dashboard-confirm-cancel.png"))
    await confirm.get_by_role("button", name="Keep appointment").click()
    await expect(block(page, made)).to_have_attribute("data-status", "confirmed")
    await appointment.get_by_role("button", name="Cancel appointment").click()
    await confirm.get_by_role("button", name="Cancel appointment").click()
    await expect(block(page, made)).to_have_attribute("data-status", "cancelled")
    toast = page.locator("#feedback-status .toast")
    await expect(toast).to_contain_text("Cancelled: Check-up")
    assert await page.get_by_role("grid").bounding_box() == grid_box, "feedback moved the layout"
    await page.screenshot(path=shot("dashboard-undo.png"))

    await page.clock.run_for(5500)
    undo = toast.get_by_role("button", name="Undo")
    await expect(undo).to_be_visible()
    await undo.click()
    await expect(page.locator("#feedback-status")).to_contain_text("Booked again: Check-up")
    again = page.get_by_role(
        "button", name=re.compile(r"^Check-up, Client, 10:00–10:30, confirmed")
    )
    await expect(again).to_be_visible()
    rebooked = [
        a
        for a in await listed(clinic, london)
        if a["status"] == "confirmed" and a["title"] == "Check-up"
    ]
    assert len(rebooked) == 1 and rebooked[0]["id"] != made["id"]
    assert (rebooked[0]["starts_at"], rebooked[0]["client_id"]) == (
        made["starts_at"],
        clinic.client.id,
    )


async def test_others_changes_are_highlighted_and_reach_the_open_dialog(
    clinic: Clinic, pages: Pages
) -> None:
    """Someone else's move shows at once, highlighted, and the open dialog says it changed."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    made = await book(clinic, london, TUE, 10)
    page = await dashboard(pages, clinic, clinic.staff, london)
    await block(page, made).click()
    dialog = page.get_by_role("dialog", name="Check-up")
    await expect(dialog.locator("#appt-when")).to_contain_text("10:00–10:30")

    sent = time.monotonic()
    await clinic.ask(
        clinic.staff2,
        "appointment.update",
        {
            "appointment_id": made["id"],
            "version": 1,
            "starts_at": at(TUE, 11, 0, LONDON),
            "ends_at": at(TUE, 11, 30, LONDON),
        },
    )
    await expect(dialog.locator("#appt-changed")).to_contain_text(
        "Someone else just moved this", timeout=1000
    )
    assert time.monotonic() - sent < 1.0
    await expect(dialog.locator("#appt-when")).to_contain_text("11:00–11:30")
    await expect(dialog.get_by_label("Start", exact=True)).to_have_value("11:00")
    await dialog.get_by_role("button", name="Close dialog").click()
    other = await book(clinic, london, TUE, 15, title="Walk-in", client=clinic.client2)
    await expect(block(page, other)).to_have_class(re.compile(r"\bglowing\b"))


async def test_admin_creates_a_calendar_with_working_hours_and_books_in_it(
    clinic: Clinic, pages: Pages
) -> None:
    """Calendars → New calendar with a zone and hours per weekday; it is saved as typed and bookable from its cells."""
    page = await dashboard(pages, clinic, clinic.admin, view="day", day=MON, tz="Asia/Tokyo")
    await page.get_by_role("link", name="Calendars").click()
    await expect(page.get_by_role("heading", name="Calendars", level=1)).to_be_visible()
    await page.get_by_role("button", name="New calendar").click()
    form = page.locator("#cal-form")
    name = f"Tokyo · Room {time.time_ns() % 100000}"
    await form.get_by_label("Name").fill(name)
    await form.get_by_label("Time zone").select_option("Asia/Tokyo")
    monday = form.get_by_role("group", name="Monday")
    await monday.get_by_label("Start", exact=True).fill("10:00")
    await monday.get_by_label("End", exact=True).fill("16:00")
    tuesday = form.get_by_role("group", name="Tuesday")
    await tuesday.get_by_role("button", name="Add range").click()
    await tuesday.get_by_label("Start", exact=True).nth(1).fill("18:00")
    await tuesday.get_by_label("End", exact=True).nth(1).fill("00:00")
    await (
        form.get_by_role("group", name="Wednesday")
        .get_by_role("button", name=re.compile("Remove"))
        .click()
    )
    await form.get_by_label("Slot step (minutes)").fill("30")
    await form.get_by_label("Minimum notice (minutes)").fill("120")
    await assert_accessible(page, "calendars screen")
    await page.screenshot(path=shot("dashboard-calendars.png"), full_page=True)
    await form.get_by_role("button", name="Create calendar").click()
    await expect(page.locator("#feedback-status")).to_contain_text(f"Created {name}")
    await expect(page.get_by_role("button", name=re.compile(re.escape(name)))).to_be_visible()

    calendars = (await clinic.ask(clinic.admin, "calendars.list", {}))["calendars"]
    made = next(c for c in calendars if c["name"] == name)
    assert made["timezone"] == "Asia/Tokyo"
    assert (made["slot_step_minutes"], made["min_notice_minutes"]) == (30, 120)
    hours = {(r["weekday"], r["start"], r["end"]) for r in made["working_hours"]}
    assert hours == {
        (0, "10:00", "16:00"),
        (1, "09:00", "17:00"),
        (1, "18:00", "24:00"),
        (3, "09:00", "17:00"),
        (4, "09:00", "17:00"),
    }

    await page.get_by_role("link", name="Schedule").click()
    await expect(page.get_by_role("checkbox", name=re.compile(re.escape(name)))).to_be_checked()
    await expect(cell(page, MON, "09:00", made, closed=True)).to_have_count(1)
    await cell(page, MON, "10:00", made).focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New appointment")
    await expect(dialog.get_by_label("Calendar")).to_have_value(made["id"])
    await dialog.get_by_label("Find client").fill("clientb")
    await dialog.get_by_label("Client", exact=True).select_option(clinic.client2.id)
    await dialog.get_by_role("button", name="Create").click()
    await expect(
        page.get_by_role(
            "button",
            name=re.compile(rf"^Appointment, Clientb, 10:00–10:30, confirmed, {re.escape(name)}"),
        )
    ).to_be_visible()
    booked = await listed(clinic, made)
    assert [a["starts_at"] for a in booked] == [at(MON, 10, 0, "Asia/Tokyo")]


async def test_block_time_from_a_selected_range_and_lift_it(clinic: Clinic, pages: Pages) -> None:
    """A range selected with Shift+arrows (or a drag) becomes time off with "Block time"; lifting it frees it."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    page = await dashboard(pages, clinic, clinic.staff, london, view="day", day=TUE)

    first = cell(page, TUE, "15:00", london)
    last = cell(page, TUE, "15:45", london)
    await first.scroll_into_view_if_needed()
    one, two = await first.bounding_box(), await last.bounding_box()
    assert one and two
    await page.mouse.move(one["x"] + 40, one["y"] + 5)
    await page.mouse.down()
    await page.mouse.move(two["x"] + 40, two["y"] + 8, steps=4)
    await page.mouse.up()
    selected = page.get_by_role("region", name="Selected time")
    await expect(selected).to_contain_text("15:00–16:00")
    await expect(page.locator('[role="gridcell"][aria-selected="true"]')).to_have_count(4)

    await cell(page, TUE, "13:00", london).focus()
    for _ in range(3):
        await page.keyboard.press("Shift+ArrowDown")
    await expect(selected).to_contain_text(f"{day_label(TUE)}, 13:00–14:00, {london['name']}")
    await selected.get_by_role("button", name="Block time").click()
    dialog = page.get_by_role("dialog", name="Block time")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Start", exact=True)).to_have_value("13:00")
    await expect(dialog.get_by_label("End", exact=True)).to_have_value("14:00")
    await dialog.get_by_label("Reason").fill("Staff meeting")
    await assert_accessible(page, "block time dialog")
    await dialog.get_by_role("button", name="Block time").click()
    time_off = page.get_by_role("button", name=re.compile(r"^Time off: Staff meeting, 13:00–14:00"))
    await expect(time_off).to_be_visible()
    blocks = [a for a in await listed(clinic, london) if a.get("kind") == "block"]
    assert [(b["starts_at"], b["ends_at"], b["status"]) for b in blocks] == [
        (at(TUE, 13, 0, LONDON), at(TUE, 14, 0, LONDON), "confirmed")
    ]

    await time_off.click()
    await (
        page.get_by_role("dialog", name="Time off: Staff meeting")
        .get_by_role("button", name="Lift block")
        .click()
    )
    await expect(page.locator("#feedback-status")).to_contain_text("Time off lifted")
    assert [a["status"] for a in await listed(clinic, london) if a.get("kind") == "block"] == [
        "cancelled"
    ]


async def test_admin_demotes_and_deactivates_a_user_after_confirming(
    clinic: Clinic, pages: Pages
) -> None:
    """Users: search, change a role (demotion asks once) and deactivate (asks once); the hub holds the change."""
    async with httpx.AsyncClient(base_url=clinic.url, timeout=15) as api:
        member = await make_staff(api, clinic.admin, "nurse")
    page = await dashboard(pages, clinic, clinic.admin)
    await page.get_by_role("link", name="Users").click()
    await page.get_by_role("searchbox", name="Search users").fill(member.email.split("@")[0])
    role = page.get_by_role("combobox", name="Role of Nurse")
    await expect(role).to_have_value("staff")
    await assert_accessible(page, "users screen")
    await page.screenshot(path=shot("dashboard-users.png"))

    await role.select_option("user")
    confirm = page.get_by_role("alertdialog", name="Demote Nurse to client?")
    await expect(confirm).to_be_visible()
    await confirm.get_by_role("button", name="Keep role").click()
    await expect(role).to_have_value("staff")
    await role.select_option("user")
    await confirm.get_by_role("button", name="Demote").click()
    await expect(page.locator("#feedback-status")).to_contain_text("Nurse is now client")

    await page.get_by_role("checkbox", name="Nurse is active").uncheck()
    await (
        page.get_by_role("alertdialog", name="Deactivate Nurse?")
        .get_by_role("button", name="Deactivate")
        .click()
    )
    await expect(page.locator("#feedback-status")).to_contain_text("Nurse is deactivated")
    users = (await clinic.ask(clinic.admin, "users.list", {"query": member.email}))["users"]
    assert [(u["role"], u["is_active"]) for u in users] == [("user", False)]


async def test_search_clients_jumps_to_their_appointment(clinic: Clinic, pages: Pages) -> None:
    """ "Search clients" finds a client by email, lists their appointments, and jumps to one."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    made = await book(clinic, london, WED, 15, title="Knee check", client=clinic.client2)
    page = await dashboard(pages, clinic, clinic.staff, london, day=MON - timedelta(days=21))

    await page.get_by_role("searchbox", name="Search clients").fill(clinic.client2.email[:12])
    await page.get_by_role("button", name=re.compile(r"^Clientb")).click()
    client = page.get_by_role("dialog", name="Clientb")
    await expect(client).to_be_visible()
    await expect(client.get_by_role("button", name=re.compile("Knee check"))).to_be_visible()
    await assert_accessible(page, "client dialog")
    await client.get_by_role("button", name=re.compile("Knee check")).click()
    await expect(page.get_by_role("dialog", name="Knee check")).to_be_visible()
    await expect(page.get_by_role("grid", name=f"Week of {date_label(MON)}")).to_be_visible()
    await expect(block(page, made)).to_have_attribute("data-starts-at", at(WED, 15, 0, LONDON))


async def test_time_zone_follows_the_browser_is_remembered_and_the_format_follows_the_locale(
    clinic: Clinic, pages: Pages
) -> None:
    """The zone defaults to the browser's, lists every IANA zone, is remembered; times follow an en-US locale."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    made = await book(clinic, london, TUE, 10)
    page = await dashboard(
        pages, clinic, clinic.staff, london, tz=None, zone="America/New_York", locale="en-US"
    )
    select = page.get_by_role("combobox", name="Time zone")
    await expect(select).to_have_value("America/New_York")
    assert await select.locator("option").count() > 400
    await expect(block(page, made)).to_have_accessible_name(
        re.compile(
            r"^Check-up, Client, 5:00 AM–5:30 AM, 10:00 AM–10:30 AM London time, confirmed, London · GP"
        )
    )
    await expect(page.get_by_role("rowheader", name="9:00 AM")).to_have_count(1)
    monday = MON - timedelta(days=1)  # en-US weeks start on Sunday
    await expect(
        page.get_by_role("grid", name=f"Week of {monday:%b} {monday.day}, {monday.year}")
    ).to_be_visible()

    await select.select_option("Asia/Tokyo")
    await expect(block(page, made)).to_have_accessible_name(
        re.compile(r"^Check-up, Client, 7:00 PM–7:30 PM")
    )
    await page.goto(clinic.url + "/")
    await page.wait_for_selector("body[data-loaded]")
    await expect(page.get_by_role("combobox", name="Time zone")).to_have_value("Asia/Tokyo")


async def test_a_week_with_nothing_left_opens_on_the_next_one(clinic: Clinic, pages: Pages) -> None:
    """On Sunday evening "Today" opens next week and says so, with a way back."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    sunday = MON - timedelta(days=1)
    page = await dashboard(pages, clinic, clinic.staff, london, clock=wall(sunday, 18, 0, LONDON))
    await expect(page.get_by_role("grid", name=f"Week of {date_label(MON)}")).to_be_visible()
    await expect(page.locator("#range-note")).to_contain_text("Nothing is left this week")
    await page.get_by_role("button", name="Show this week anyway").click()
    await expect(
        page.get_by_role("grid", name=f"Week of {date_label(MON - timedelta(days=7))}")
    ).to_be_visible()
    await page.get_by_role("button", name="Today").click()
    await expect(page.get_by_role("grid", name=f"Week of {date_label(MON)}")).to_be_visible()


async def test_phone_width_opens_the_day_and_stays_accessible(clinic: Clinic, pages: Pages) -> None:
    """At a phone's width the dashboard opens on the day view; day and agenda are axe-clean."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    newyork = await clinic.calendar("America/New_York", "New York · Physio", WEEKDAYS_9_TO_5)
    await book(clinic, london, TUE, 9)
    await book(clinic, london, TUE, 10, minutes=60, title="Physio review", client=clinic.client2)
    await book(clinic, newyork, TUE, 6, title="Video call")
    page = await pages.open(
        clinic.url,
        clinic.staff.email,
        clinic.staff.password,
        f"/?calendars={london['id']},{newyork['id']}&tz={LONDON}",
        PHONE,
        clock=NOW,
    )
    await page.wait_for_selector("body[data-loaded]")
    await expect(page.get_by_role("grid", name=f"Day, {TUE:%a} {date_label(TUE)}")).to_be_visible()
    await assert_accessible(page, "day view, phone")
    await page.screenshot(path=shot("dashboard-phone-day.png"))
    await page.get_by_role("button", name="Agenda").click()
    await assert_accessible(page, "agenda, phone")
    await page.screenshot(path=shot("dashboard-phone-agenda.png"))


async def test_lost_race_in_new_appointment_shows_slot_taken_and_the_winner(
    clinic: Clinic, pages: Pages
) -> None:
    """Booking a time someone took a moment earlier says so, and the grid shows the real booking."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    page = await dashboard(pages, clinic, clinic.staff, london, view="day", day=TUE)
    await cell(page, TUE, "14:00", london).click()
    dialog = page.get_by_role("dialog", name="New appointment")
    await dialog.get_by_label("Title").fill("Race loser")
    await dialog.get_by_label("Find client").fill("clientb")
    await dialog.get_by_label("Client", exact=True).select_option(clinic.client2.id)
    winner = await book(clinic, london, TUE, 14, title="Race winner")
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog.locator("#new-msg")).to_contain_text("That time is already booked")
    await expect(dialog.locator("#new-msg")).to_have_attribute("data-code", "slot_taken")
    await dialog.get_by_role("button", name="Close", exact=True).click()
    await expect(block(page, winner)).to_have_accessible_name(
        re.compile(r"^Race winner, Client, 14:00–14:30, confirmed")
    )
    await expect(page.get_by_role("button", name=re.compile("Race loser"))).to_have_count(0)


async def test_zone_arithmetic_handles_gaps_and_repeated_hours(
    clinic: Clinic, pages: Pages
) -> None:
    """zoned.js: a wall time in a spring-forward gap moves forward, a repeated one takes its first occurrence."""
    page = await pages.new_page()
    await page.goto(clinic.url + "/")
    found = await page.evaluate(
        """async () => {
            const Z = await import("/zoned.js");
            const t = (y, m, d, h, min, tz) => Z.zonedTime({ y, m, d }, h, min, tz).toISOString();
            return [
                t(2026, 3, 8, 2, 30, "America/New_York"),
                t(2026, 10, 25, 1, 30, "Europe/London"),
                t(2026, 9, 6, 0, 0, "America/Santiago"),
                t(2026, 11, 30, 24, 0, "Europe/London"),
                Z.wall(new Date("2026-10-25T01:30:00Z"), "Europe/London").hour,
            ];
        }"""
    )
    assert found == [
        "2026-03-08T07:30:00.000Z",
        "2026-10-25T00:30:00.000Z",
        "2026-09-06T04:00:00.000Z",
        "2026-12-01T00:00:00.000Z",
        1,
    ]


async def test_page_reconnects_after_hub_restart_and_shows_what_changed(
    clinic: Clinic, pages: Pages
) -> None:
    """The hub restarts under an open dashboard; it reconnects alone and shows the changes made meanwhile."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    first = await book(clinic, london, TUE, 8, minutes=45, title="Before")
    page = await dashboard(pages, clinic, clinic.staff, london, view="day", day=TUE)
    await expect(block(page, first)).to_have_attribute("data-status", "confirmed")

    await asyncio.to_thread(clinic.server.stop)
    await expect(page.locator("#conn")).to_have_attribute("data-state", "reconnecting")
    clinic.server = HubServer(clinic.env, port=clinic.server.port)
    await asyncio.to_thread(clinic.server.start)
    await clinic.ask(
        clinic.staff, "appointment.cancel", {"appointment_id": first["id"], "version": 1}
    )
    second = await book(
        clinic, london, TUE, 8, minutes=45, title="After restart", client=clinic.client2
    )

    await expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=20_000)
    await expect(block(page, first)).to_have_attribute("data-status", "cancelled")
    await expect(block(page, second)).to_have_accessible_name(re.compile("After restart"))
    assert await not_reloaded(page)
