"""The agent client in real Chromium (issue 16): answer groups at login, the screen pop
and hang up for a real SIPp call, classification in wrap-up, the grace-period logout."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from acd import AgentState, Call, LogEvent
from config import parse_config
from tests.interop.conftest import RunningVaxel, sipp_register
from tests.peers.sipp import Sipp
from tests.support import demo_toml_with, free_port
from vaxel.server import VaxelServer
from vaxel.services.call_control import HANGUP_WHY
from vaxel.services.client_presence import lost_reason

from .conftest import Site, sign_in

CALLER = "0701234567"
POP = "/crm/open?ano={ANO}&call={AID}&customer={CUSTID}&queue={QUEUE}&name={NAME}"


async def _site(tmp_path: Path, extra: str = "", replace: dict[str, str] | None = None) -> Site:
    text = demo_toml_with(tmp_path, extra=extra, replace=replace)
    server = VaxelServer(parse_config(text, source="test.toml"), base_dir=tmp_path)
    await server.start()
    return Site(server, server.http_url)


class PopServer:
    """The page a screen pop opens: a small web server that records each request."""

    def __init__(self) -> None:
        self.requests: list[web.BaseRequest] = []
        self.port = free_port(both=False)
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def handle(request: web.Request) -> web.Response:
            self.requests.append(request)
            return web.Response(text="<h1>CRM</h1>", content_type="text/html")

        app = web.Application()
        app.router.add_get("/crm/open", handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def crm() -> AsyncIterator[PopServer]:
    pop = PopServer()
    await pop.start()
    try:
        yield pop
    finally:
        await pop.stop()


async def _until(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return bool(predicate())


# ---------------------------------------------------------------------- groups at login


async def test_the_agent_chooses_the_answer_groups_to_staff_at_login(
    page: Page, site: Site
) -> None:
    await sign_in(page, site, "1001")
    support = page.locator('#group-choice input[value="support"]')
    sales = page.locator('#group-choice input[value="sales"]')
    await expect(support).to_be_checked()  # 1001's preselected group
    await expect(sales).not_to_be_checked()
    await support.uncheck()
    await sales.check()
    await page.click("#login")
    await expect(page.locator("#state")).to_have_text("Ready")
    await expect(page.locator("#groups")).to_have_text("Answer groups: sales")
    assert site.server.calls.acd.agent_view("1001").groups == frozenset({"sales"})
    # The time in the state comes from the ACD (state_since).
    await expect(page.locator("#state-detail")).to_contain_text("for 0:0")


# ---------------------------------------------------------------------- screen pop + hang up


@pytest.mark.interop
async def test_a_real_call_pops_the_configured_page_and_the_agent_hangs_up_from_the_page(
    browser: Browser, tmp_path: Path, crm: PopServer
) -> None:
    extra = f'[screen_pop]\nurl = "http://127.0.0.1:{crm.port}{POP}"\nopen = "tab"\n'
    site = await _site(tmp_path, extra=extra)
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    uas: Sipp | None = None
    try:
        vaxel = RunningVaxel(site.server, site.server.config, tmp_path)
        # Agent 1001's phone: a SIPp UAS that answers and waits for the BYE.
        uas_port = free_port()
        uas = Sipp(tmp_path / "uas", builtin="uas", port=uas_port, timeout=60)
        await uas.start()
        reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", uas_port)
        assert reg.returncode == 0, reg.explain()

        page = await context.new_page()
        page.on("console", lambda msg: print(f"[browser {msg.type}] {msg.text}"))
        await sign_in(page, site, "1001")
        await page.click("#login")
        await expect(page.locator("#state")).to_have_text("Ready")

        caller = Sipp(
            tmp_path / "caller", scenario="call_until_bye.xml", target=vaxel.sip_target, timeout=60
        )
        async with context.expect_page(timeout=30000) as popped:
            caller_run = asyncio.create_task(caller.run_with("-s", "100", "-key", "caller", CALLER))
        crm_page = await popped.value
        await crm_page.wait_for_load_state()
        assert await _until(lambda: crm.requests, 10), "the screen pop never reached the CRM"
        query = crm.requests[0].query
        acd_calls = [e for e in await site.server.calllog.events(kind="offered")]
        call_id = acd_calls[-1].call_id
        assert query["ano"] == CALLER and query["queue"] == "support", dict(query)
        assert query["call"] == call_id  # URL-encoded on the way (a SIP Call-ID has an @)
        assert "%40" in crm.requests[0].raw_path or "@" not in call_id
        assert query["customer"] == "" and query["name"] == ""  # not known for this call
        await expect(page.locator("#pop-link")).to_have_attribute("href", crm_page.url)

        await expect(page.locator("#state")).to_have_text("Busy", timeout=20000)
        await expect(page.locator("#offer-caller")).to_have_text(CALLER)
        # The call controls the server's OpenAPI document lists are shown: hold, resume.
        await expect(page.locator("#hold")).to_be_visible()
        await page.click("#hold")
        await page.click("#resume")
        async with asyncio.timeout(10):
            while True:
                kinds = [e.kind for e in await site.server.calllog.events(call_id=call_id)]
                if "resume" in kinds:
                    break
                await asyncio.sleep(0.1)
        assert kinds.index("hold") < kinds.index("resume"), kinds
        await page.click("#hangup")
        result = await asyncio.wait_for(caller_run, 30)
        assert result.returncode == 0, result.explain()  # the caller got a BYE
        uas_result = await uas.wait()
        assert uas_result.returncode == 0, uas_result.explain()  # and the agent's phone
        assert "BYE sip:" in uas_result.messages()
        await expect(page.locator("#state")).not_to_have_text("Busy", timeout=10000)
        await asyncio.sleep(0.5)
        hangups = await site.server.calllog.events(call_id=call_id, kind="hangup")
        assert hangups and hangups[0].data["ended_by"] == "agent", hangups
        assert HANGUP_WHY in hangups[0].data["reason"], hangups[0].data
    finally:
        if uas is not None:
            await uas.stop()
        await context.close()
        await site.server.stop()


# ---------------------------------------------------------------------- classification


async def test_wrap_up_shows_the_queues_codes_and_sends_the_chosen_one(
    page: Page, tmp_path: Path
) -> None:
    site = await _site(
        tmp_path,
        extra='[classification_profiles.support]\ncodes = ["sale", "question"]\n',
        replace={"wrap_up = 5\nservice_level_seconds = 20": "wrap_up = 30\n"
                 'classification_profile = "support"\nservice_level_seconds = 20'},
    )  # fmt: skip
    try:
        stack = site.server.calls
        commands: list[Any] = []
        stack.runner.sink = commands.extend  # the ACD alone: no phone rings
        await sign_in(page, site, "1001")
        await page.click("#login")
        await expect(page.locator("#state")).to_have_text("Ready")
        stack.runner.run(stack.acd.call_arrived, Call(id="k-1", queue="support", a_number="1"))
        await expect(page.locator("#state")).to_have_text("Ringing")
        stack.runner.run(stack.acd.offer_answered, "k-1", "1001")
        await expect(page.locator("#state")).to_have_text("Busy")
        stack.runner.run(stack.acd.call_ended, "k-1")
        await expect(page.locator("#state")).to_have_text("Wrap-up")
        # The countdown: the wrap-up time plus the time the queue waits for the code.
        await expect(page.locator("#wrapup-left")).to_have_text(re.compile(r"ends in 2:[0-2]\d"))
        await expect(page.locator("#classify")).to_be_visible()
        # Without a code the queue refuses to end wrap-up: the ACD's reason is shown.
        await page.click("#wrapup-done")
        await expect(page.locator("#message")).to_contain_text("classification")
        await page.select_option("#code", "question")
        await page.click("#wrapup-done")
        await expect(page.locator("#state")).to_have_text("Ready")
        codes = [c.data.get("code") for c in commands if isinstance(c, LogEvent)]
        assert "question" in codes, commands
    finally:
        await site.server.stop()


# ---------------------------------------------------------------------- grace period


async def test_a_closed_agent_client_logs_the_agent_out_after_the_grace_period(
    browser: Browser, tmp_path: Path
) -> None:
    site = await _site(tmp_path, extra="[web]\nclient_grace_seconds = 3\n")
    acd = site.server.calls.acd
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await sign_in(page, site, "1001")
        await page.click("#login")
        await page.fill("#reason", "lunch")
        await page.click("#pause")
        await expect(page.locator("#state")).to_have_text("Paused: lunch")

        # A network cut the page recovers from within the grace period: nothing changes.
        for ws in list(site.server_sockets()):
            await ws.close()
        await expect(page.locator("#conn")).to_have_text("disconnected")
        await expect(page.locator("#conn")).to_have_text("connected", timeout=10000)
        await asyncio.sleep(4)  # past the grace period
        assert acd.agent_view("1001").state is AgentState.PAUSED
        await expect(page.locator("#state")).to_have_text("Paused: lunch")

        # The tab closes (laptop lid, crash): logged out once the grace period is over.
        await context.close()
        await asyncio.sleep(1)
        assert acd.agent_view("1001").state is AgentState.PAUSED  # not yet
        assert await _until(lambda: acd.agent_view("1001").state is AgentState.OFFLINE, 15)
        await asyncio.sleep(0.3)
        logouts = await site.server.calllog.events(agent="1001", kind="logout")
        assert logouts[-1].data["reason"] == lost_reason(3), logouts
    finally:
        await site.server.stop()


async def test_a_screen_pop_configured_as_a_frame_opens_inside_the_agent_page(
    page: Page, tmp_path: Path, crm: PopServer
) -> None:
    extra = (
        f'[queues.support.screen_pop]\nurl = "http://127.0.0.1:{crm.port}{POP}"\nopen = "frame"\n'
    )
    site = await _site(tmp_path, extra=extra)
    try:
        stack = site.server.calls
        stack.runner.sink = lambda commands: None  # the ACD alone: no phone rings
        await sign_in(page, site, "1001")
        await page.click("#login")
        await expect(page.locator("#state")).to_have_text("Ready")
        stack.runner.run(stack.acd.call_arrived, Call(id="f-1", queue="support", a_number="+4631"))
        frame = page.locator("#pop-frame")
        await expect(frame).to_be_visible()
        await expect(frame).to_have_attribute("src", re.compile(r"ano=%2B4631&call=f-1"))
        # The page's Content-Security-Policy lets this origin (and no other) in a frame.
        assert await _until(lambda: crm.requests, 10), "the frame was not loaded"
        assert crm.requests[0].query["ano"] == "+4631"
        inner = page.frame_locator("#pop-frame").locator("h1")
        await expect(inner).to_have_text("CRM")
    finally:
        await site.server.stop()


async def test_the_wallboard_shows_the_time_in_state_of_an_agent_paused_before_it_opened(
    page: Page, site: Site
) -> None:
    # Paused before the wallboard was opened: the time comes from the API, not the page.
    await site.api("POST", "/api/agents/1002/login", {"device": "sip"})
    await site.api("POST", "/api/agents/1002/pause", {"reason": "meeting"})
    await asyncio.sleep(2.2)
    await sign_in(page, site, "manager")
    await expect(page).to_have_url(site.url("/wallboard"))
    row = page.locator('#agents tr[data-agent="1002"]')
    await expect(row.locator("td").nth(1)).to_have_text("Paused: meeting")
    await expect(row.locator("td").nth(2)).to_have_text(re.compile(r"^0:0[2-9]$"))
    # An agent offline since the server started: not known.
    await expect(page.locator('#agents tr[data-agent="1003"] td').nth(2)).to_have_text("–")
