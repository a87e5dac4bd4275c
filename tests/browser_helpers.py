"""Helpers for the browser suite: Debian's Chromium, signed-in pages, times in a zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, BrowserContext, Page, Playwright

from tests.servers import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LAPTOP = {"width": 1360, "height": 900}
PHONE = {"width": 390, "height": 844}


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )


@dataclass
class Pages:
    """Browser contexts opened by one test; page errors are collected to assert on."""

    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def open(
        self, base_url: str, email: str, password: str, path: str = "/", viewport: Any = None
    ) -> Page:
        """A new tab (own session storage) signed in through the form."""
        context = await self.browser.new_context(viewport=viewport or LAPTOP)
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{email}: {exc}"))
        await page.goto(base_url + path)
        await page.fill("#signin-email", email)
        await page.fill("#signin-password", password)
        await page.click("#signin-form button[type=submit]")
        await page.wait_for_selector("body[data-ready=staff], body[data-ready=client]")
        await page.wait_for_selector("#conn[data-state=live]")
        # A marker that a reload would wipe: proves later changes came without one.
        await page.evaluate("window.__noReload = true")
        return page

    async def register(self, base_url: str, full_name: str, email: str, password: str) -> Page:
        """A new tab that creates an account through the form (and is then signed in)."""
        context = await self.browser.new_context(viewport=LAPTOP)
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{email}: {exc}"))
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


async def not_reloaded(page: Page) -> bool:
    return bool(await page.evaluate("window.__noReload === true"))


def tomorrow(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)


def at(day: date, hour: int, minute: int, zone: str) -> str:
    """The RFC 3339 UTC time of a wall clock in a zone, as the hub writes it."""
    moment = datetime.combine(day, time(hour, minute), ZoneInfo(zone)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def shot(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name
