"""Calendar feeds and webhooks on the staff dashboard (issue 15), in a real
headless Chromium against a real hub: "Subscribe in your calendar app" makes,
copies and revokes a feed address that a calendar app could fetch; the
admin's "Webhooks" screen adds a webhook whose secret is shown once, shows
its delivery log from a real HTTP receiver in the test process, retries now
after the receiver failed, and deletes it.

The module's hub may deliver to 127.0.0.1 (HUB_WEBHOOK_ALLOW_PRIVATE) and
waits a minute before a retry of its own, so "Retry now" is what delivers.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import expect

from tests.browser_helpers import (
    Clinic,
    Pages,
    assert_accessible,
    running_clinic,
    shot,
)
from tests.receiver import Receiver
from tests.test_dashboard import LONDON, TUE, WEEKDAYS_9_TO_5, book, dashboard

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def clinic() -> AsyncIterator[Clinic]:
    env = {"HUB_WEBHOOK_ALLOW_PRIVATE": "true", "HUB_WEBHOOK_RETRY_BASE_SECONDS": "60"}
    async with running_clinic("hub-dashboard-feeds-", env) as made:
        yield made


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    yield started
    await started.stop()


async def test_staff_make_copy_and_revoke_a_calendar_feed(clinic: Clinic, pages: Pages) -> None:
    """A calendar's feed address is shown once, copies, serves the appointment to a calendar app, 404s once revoked; one of your own."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    made = await book(clinic, london, TUE, 10, title="Check-up")
    page = await dashboard(pages, clinic, clinic.staff, london)
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await page.get_by_role("link", name="Subscribe").click()
    screen = page.get_by_role("region", name="Subscribe in your calendar app")
    await expect(screen).to_be_visible()

    await screen.get_by_label("Appointments of").select_option(london["id"])
    await screen.get_by_role("button", name="Make feed address").click()
    address = screen.get_by_role("textbox", name="Feed address")
    await expect(address).to_have_value(
        re.compile(r"^http://127\.0\.0\.1:\d+/feeds/[\w-]{20,}\.ics$")
    )
    url = await address.input_value()
    await screen.get_by_role("button", name="Copy address").click()
    await expect(screen.get_by_role("status")).to_contain_text("Copied")
    assert await page.evaluate("navigator.clipboard.readText()") == url
    feeds = screen.get_by_role("list").filter(has_text="made")
    await expect(feeds.get_by_role("listitem")).to_have_count(1)
    await expect(feeds).to_contain_text(london["name"])
    await assert_accessible(page, "subscribe screen")
    await page.screenshot(path=shot("dashboard-feeds.png"))

    async with httpx.AsyncClient(timeout=15) as calendar_app:
        served = await calendar_app.get(url)
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("text/calendar")
        assert f"UID:{made['id']}@127.0.0.1" in served.text

        await screen.get_by_role(
            "button", name=re.compile(rf"^Revoke: {re.escape(london['name'])}")
        ).click()
        ask = page.get_by_role("alertdialog", name="Revoke this feed?")
        await ask.get_by_role("button", name="Revoke feed").click()
        await expect(page.locator("#feedback-status")).to_contain_text("Revoked the feed")
        await expect(screen.get_by_text("No feeds yet")).to_be_visible()
        await expect(address).to_be_hidden()
        assert (await calendar_app.get(url)).status_code == 404

        # A feed of the staff member's own appointments (as a client: none here).
        await screen.get_by_label("Appointments of").select_option(label="Your own appointments")
        await screen.get_by_role("button", name="Make feed address").click()
        await expect(screen.get_by_role("heading", level=3)).to_have_text(
            "New feed address: Your own appointments"
        )
        own = await calendar_app.get(await address.input_value())
        assert own.status_code == 200 and "BEGIN:VCALENDAR" in own.text
        await expect(feeds.get_by_role("listitem")).to_have_text(
            [re.compile("^Your own appointments")]
        )


async def test_admin_adds_a_webhook_reads_its_log_retries_and_deletes_it(
    clinic: Clinic, pages: Pages, receiver: Receiver
) -> None:
    """Add (secret shown once), the delivery log of a real receiver, Retry now after it failed, Delete."""
    london = await clinic.calendar(LONDON, "London · GP", WEEKDAYS_9_TO_5)
    page = await dashboard(pages, clinic, clinic.admin, london)
    await page.get_by_role("link", name="Webhooks").click()
    screen = page.get_by_role("region", name="Webhooks", exact=True)
    await expect(screen).to_be_visible()

    await screen.get_by_label("Receiver address (URL)").fill(receiver.url)
    await screen.get_by_label("Calendars").select_option(london["id"])
    await screen.get_by_role("checkbox", name="Appointment booked").check()
    await screen.get_by_role("button", name="Add webhook").click()
    secret = screen.get_by_role("textbox", name="Signing secret")
    await expect(secret).to_have_value(re.compile(r"^whsec_[A-Za-z0-9+/=]{20,}$"))
    hook = screen.get_by_role("listitem").filter(has_text=receiver.url)
    await expect(hook).to_contain_text("active")
    await expect(hook).to_contain_text(f"{london['name']} · appointment.created")

    await book(clinic, london, TUE, 10, title="Delivered")
    await receiver.wait_until(lambda: len(receiver.successes()) == 1)
    await hook.get_by_role("button", name=f"Delivery log: {receiver.url}").click()
    log = screen.get_by_role("table")
    first = log.get_by_role("row").filter(has_text="appointment.created")
    await expect(first).to_contain_text("delivered")
    await expect(first).to_contain_text("HTTP 200")

    receiver.status = 500
    await book(clinic, london, TUE, 11, title="Refused at first")
    await receiver.wait_until(lambda: any(r.status == 500 for r in receiver.requests))
    retrying = log.get_by_role("row").filter(has_text="retrying")
    await expect(retrying).to_contain_text("HTTP 500", timeout=8000)
    await assert_accessible(page, "webhooks screen with its delivery log")
    await page.screenshot(path=shot("dashboard-webhooks.png"), full_page=True)

    receiver.status = 200
    await hook.get_by_role("button", name=f"Retry now: {receiver.url}").click()
    await receiver.wait_until(lambda: len(receiver.successes()) == 2)
    await expect(log.get_by_role("row").filter(has_text="delivered")).to_have_count(2, timeout=8000)
    assert [r.payload["data"]["appointment"]["title"] for r in receiver.successes()] == [
        "Delivered",
        "Refused at first",
    ]

    await hook.get_by_role("button", name=f"Delete: {receiver.url}").click()
    await (
        page.get_by_role("alertdialog", name="Delete this webhook?")
        .get_by_role("button", name="Delete webhook")
        .click()
    )
    await expect(screen.get_by_text("No webhooks yet.")).to_be_visible()
    await expect(log).to_be_hidden()
    admin = clinic.admin.access_token
    async with httpx.AsyncClient(base_url=clinic.url, timeout=15) as api:
        listed = await api.get("/api/v1/webhooks", headers={"Authorization": f"Bearer {admin}"})
    assert listed.json() == []
