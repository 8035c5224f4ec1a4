"""Take the screenshots in docs/screenshots/ of each web page (docs/web.md shows them).

Starts a Vaxel server on the demo configuration (free ports, a throwaway data folder),
puts a few agents and calls into the ACD, and photographs the pages in Debian's Chromium
driven by Playwright:

    .venv/bin/python docs/screenshots.py

The ACD's commands are not carried out (no phone rings): the pages show the ACD's state
and events exactly as they would with real phones.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.async_api import Page, async_playwright, expect  # noqa: E402

from acd import Call  # noqa: E402
from config import parse_config  # noqa: E402
from tests.support import demo_toml_with  # noqa: E402
from vaxel.server import VaxelServer  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
VIEWPORT = {"width": 1100, "height": 620}
TALL = {"width": 1100, "height": 900}
# The demo plus a screen pop and a classification profile for the agent client's photos.
EXTRA = """
[screen_pop]
url = "https://crm.example/customer?ano={ANO}&call={AID}&queue={QUEUE}"

[classification_profiles.support]
codes = ["order", "question", "complaint"]
"""
WITH_CODES = {
    "wrap_up = 5\nservice_level_seconds = 20": "wrap_up = 5\n"
    'classification_profile = "support"\nservice_level_seconds = 20'
}


async def api(base: str, method: str, path: str, body: object = None) -> None:
    headers = {"Authorization": "Bearer demo-admin-token"}
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, base + path, json=body, headers=headers) as resp,
    ):
        assert resp.status in (200, 201), (path, resp.status, await resp.text())


async def sign_in(page: Page, base: str, user: str, password: str) -> None:
    await page.goto(base + "/login")
    await page.fill("#user", user)
    await page.fill("#password", password)
    await page.click("#submit")


def shoot_small(path: Path) -> None:
    """PNG with a 64-colour palette: a few tens of kB each in the repository."""
    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=64)
    small.save(path, optimize=True)


async def shoot(page: Page, name: str) -> None:
    path = OUT / f"{name}.png"
    await page.screenshot(path=str(path))
    shoot_small(path)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} kB")


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        text = demo_toml_with(Path(tmp), replace=WITH_CODES, extra=EXTRA)
        config = parse_config(text, source="demo.toml")
        server = VaxelServer(config, base_dir=Path(tmp))
        await server.start()
        try:
            await take(server)
        finally:
            await server.stop()


async def take(server: VaxelServer) -> None:
    base = server.http_url
    stack = server.calls
    assert stack is not None
    stack.runner.sink = lambda commands: None  # nothing rings: only the ACD's view changes
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            login = await (await browser.new_context(viewport=VIEWPORT)).new_page()
            await login.goto(base + "/login")
            await login.fill("#user", "1001")
            await login.fill("#password", "not-the-password")
            await login.click("#submit")
            await expect(login.locator("#error")).to_be_visible()
            await shoot(login, "login")

            agent = await (await browser.new_context(viewport=VIEWPORT)).new_page()
            await sign_in(agent, base, "1001", "demo-1001-password")
            await expect(agent.locator("#conn")).to_have_text("connected")
            await agent.click("#login")
            await expect(agent.locator("#state")).to_have_text("Ready")
            run = stack.runner.run
            run(stack.acd.call_arrived, Call(id="demo-1", queue="support", a_number="+46701234567"))
            await expect(agent.locator("#offer")).to_be_visible()
            server.events.publish({"type": "call_quality_warning", "call_id": "demo-1",
                                   "agent": "1001", "leg": "caller", "mos": 2.6})  # fmt: skip
            await expect(agent.locator("#quality")).to_be_visible()
            await expect(agent.locator("#pop-link")).to_be_visible()
            await shoot(agent, "agent")
            for other in agent.context.pages[1:]:
                await other.close()  # the screen pop's tab (crm.example is not reachable here)
            run(stack.acd.offer_answered, "demo-1", "1001")
            run(stack.acd.call_ended, "demo-1")
            await expect(agent.locator("#classify")).to_be_visible()
            await agent.select_option("#code", "question")
            await shoot(agent, "agent-wrapup")

            await api(base, "POST", "/api/agents/1002/login", {"device": "sip"})
            await api(base, "POST", "/api/agents/1002/pause", {"reason": "meeting"})
            await api(base, "POST", "/api/agents/1003/login", {"device": "sip"})
            run(stack.acd.call_arrived, Call(id="demo-2", queue="support", a_number="+4631112233"))
            run(stack.acd.call_arrived, Call(id="demo-3", queue="sales", a_number="+4640998877"))
            wall = await (await browser.new_context(viewport=VIEWPORT)).new_page()
            await sign_in(wall, base, "manager", "demo-manager-password")
            await expect(wall.locator('#queues tr[data-queue="support"]')).to_be_visible()
            await asyncio.sleep(2.5)  # the waits tick on
            await shoot(wall, "wallboard")

            lunch = {"name": "lunch", "status": "closed", "weekdays": ["mon", "tue", "wed",
                     "thu", "fri"], "time": "12:00-13:00"}  # fmt: skip
            await api(base, "POST", "/api/calendars/base/deviations", lunch)
            await api(base, "POST", "/api/report-subscriptions", {
                "email": "boss@example.com", "owner": "manager", "report": "key_figures",
                "periodicity": "weekly"})  # fmt: skip
            await api(base, "POST", "/api/schedules", {
                "agent": "1004", "first_day": "2099-01-05", "last_day": "2099-01-09",
                "start": "08:00", "end": "17:00"})  # fmt: skip
            await api(
                base,
                "POST",
                "/api/hot-prompts",
                {"prompt": "welcome", "queue": "sales", "until": "2099-01-01T12:00:00Z"},
            )
            stack.guard.ban("192.0.2.7", stack.endpoint.now(), "INVITE flood")
            context = await browser.new_context(viewport=TALL, timezone_id="Europe/Stockholm")
            admin = await context.new_page()
            await sign_in(admin, base, "admin", "demo-admin-password")
            await expect(admin).to_have_url(base + "/wallboard")
            await admin.goto(base + "/admin")
            await expect(admin.locator('#explain dd[data-field="open"]')).not_to_be_empty()
            await admin.fill("#at", "2026-12-07T12:30")  # a Monday at lunch
            await admin.click("#explain-form button")
            await expect(admin.locator('#explain dd[data-field="deviation"]')).to_contain_text(
                "lunch"
            )
            await expect(admin.locator("#audit tbody tr").first).to_be_visible()
            await shoot(admin, "admin")
            for name, path, ready in (
                ("admin-prompts", "/admin/prompts", '#prompts tr[data-prompt="welcome"]'),
                ("admin-users", "/admin/users", '#users tr[data-user="1001"]'),
                ("admin-reports", "/admin/reports", "#subs tbody tr"),
            ):
                await admin.goto(base + path)
                await expect(admin.locator(ready).first).to_be_visible()
                await shoot(admin, name)
        finally:
            await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
