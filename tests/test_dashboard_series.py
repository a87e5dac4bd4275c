"""Recurring series on the staff dashboard (issue 14, "Dashboard"), in a real
headless Chromium against a real hub: "Repeat" in New appointment with the
hub's preview of the occurrences (conflicts marked), a refused series shown
the same way, series marked in names and in the appointment dialog, and
"this one / this and following / all" on moves (drag and keyboard), edits
and cancels.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser_helpers import (
    Clinic,
    Pages,
    assert_accessible,
    at,
    date_label,
    running_clinic,
    shot,
)
from tests.conftest import Account
from tests.test_dashboard import (
    LONDON,
    MON,
    TUE,
    WED,
    WEEKDAYS_9_TO_5,
    block,
    book,
    cell,
    dashboard,
    listed,
)

pytestmark = pytest.mark.browser

THU = MON + timedelta(days=3)


@pytest.fixture(scope="module")
async def clinic() -> AsyncIterator[Clinic]:
    async with running_clinic("hub-dashboard-series-") as made:
        yield made


def long_day(day: date) -> str:
    """The dialog's long day in en-GB: "Tue 8 Dec 2026"."""
    return f"{day:%a} {date_label(day)}"


async def book_series(
    clinic: Clinic,
    calendar: dict[str, Any],
    first: date,
    hour: int,
    rule: str,
    title: str = "Check-up",
    client: Account | None = None,
) -> list[dict[str, Any]]:
    """A series booked by staff through the protocol; its occurrences, in order."""
    answer = await clinic.ask(
        clinic.staff,
        "appointment.create",
        {
            "calendar_id": calendar["id"],
            "starts_at": at(first, hour, 0, LONDON),
            "ends_at": at(first, hour, 30, LONDON),
            "title": title,
            "client_id": (client or clinic.client).id,
            "recurrence": rule,
        },
    )
    occurrences: list[dict[str, Any]] = answer["appointments"]
    return occurrences


async def starts(clinic: Clinic, calendar: dict[str, Any], title: str) -> list[str]:
    """The starts of a calendar's active appointments with a title, as the hub holds them."""
    found = await listed(clinic, calendar)
    return sorted(
        a["starts_at"] for a in found if a["title"] == title and a["status"] != "cancelled"
    )


async def open_new_at(page: Page, day: date, hhmm: str, calendar: dict[str, Any]) -> Any:
    await cell(page, day, hhmm, calendar).click()
    dialog = page.get_by_role("dialog", name="New appointment")
    await expect(dialog).to_be_visible()
    return dialog


