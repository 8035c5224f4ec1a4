"""Offers to a browser agent that are not answered, and a page that goes away.

A real caller (baresip) waits in queue 100; agent 1001's page is played by aiortc
(tests/peers/webrtc_page.py). As for every other device kind: an offer nobody answers ends
at the queue's ring timeout (``no_answer``) and the caller keeps waiting; a page whose
socket closes while it rings fails the offer at once (``offer_failed``); a page that
declines (hang-up while ringing) rejects it; a page closed during the call ends the call,
ended by the agent.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.peers.baresip import Baresip
from tests.peers.webrtc_page import AiortcPage

from .conftest import RunningVaxel, start_vaxel

pytestmark = pytest.mark.interop

RING = 5  # seconds: the queues' ring timeout in this test (the schema's least)
SHORT_RING = {"ring_timeout = 15\nwrap_up = 5": f"ring_timeout = {RING}\nwrap_up = 1"}


async def _page(vaxel: RunningVaxel) -> AiortcPage:
    page = AiortcPage(vaxel.server.http_url, "1001", "demo-admin-token")
    await page.log_in_on_the_browser()
    return page


async def _kinds(vaxel: RunningVaxel, call_id: str) -> list[tuple[str, dict]]:
    await asyncio.sleep(0.3)  # the call log's writer batches
    events = await vaxel.server.calllog.events()
    return [(e.kind, e.data or {}) for e in events if e.call_id == call_id]


async def test_unanswered_declined_and_disconnected_browser_offers(tmp_path: Path) -> None:
    vaxel = await start_vaxel(tmp_path, replace=SHORT_RING)
    caller = Baresip(
        tmp_path / "caller",
        "<sip:0701234567@127.0.0.1:{listen}>;regint=0;answermode=manual;audio_codecs=PCMU",
    )
    page = await _page(vaxel)
    try:
        await caller.start()
        caller.command("dial", f"sip:100@127.0.0.1:{vaxel.sip_port}")
        ringing = await page.wait_for("ringing", 20)
        call_id = ringing["call_id"]
        assert ringing["queue"] == "support" and ringing["caller"] == "0701234567"

        # Nobody answers: the ring timeout ends the offer, the page is told.
        started = time.monotonic()
        ended = await page.wait_for("ended", RING + 10)
        assert ended["call_id"] == call_id
        assert RING - 1 <= time.monotonic() - started <= RING + 5

        # Offered again: the page declines.
        await page.wait_for("ringing", 20)
        await page.send({"type": "hang-up", "call_id": call_id})
        await page.wait_for("ended", 5)

        # Offered again: the page goes away while it rings; the offer fails at once.
        await page.wait_for("ringing", 20)
        gone_at = time.monotonic()
        await page.close_socket()
        async with asyncio.timeout(10):
            while not any(k == "offer_failed" for k, _ in await _kinds(vaxel, call_id)):
                await asyncio.sleep(0.2)
        assert time.monotonic() - gone_at < 5
        assert vaxel.stack.browsers.phone("1001") is None
        kinds = await _kinds(vaxel, call_id)
        assert [k for k, _ in kinds if k in ("no_answer", "rejected", "offer_failed")] == [
            "no_answer",
            "rejected",
            "offer_failed",
        ], kinds
        failed = next(d for k, d in kinds if k == "offer_failed")
        assert "browser disconnected" in failed["reason"], failed
        assert not any(k == "hangup" for k, _ in kinds)  # the caller still waits
    finally:
        await page.close()
        await caller.stop()
        await vaxel.server.stop()


async def test_a_page_closed_during_the_call_ends_it_as_ended_by_the_agent(
    tmp_path: Path,
) -> None:
    vaxel = await start_vaxel(tmp_path)
    caller = Baresip(
        tmp_path / "caller",
        "<sip:0701234567@127.0.0.1:{listen}>;regint=0;answermode=manual;audio_codecs=PCMU",
    )
    page = await _page(vaxel)
    try:
        await caller.start()
        caller.command("dial", f"sip:100@127.0.0.1:{vaxel.sip_port}")
        ringing = await page.wait_for("ringing", 20)
        await page.send({"type": "answer-call", "call_id": ringing["call_id"]})
        await page.wait_for("connected", 5)
        await asyncio.sleep(1.0)
        await page.close_socket()
        await caller.wait_for("CALL_CLOSED", 10)  # Vaxel hung up on the caller
        kinds = await _kinds(vaxel, ringing["call_id"])
    finally:
        await page.close()
        await caller.stop()
        await vaxel.server.stop()
    names = [k for k, _ in kinds]
    assert "answered" in names and names[-1] == "hangup", names
    hangup = kinds[-1][1]
    assert hangup["ended_by"] == "agent", hangup
    assert "browser disconnected" in hangup["reason"], hangup
    assert hangup["rtp"]["agent"]["received"] > 0, hangup  # the page's audio reached the leg
