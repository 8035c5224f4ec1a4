"""A real VaxelServer with the web pages, and real Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright, expect

from config import parse_config
from tests.support import demo_toml_with, require_tool
from vaxel.http.events_routes import _SOCKETS
from vaxel.server import VaxelServer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

PASSWORDS = {
    "admin": "demo-admin-password",
    "manager": "demo-manager-password",
    "1001": "demo-1001-password",
}


@dataclass
class Site:
    """The running server and its base URL."""

    server: VaxelServer
    base: str

    def url(self, path: str) -> str:
        return self.base + path

    def server_sockets(self) -> set[web.WebSocketResponse]:
        """The event streams open right now (the API keeps them to close them on shutdown)."""
        runner = self.server._runner
        assert runner is not None
        return runner.app[_SOCKETS]

    async def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One API call as the demo admin token (what a script beside the page would do)."""
        headers = {"Authorization": "Bearer demo-admin-token"}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.url(path), json=body, headers=headers) as resp,
        ):
            return resp.status, await resp.json()


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    config = parse_config(demo_toml_with(tmp_path), source="test.toml")
    server = VaxelServer(config, base_dir=tmp_path)
    await server.start()
    try:
        yield Site(server, server.http_url)
    finally:
        await server.stop()


async def launch(p: Any) -> Browser:
    """Debian's Chromium (Playwright's own browser downloads are not reachable here)."""
    return await p.chromium.launch(
        executable_path=require_tool("chromium"), args=CHROMIUM_ARGS, headless=True
    )


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_tool("chromium")
    async with async_playwright() as p:
        b = await launch(p)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    # What the page's scripts print (and their errors) shows in a failed test's output.
    page.on("console", lambda msg: print(f"[browser {msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: print(f"[browser error] {exc}"))
    try:
        yield page
    finally:
        await context.close()


async def sign_in(page: Page, site: Site, user: str, password: str | None = None) -> None:
    """Fill in the login page as a person would and press the button."""
    await page.goto(site.url("/"))
    await expect(page).to_have_url(site.url("/login"))
    await page.fill("#user", user)
    await page.fill("#password", password if password is not None else PASSWORDS[user])
    await page.click("#submit")