async def test_repeat_previews_the_dates_marks_a_conflict_and_books_the_series(
    clinic: Clinic, pages: Pages
) -> None:
    """Weekly on Tue and Thu: the preview marks a taken Thursday; booking is refused the same way; Tuesdays book."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    taken = THU + timedelta(days=7)
    await book(clinic, london, taken, 10, title="Taken", client=clinic.client)
    page = await dashboard(pages, clinic, clinic.staff, london)

    dialog = await open_new_at(page, TUE, "10:00", london)
    await dialog.get_by_label("Title").fill("Blood test")
    await dialog.get_by_label("Find client").fill("clientb")
    await dialog.get_by_label("Client", exact=True).select_option(clinic.client2.id)
    await dialog.get_by_role("combobox", name="Repeat", exact=True).select_option("WEEKLY")
    days = dialog.get_by_role("group", name="On")
    await expect(days.get_by_role("checkbox", name="Tue")).to_be_checked()
    await days.get_by_role("checkbox", name="Thu").check()
    await dialog.get_by_role("spinbutton", name="Number of appointments").fill("4")
    await expect(dialog.get_by_role("spinbutton", name="Every 1 week")).to_have_value("1")

    occurrences = dialog.get_by_role("list", name="Occurrences").get_by_role("listitem")
    summary = dialog.locator("#rep-summary")
    await expect(summary).to_contain_text("4 appointments, weekly on Tue and Thu")
    await expect(summary).to_contain_text("1 of them cannot be booked")
    await expect(occurrences).to_have_text(
        [
            re.compile(rf"{long_day(TUE)}, 10:00–10:30$"),
            re.compile(rf"{long_day(THU)}, 10:00–10:30$"),
            re.compile(rf"{long_day(TUE + timedelta(days=7))}, 10:00–10:30$"),
            re.compile(rf"{long_day(taken)}, 10:00–10:30 — cannot be booked: already booked"),
        ]
    )
    await assert_accessible(page, "new appointment dialog, repeat preview")
    await page.screenshot(path=shot("dashboard-repeat-preview.png"))

    # Booked anyway (say the preview was stale): refused all or nothing, shown the same way.
    await dialog.get_by_role("button", name="Create").click()
    message = dialog.locator("#new-msg")
    await expect(message).to_contain_text(
        f"Nothing was booked: 1 of them cannot be booked: {long_day(taken)}, 10:00–10:30"
    )
    await expect(message).to_have_attribute("data-code", "slot_taken")
    await expect(occurrences.filter(has_text="cannot be booked")).to_have_count(1)
    assert await starts(clinic, london, "Blood test") == []

    await days.get_by_role("checkbox", name="Thu").uncheck()
    await expect(summary).to_contain_text("4 appointments, weekly on Tue")
    await expect(summary).to_contain_text("All of them are free.")
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#feedback-status")).to_contain_text(
        "Booked 4 appointments: Blood test, weekly on Tue"
    )
    first = page.get_by_role(
        "button",
        name=re.compile(
            rf"^Blood test, Clientb, 10:00–10:30, confirmed, recurring, {re.escape(london['name'])}"
        ),
    )
    await expect(first).to_be_visible()
    tuesdays = [TUE + timedelta(days=7 * k) for k in range(4)]
    assert await starts(clinic, london, "Blood test") == [at(d, 10, 0, LONDON) for d in tuesdays]
    series = {a["series_id"] for a in await listed(clinic, london) if a["title"] == "Blood test"}
    assert len(series) == 1 and None not in series


async def test_repeat_every_two_weeks_monthly_and_in_another_zone_preview_those_dates(
    clinic: Clinic, pages: Pages
) -> None:
    """Every 2 weeks until a date, every 2 months on a day, and a Tokyo calendar seen from London keep the viewer's days."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    tokyo = await clinic.calendar("Asia/Tokyo", "Tokyo · Video")
    page = await dashboard(pages, clinic, clinic.staff, london, tokyo)
    dialog = await open_new_at(page, TUE, "09:00", london)
    occurrences = dialog.get_by_role("list", name="Occurrences").get_by_role("listitem")

    await dialog.get_by_role("combobox", name="Repeat", exact=True).select_option("WEEKLY")
    await dialog.get_by_role("spinbutton", name=re.compile("^Every")).fill("2")
    await expect(dialog.get_by_role("spinbutton", name="Every 2 weeks")).to_be_visible()
    await dialog.get_by_role("combobox", name="Ends").select_option("until")
    last = TUE + timedelta(days=35)
    await dialog.get_by_label("Last date").fill(last.isoformat())
    await dialog.get_by_label("Last date").press("Tab")
    fortnights = [TUE + timedelta(days=14 * k) for k in range(3)]
    await expect(occurrences).to_have_text(
        [re.compile(rf"^✓{long_day(d)}, 09:00–09:30$") for d in fortnights]
    )

    await dialog.get_by_role("combobox", name="Repeat", exact=True).select_option("MONTHLY")
    await expect(dialog.get_by_label("On day of the month")).to_have_value(str(TUE.day))
    await dialog.get_by_role("combobox", name="Ends").select_option("count")
    await dialog.get_by_role("spinbutton", name="Number of appointments").fill("3")
    await expect(dialog.get_by_role("spinbutton", name="Every 2 months")).to_be_visible()
    months = [month_on(TUE, 2 * k) for k in range(6)]
    monthly = [d for d in months if d is not None][:3]
    await expect(occurrences).to_have_text(
        [re.compile(rf"^✓{long_day(d)}, 09:00–09:30$") for d in monthly]
    )

    # 23:00 on Tuesdays in London is 08:00 on Wednesdays in Tokyo: the rule says WE there.
    await dialog.get_by_label("Calendar").select_option(tokyo["id"])
    await dialog.get_by_label("Start", exact=True).fill("23:00")
    await dialog.get_by_label("End", exact=True).fill("23:30")
    await dialog.get_by_role("combobox", name="Repeat", exact=True).select_option("WEEKLY")
    await dialog.get_by_label("Every 2 weeks").fill("1")
    await dialog.get_by_role("spinbutton", name="Number of appointments").fill("3")
    weekly = [TUE + timedelta(days=7 * k) for k in range(3)]
    await expect(occurrences).to_have_text(
        [re.compile(rf"^✓{long_day(d)}, 23:00–23:30$") for d in weekly]
    )


