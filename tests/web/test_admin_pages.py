"""The admin pages in real Chromium (issue 16): a lunch deviation changes "explain", a
prompt upload (and a refused one), slots and hot prompts, users and their tokens, report
subscriptions, SIP bans."""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect

from .conftest import Site, sign_in

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
async def admin(browser: Browser, site: Site) -> AsyncIterator[Page]:
    """An admin signed in, in a browser on the calendars' time zone."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Europe/Stockholm"
    )
    page = await context.new_page()
    page.on("console", lambda msg: print(f"[browser {msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: print(f"[browser error] {exc}"))
    await sign_in(page, site, "admin")
    await expect(page).to_have_url(site.url("/wallboard"))
    try:
        yield page
    finally:
        await context.close()


def tone_wav(path: Path, seconds: float = 1.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        n = int(8000 * seconds)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i * 0.3))) for i in range(n)))
    return path


async def test_an_admin_adds_a_lunch_deviation_and_sees_explain_change(
    admin: Page, site: Site
) -> None:
    page = admin
    await page.goto(site.url("/admin"))
    await page.select_option("#calendar", "base")
    await page.fill("#at", "2026-12-07T12:30")
    await page.click("#explain-form button")
    open_ = page.locator('#explain dd[data-field="open"]')
    await expect(open_).to_have_text("open")
    await expect(page.locator('#explain dd[data-field="deviation"]')).to_have_text("none")

    await page.fill("#dev-name", "lunch")
    await page.select_option("#dev-status", "closed")
    await page.fill("#dev-date", "2026-12-07")
    await page.fill("#dev-time", "12:00-13:00")
    await page.click("#dev-add")
    await expect(open_).to_have_text("closed")
    await expect(page.locator('#explain dd[data-field="deviation"]')).to_have_text("#1 lunch")
    await expect(page.locator('#explain dd[data-field="next_change"]')).to_contain_text(
        "2026-12-07T13:00:00+01:00"
    )
    row = page.locator("#deviations tbody tr").first
    await expect(row).to_contain_text("lunch")
    await expect(row).to_contain_text("closed")
    # In force for callers at once: the running calendar of the queues says closed.
    at = datetime(2026, 12, 7, 12, 30, tzinfo=STOCKHOLM)
    assert site.server.calls.calendars.status("support", at).open is False
    await expect(page.locator("#audit tbody tr").first).to_contain_text("config.calendars.changed")
    # Outside lunch the same day it is open.
    await page.fill("#at", "2026-12-07T13:30")
    await page.click("#explain-form button")
    await expect(open_).to_have_text("open")

    # A mistake is refused with the API's message naming the field.
    await page.fill("#dev-time", "lunchtime")
    await page.click("#dev-add")
    await expect(page.locator("#message")).to_contain_text("deviations.new.time")

    await row.get_by_role("button", name="Remove").click()
    await page.fill("#at", "2026-12-07T12:30")
    await page.click("#explain-form button")
    await expect(open_).to_have_text("open")
    assert site.server.calls.calendars.status("support", at).open is True


async def test_an_admin_uploads_plays_and_activates_a_prompt(
    admin: Page, site: Site, tmp_path: Path
) -> None:
    page = admin
    await page.goto(site.url("/admin/prompts"))
    await expect(page.locator('#prompts tr[data-prompt="welcome"]')).to_be_visible()
    await page.set_input_files("#up-file", str(tone_wav(tmp_path / "lunch.wav")))
    await page.fill("#up-name", "lunch-closed")
    await page.fill("#up-description", "Closed for lunch")
    await page.click("#upload")
    await expect(page.locator("#message")).to_contain_text("Uploaded lunch-closed (1.0 s)")
    row = page.locator('#prompts tr[data-prompt="lunch-closed"]')
    await expect(row).to_contain_text("Closed for lunch")
    stored = await site.server.calls.prompt_store.get("lunch-closed")
    assert stored is not None and stored.path is not None and stored.path.is_file()

    # Not audio: refused with the server's reason, nothing stored.
    fake = tmp_path / "photo.wav"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 200)
    await page.set_input_files("#up-file", str(fake))
    await page.fill("#up-name", "photo")
    await page.click("#upload")
    await expect(page.locator("#message")).to_contain_text("PNG")
    assert await site.server.calls.prompt_store.get("photo") is None

    await row.get_by_role("button", name="Play").click()
    player = page.locator("#player")
    await expect(player).to_have_attribute("data-prompt", "lunch-closed")
    await expect(player).to_have_attribute("src", _blob())

    await page.select_option("#slot-queue", "support")
    await page.select_option("#slot-slot", "welcome")
    await page.select_option("#slot-prompt", "lunch-closed")
    await page.click("#slot-activate")
    await expect(page.locator("#slots tbody")).to_contain_text("lunch-closed")
    assert site.server.calls.controller.services.slots["support"]["welcome"] == "lunch-closed"

    await page.select_option("#hot-prompt", "lunch-closed")
    await page.fill("#hot-until", "2099-01-01T12:00")
    await page.click("#hot-on")
    hot = page.locator("#hot tbody tr").first
    await expect(hot).to_contain_text("lunch-closed")
    await expect(hot).to_contain_text("yes")
    [active] = site.server.calls.hot_prompts.all()
    assert active.prompt == "lunch-closed" and active.until is not None
    await hot.get_by_role("button", name="Switch off").click()
    await expect(page.locator("#hot tbody")).to_contain_text("none")
    await expect(page.locator("main")).to_contain_text("Recording a prompt by phone")


def _blob():  # noqa: ANN202 - a compiled pattern for expect
    import re

    return re.compile(r"^blob:")


async def test_an_admin_creates_a_user_and_a_token_shown_once(admin: Page, site: Site) -> None:
    page = admin
    await page.goto(site.url("/admin/users"))
    await expect(page.locator('#users tr[data-user="1001"]')).to_be_visible()
    await page.fill("#u-name", "eva")
    await page.select_option("#u-role", "manager")
    await page.fill("#u-password", "eva-long-password")
    await page.click("#u-create")
    user = page.locator('#users tr[data-user="eva"]')
    await expect(user).to_contain_text("manager")
    await user.get_by_role("button", name="Tokens").click()
    await expect(page.locator("#t-user")).to_have_text("eva")
    await page.fill("#t-label", "crm sync")
    await page.click("#t-create")
    secret = page.locator("#new-token")
    await expect(secret).to_contain_text("shown once")
    token = (await secret.text_content() or "").rsplit(" ", 1)[-1]
    status, _ = await _get_me(site, token)
    assert status == 200
    await page.locator("#tokens tbody tr").first.get_by_role("button", name="Revoke").click()
    await expect(page.locator("#tokens tbody")).to_contain_text("none")
    status, _ = await _get_me(site, token)
    assert status in (401, 403)  # the revoked token is refused


async def _get_me(site: Site, token: str) -> tuple[int, object]:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.get(site.url("/api/me"), headers={"Authorization": f"Bearer {token}"}) as resp,
    ):
        return resp.status, await resp.json()


async def test_a_manager_subscribes_edits_and_deletes_a_report(page: Page, site: Site) -> None:
    await sign_in(page, site, "manager")
    await expect(page).to_have_url(site.url("/wallboard"))
    await page.goto(site.url("/admin/reports"))
    await page.fill("#s-owner", "boss")
    await page.fill("#s-email", "boss@example.com")
    await page.select_option("#s-report", "agents")
    await page.click("#s-save")
    await expect(page.locator("#message")).to_contain_text("first report due")
    row = page.locator("#subs tbody tr").first
    await expect(row).to_contain_text("daily")
    await row.get_by_role("button", name="Edit").click()
    await page.select_option("#s-periodicity", "weekly")
    await page.fill("#s-queues", "sales")
    await page.click("#s-save")
    await expect(row).to_contain_text("weekly")
    await expect(row).to_contain_text("sales")
    subs = await site.server.reports.subscriptions.all()
    assert [(s.periodicity, s.queues) for s in subs] == [("weekly", ("sales",))]
    # No email address: refused, the form says why.
    await page.fill("#s-owner", "x")
    await page.click("#s-save")
    await expect(page.locator("#message")).to_contain_text("email")
    await row.get_by_role("button", name="Delete").click()
    await expect(page.locator("#subs tbody tr")).to_have_count(0)
    # Scheduled logins are an admin's: a manager sees the plan, not the form.
    await expect(page.locator("#schedule-form")).to_be_hidden()


async def test_an_admin_schedules_a_login_and_lifts_a_sip_ban(admin: Page, site: Site) -> None:
    page = admin
    await page.goto(site.url("/admin/reports"))
    await page.fill("#sc-agent", "1002")
    await page.fill("#sc-first", "2099-01-05")
    await page.fill("#sc-last", "2099-01-09")
    await page.fill("#sc-start", "08:00")
    await page.fill("#sc-end", "17:00")
    await page.click("#sc-add")
    await expect(page.locator("#schedules tbody tr").first).to_contain_text("1002")
    assert [s.agent for s in site.server.calls.schedules.schedules] == ["1002"]

    stack = site.server.calls
    stack.guard.ban("192.0.2.7", stack.endpoint.now(), "flood")
    await page.goto(site.url("/admin"))
    ban = page.locator("#bans tbody tr").first
    await expect(ban).to_contain_text("192.0.2.7")
    await ban.get_by_role("button", name="Lift").click()
    await expect(page.locator("#bans tbody")).to_contain_text("none")
    assert stack.security_bans() == []
