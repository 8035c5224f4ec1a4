"""The pages in real Chromium: sign in per role, the agent client, the wallboard."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from acd import AgentState, Call

from .conftest import Site, sign_in


async def test_an_agent_signs_in_and_lands_on_the_agent_client(page: Page, site: Site) -> None:
    await sign_in(page, site, "1001")
    await expect(page).to_have_url(site.url("/agent"))
    await expect(page.locator("#agent-name")).to_have_text("1001")
    await expect(page.locator("#state")).to_have_text("Offline")
    await expect(page.locator("#conn")).to_have_text("connected")


@pytest.mark.parametrize("user", ["manager", "admin"])
async def test_managers_and_admins_sign_in_to_the_wallboard(
    page: Page, site: Site, user: str
) -> None:
    await sign_in(page, site, user)
    await expect(page).to_have_url(site.url("/wallboard"))
    await expect(page.locator("#who")).to_contain_text(user)


async def test_a_wrong_password_shows_the_apis_message(page: Page, site: Site) -> None:
    status, body = await site.api("POST", "/api/login", {"user": "1001", "password": "nope"})
    assert status == 401
    await sign_in(page, site, "1001", "wrong-password")
    error = page.locator("#error")
    await expect(error).to_be_visible()
    await expect(error).to_have_text(body["error"]["message"])
    await expect(page).to_have_url(site.url("/login"))


async def test_a_signed_in_tab_going_to_the_root_is_sent_home(page: Page, site: Site) -> None:
    await sign_in(page, site, "manager")
    await expect(page).to_have_url(site.url("/wallboard"))
    await page.goto(site.url("/"))
    await expect(page).to_have_url(site.url("/wallboard"))


async def test_a_page_without_a_session_goes_to_the_login(page: Page, site: Site) -> None:
    await page.goto(site.url("/agent"))
    await expect(page).to_have_url(site.url("/login"))


async def test_the_agent_logs_in_pauses_and_goes_ready_by_clicking(page: Page, site: Site) -> None:
    acd = site.server.calls.acd
    await sign_in(page, site, "1001")
    await expect(page.locator("#login")).to_be_enabled()
    await expect(page.locator("#ready")).to_be_disabled()

    await page.click("#login")
    # No phone is registered for 1001 in this test: the API's warning is shown.
    await expect(page.locator("#message")).to_contain_text(re.compile("regist", re.I))
    await expect(page.locator("#state")).not_to_have_text("Offline")
    assert acd.agent_view("1001").state is not AgentState.OFFLINE

    await page.fill("#reason", "lunch")
    await page.click("#pause")
    await expect(page.locator("#state")).to_have_text("Paused: lunch")
    assert acd.agent_view("1001").state is AgentState.PAUSED
    assert acd.agent_view("1001").pause_reason == "lunch"

    await page.click("#ready")
    await expect(page.locator("#state")).to_have_text("Ready")
    assert acd.agent_view("1001").state is AgentState.READY

    await page.click("#logout")
    await expect(page.locator("#state")).to_have_text("Offline")
    assert acd.agent_view("1001").state is AgentState.OFFLINE


async def test_the_agent_client_follows_a_change_made_elsewhere(page: Page, site: Site) -> None:
    await sign_in(page, site, "1001")
    await expect(page.locator("#conn")).to_have_text("connected")
    status, _ = await site.api("POST", "/api/agents/1001/login", {"device": "sip"})
    assert status == 200
    status, _ = await site.api("POST", "/api/agents/1001/pause", {"reason": "meeting"})
    assert status == 200
    await expect(page.locator("#state")).to_have_text("Paused: meeting")


async def test_the_wallboard_shows_the_queues_and_follows_an_agent_login(
    page: Page, site: Site
) -> None:
    await sign_in(page, site, "manager")
    await expect(page).to_have_url(site.url("/wallboard"))
    support = page.locator('#queues tr[data-queue="support"]')
    await expect(support).to_be_visible()
    await expect(support.locator("td").nth(1)).to_have_text("0")  # waiting
    await expect(support.locator("td").nth(6)).to_have_text("0")  # agents ready
    agent = page.locator('#agents tr[data-agent="1001"]')
    await expect(agent).to_have_attribute("data-state", "offline")
    await expect(page.locator("#calls-note")).to_have_text("No calls right now.")

    status, _ = await site.api("POST", "/api/agents/1001/login", {"device": "sip"})
    assert status == 200
    status, _ = await site.api("POST", "/api/agents/1001/ready")
    assert status == 200
    await expect(agent).to_have_attribute("data-state", "ready")
    await expect(agent.locator("td").nth(1)).to_have_text("Ready")
    # queue_figures come at most once a second per queue
    await expect(support.locator("td").nth(6)).to_have_text("1", timeout=5000)


async def test_an_agent_on_the_wallboard_sees_no_live_calls(page: Page, site: Site) -> None:
    await sign_in(page, site, "1001")
    await expect(page).to_have_url(site.url("/agent"))
    await page.goto(site.url("/wallboard"))
    await expect(page.locator('#queues tr[data-queue="support"]')).to_be_visible()
    await expect(page.locator("#calls-note")).to_contain_text("managers and admins")


async def test_the_agent_client_shows_the_offer_quality_warnings_and_a_forced_logout(
    page: Page, site: Site
) -> None:
    stack = site.server.calls
    # The ACD's commands are not carried out (no phone rings): the page sees only the events.
    stack.runner.sink = lambda commands: None
    await sign_in(page, site, "1001")
    await expect(page.locator("#conn")).to_have_text("connected")
    await page.click("#login")  # a login is ready at once
    await expect(page.locator("#state")).to_have_text("Ready")

    call = Call(id="web-call-1", queue="support", a_number="+46701234567")
    stack.runner.run(stack.acd.call_arrived, call)
    assert stack.acd.agent_view("1001").state is AgentState.RINGING
    await expect(page.locator("#state")).to_have_text("Ringing")
    await expect(page.locator("#offer")).to_be_visible()
    await expect(page.locator("#offer-queue")).to_have_text("Support (support)")
    await expect(page.locator("#offer-caller")).to_have_text("+46701234567")

    quality = {"call_id": "web-call-1", "agent": "1001", "leg": "caller", "mos": 2.4}
    site.server.events.publish({"type": "call_quality_warning", **quality})
    await expect(page.locator("#quality")).to_have_text("Your call connection is having issues.")
    site.server.events.publish({"type": "call_quality_recovered", **quality, "mos": 4.1})
    await expect(page.locator("#quality")).to_have_text("Your call connection is fine again.")

    # As the ACD says it after the configured number of unanswered offers.
    site.server.events.publish(
        {"type": "agent_logged_out", "agent": "1001", "reason": "3 unanswered offers in a row"}
    )
    await expect(page.locator("#notice")).to_have_text(
        "You were logged out after 3 missed calls. Log in again when you are back."
    )
    # Another agent's events are not shown.
    site.server.events.publish(
        {"type": "call_quality_warning", **quality, "agent": "1002", "call_id": "other"}
    )
    await expect(page.locator("#quality")).to_have_text("Your call connection is fine again.")


async def test_a_lost_event_stream_shows_disconnected_and_reconnects(
    page: Page, site: Site
) -> None:
    await sign_in(page, site, "1001")
    await page.click("#login")
    await expect(page.locator("#conn")).to_have_text("connected")
    # Close the server's side of every open stream, as a restart or a network cut would.
    for ws in list(site.server_sockets()):
        await ws.close()
    await expect(page.locator("#conn")).to_have_text("disconnected")
    await expect(page.locator("#conn")).to_have_text("connected", timeout=10000)
    # Still logged in: the page does not log the agent out when its stream drops.
    assert site.server.calls.acd.agent_view("1001").state is not AgentState.OFFLINE
    status, _ = await site.api("POST", "/api/agents/1001/pause", {"reason": "coffee"})
    assert status == 200
    await expect(page.locator("#state")).to_have_text("Paused: coffee")


async def test_the_admin_page_explains_a_calendar_at_the_chosen_time(
    page: Page, site: Site
) -> None:
    status, _ = await site.api("POST", "/api/agents/1002/login", {"device": "sip"})
    assert status == 200
    await sign_in(page, site, "admin")
    await expect(page).to_have_url(site.url("/wallboard"))
    await page.goto(site.url("/admin"))
    await expect(page.locator("#audit tbody tr").first).to_contain_text("agent.login")
    for local in ("2026-01-05T10:00", "2026-01-04T03:00"):  # a Monday morning, a Sunday night
        await page.fill("#at", local)
        await page.click("#explain-form button")
        at = await page.evaluate("(v) => new Date(v).toISOString()", local)
        status, want = await site.api("GET", f"/api/calendars/base/status?at={at}")
        assert status == 200
        await expect(page.locator('#explain dd[data-field="open"]')).to_have_text(
            "open" if want["open"] else "closed"
        )
        await expect(page.locator('#explain dd[data-field="rule"]')).to_contain_text(want["rule"])