def month_on(first: date, months: int) -> date | None:
    """The same day of the month `months` later, or None where that month has no such day."""
    month = first.month - 1 + months
    try:
        return first.replace(year=first.year + month // 12, month=month % 12 + 1)
    except ValueError:
        return None


async def test_moving_an_occurrence_asks_which_ones_by_drag_and_by_keyboard(
    clinic: Clinic, pages: Pages
) -> None:
    """A drag with "This and following" moves the later ones too; the keyboard with "This appointment" one; conflicts named."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    mon, tue, wed, thu = await book_series(clinic, london, MON, 10, "FREQ=DAILY;COUNT=4")
    page = await dashboard(pages, clinic, clinic.staff, london)
    await expect(block(page, wed)).to_have_accessible_name(
        re.compile(r"^Check-up, Client, 10:00–10:30, confirmed, recurring, ")
    )

    await block(page, wed).drag_to(
        cell(page, WED, "11:00", london),
        source_position={"x": 20, "y": 3},
        target_position={"x": 20, "y": 3},
    )
    ask = page.get_by_role("dialog", name="Move a recurring appointment")
    await expect(ask).to_be_visible()
    await expect(ask.get_by_role("radio", name="This appointment")).to_be_checked()
    await assert_accessible(page, "scope dialog")
    await page.screenshot(path=shot("dashboard-series-scope.png"))
    await ask.get_by_role("radio", name="This and following appointments").check()
    await ask.get_by_role("button", name="Move them").click()
    await expect(block(page, thu)).to_have_attribute("data-starts-at", at(THU, 11, 0, LONDON))
    await expect(block(page, wed)).to_have_attribute("data-starts-at", at(WED, 11, 0, LONDON))
    await expect(block(page, tue)).to_have_attribute("data-starts-at", at(TUE, 10, 0, LONDON))
    await expect(page.locator("#feedback-status")).to_contain_text(
        "Moved 2 appointments of the series Check-up"
    )

    await block(page, tue).focus()
    await page.keyboard.press("m")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")
    await expect(ask).to_be_visible()
    await ask.get_by_role("button", name="Move", exact=True).click()
    await expect(block(page, tue)).to_have_attribute("data-starts-at", at(TUE, 10, 30, LONDON))
    await expect(block(page, tue)).to_be_focused()
    days = [(MON, 10, 0), (TUE, 10, 30), (WED, 11, 0), (THU, 11, 0)]
    assert await starts(clinic, london, "Check-up") == [at(d, h, m, LONDON) for d, h, m in days]

    # "All" moved by two hours would put Thursday on a booking: refused, and named.
    await book(clinic, london, THU, 13, title="In the way", client=clinic.client2)
    await block(page, mon).drag_to(
        cell(page, MON, "12:00", london),
        source_position={"x": 20, "y": 3},
        target_position={"x": 20, "y": 3},
    )
    await ask.get_by_role("radio", name="All appointments in the series").check()
    await ask.get_by_role("button", name="Move them").click()
    alert = page.locator("#feedback-alert .toast")
    await expect(alert).to_contain_text(
        f"Check-up was not moved. 1 of them cannot be moved: {long_day(THU)}, 13:00–13:30 "
        "(already booked or being booked). Nothing was changed."
    )
    await expect(alert).to_have_attribute("data-code", "slot_taken")
    await expect(block(page, mon)).to_have_attribute("data-starts-at", at(MON, 10, 0, LONDON))
    assert await starts(clinic, london, "Check-up") == [at(d, h, m, LONDON) for d, h, m in days]


async def test_the_dialog_shows_the_series_and_edits_or_cancels_by_scope(
    clinic: Clinic, pages: Pages
) -> None:
    """The dialog names the occurrence's place in its series; a title edit for "this and following", a cancel for all."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    mon, tue, wed = await book_series(clinic, london, MON, 14, "FREQ=DAILY;COUNT=3", "Physio")
    page = await dashboard(pages, clinic, clinic.staff, london)

    await block(page, tue).click()
    dialog = page.get_by_role("dialog", name="Physio")
    await expect(dialog.locator("#appt-series")).to_have_text(
        f"Part of a recurring series: appointment 2 of 3, {MON:%a} {MON.day} {MON:%b} "
        f"to {long_day(WED)}"
    )
    await dialog.get_by_text("Edit title and notes").click()
    await assert_accessible(page, "appointment dialog of an occurrence")
    await page.screenshot(path=shot("dashboard-series-dialog.png"))
    await dialog.get_by_label("Title").fill("Physio, second half")
    await dialog.get_by_role("button", name="Save details").click()
    ask = page.get_by_role("dialog", name="Change a recurring appointment")
    await ask.get_by_role("radio", name="This and following appointments").check()
    await ask.get_by_role("button", name="Save them").click()
    await expect(block(page, wed)).to_have_accessible_name(
        re.compile(r"^Physio, second half, Client, 14:00–14:30")
    )
    await expect(block(page, tue)).to_have_accessible_name(re.compile(r"^Physio, second half"))
    await expect(block(page, mon)).to_have_accessible_name(re.compile(r"^Physio, Client"))

    await block(page, mon).click()
    await (
        page.get_by_role("dialog", name="Physio")
        .get_by_role("button", name="Cancel appointment")
        .click()
    )
    ask = page.get_by_role("dialog", name="Cancel a recurring appointment")
    await ask.get_by_role("radio", name="All appointments in the series").check()
    await assert_accessible(page, "scope dialog, cancel")
    await ask.get_by_role("button", name="Cancel appointments").click()
    for one in (mon, tue, wed):
        await expect(block(page, one)).to_have_attribute("data-status", "cancelled")
    await expect(page.locator("#feedback-status")).to_contain_text(
        "Cancelled 3 appointments of the series"
    )
    statuses = {a["id"]: a["status"] for a in await listed(clinic, london)}
    assert [statuses[a["id"]] for a in (mon, tue, wed)] == ["cancelled"] * 3
