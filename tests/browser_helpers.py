"""Helpers for the browser suites: Debian's Chromium, a clinic on a real hub,
signed-in pages with a set locale, zone and clock, axe-core, times in a zone."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    ViewportSize,
)

from tests.conftest import WEEK_ALL_DAY, Account, make_staff, sign_in, sign_up
from tests.servers import ROOT, HubServer, run_hub
from tests.wsclient import HubClient, session

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_SCRIPT = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
# Logged by the browser when the hub is down or answers an error status, which tests cause on purpose.
EXPECTED_CONSOLE = ("WebSocket connection to", "Failed to load resource")
LAPTOP = {"width": 1360, "height": 900}
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: apt-get install -y chromium"
        if os.environ.get("HUB_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Pages:
    """Browser contexts opened by one test; page errors are collected to assert on."""

    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def new_page(
        self,
        viewport: Any = None,
        locale: str = "en-GB",
        zone: str = "Europe/London",
        clock: datetime | None = None,
        label: str = "page",
    ) -> Page:
        """A new tab (own storage) in a locale and zone; its clock starts at `clock` when given."""
        context = await self.browser.new_context(
            viewport=cast(ViewportSize, viewport or LAPTOP), locale=locale, timezone_id=zone
        )
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{label}: {exc}"))
        page.on("console", lambda message: self._console(label, message))
        if clock is not None:
            await page.clock.install(time=clock)
        return page

    def _console(self, label: str, message: ConsoleMessage) -> None:
        """Errors our code logs (caught exceptions included); the browser's own network noise is not ours."""
        text = message.text
        if message.type == "error" and not text.startswith(EXPECTED_CONSOLE):
            self.errors.append(f"{label}: console: {text}")

    async def open(
        self,
        base_url: str,
        email: str,
        password: str,
        path: str = "/",
        viewport: Any = None,
        locale: str = "en-GB",
        zone: str = "Europe/London",
        clock: datetime | None = None,
    ) -> Page:
        """A new tab signed in through the form."""
        page = await self.new_page(viewport, locale, zone, clock, label=email)
        await page.goto(base_url + path)
        await sign_in_form(page, email, password)
        return page

    async def register(self, base_url: str, full_name: str, email: str, password: str) -> Page:
        """A new tab that creates an account through the form (and is then signed in)."""
        page = await self.new_page(label=email)
        await page.goto(base_url + "/")
        await page.click("#show-register")
        await page.fill("#register-name", full_name)
        await page.fill("#register-email", email)
        await page.fill("#register-password", password)
        await page.click("#register-form button[type=submit]")
        await page.wait_for_selector("body[data-ready=client]")
        await page.wait_for_selector("#conn[data-state=live]")
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


async def sign_in_form(page: Page, email: str, password: str) -> None:
    await page.fill("#signin-email", email)
    await page.fill("#signin-password", password)
    await page.click("#signin-form button[type=submit]")
    await page.wait_for_selector("body[data-ready=staff], body[data-ready=client]")
    await page.wait_for_selector("#conn[data-state=live]")
    # A marker that a reload would wipe: proves later changes came without one.
    await page.evaluate("window.__noReload = true")


async def not_reloaded(page: Page) -> bool:
    return bool(await page.evaluate("window.__noReload === true"))


# A clinic on a real hub


@dataclass
class Clinic:
    """A running hub with an admin, two staff and two clients, all made through the protocol."""

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

    async def calendar(
        self,
        zone: str = "Europe/Berlin",
        name: str = "Room",
        hours: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A new calendar with a unique name ("<name> <5 hex>")."""
        admin = await self.socket(self.admin)
        try:
            data = {
                "name": f"{name} {uuid.uuid4().hex[:5]}",
                "timezone": zone,
                "working_hours": WEEK_ALL_DAY if hours is None else hours,
            }
            calendar: dict[str, Any] = (await admin.ok("calendar.create", data))["calendar"]
            return calendar
        finally:
            await admin.close()

    async def book(self, by: Account, **data: Any) -> dict[str, Any]:
        appointment: dict[str, Any] = (await self.ask(by, "appointment.create", data))[
            "appointment"
        ]
        return appointment

    async def ask(self, by: Account, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """One request over a fresh socket that must succeed; its answer's data."""
        client = await self.socket(by)
        try:
            return await client.ok(kind, data)
        finally:
            await client.close()


@asynccontextmanager
async def running_clinic(
    prefix: str, extra_env: dict[str, str] | None = None
) -> AsyncIterator[Clinic]:
    """A hub on an embedded database in a temp folder, with its people made through the protocol."""
    folder = tempfile.mkdtemp(prefix=prefix)
    env = {"DATABASE_URL": f"sqlite:///{folder}/hub.db", **(extra_env or {})}
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
        # A test may swap in a new server process: stop whichever runs.
        await asyncio.to_thread((clinic.server if clinic else server).stop)
        shutil.rmtree(folder, ignore_errors=True)


# axe-core


async def serious_violations(page: Page, what: str) -> list[dict[str, Any]]:
    """Run axe-core on the page; its violations of impact serious or critical.

    Every run is appended to test-artifacts/axe-results.jsonl (what, counts by impact).
    """
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE_SCRIPT))
    found: list[dict[str, Any]] = await page.evaluate(
        """() => axe.run(document, {resultTypes: ["violations"]}).then((r) => r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
        })))"""
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for violation in found:
        counts[violation["impact"]] = counts.get(violation["impact"], 0) + 1
    with (ARTIFACTS / "axe-results.jsonl").open("a") as log:
        log.write(json.dumps({"what": what, "violations": counts}) + "\n")
    return [v for v in found if v["impact"] in ("serious", "critical")]


async def assert_accessible(page: Page, what: str) -> None:
    violations = await serious_violations(page, what)
    assert not violations, f"axe on {what}: {json.dumps(violations, indent=1)}"


# Times


def tomorrow(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)


def spare_monday(zone: str = "Europe/London") -> date:
    """The Monday of the week two weeks from now: a week every test can fill, on any day."""
    later = datetime.now(ZoneInfo(zone)).date() + timedelta(days=14)
    return later - timedelta(days=later.weekday())


def at(day: date, hour: int, minute: int, zone: str) -> str:
    """The RFC 3339 UTC time of a wall clock in a zone, as the hub writes it."""
    moment = datetime.combine(day, time(hour, minute), ZoneInfo(zone)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def wall(day: date, hour: int, minute: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(zone))


def day_label(day: date) -> str:
    """The dashboard's short day in en-GB: "Tue 1 Dec"."""
    return f"{day:%a} {day.day} {day:%b}"


def date_label(day: date) -> str:
    """ "30 Nov 2026"."""
    return f"{day.day} {day:%b} {day.year}"


def shot(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name
