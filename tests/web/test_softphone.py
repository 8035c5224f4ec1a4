"""The browser softphone end to end: real Chromium as agent 1001's phone, real baresip calling.

Chromium's fake microphone plays a chirp WAV; the page logs in "on this browser" (its
WebRTC connection to aiortc in Vaxel, host candidates on 127.0.0.1, DTLS-SRTP, Opus unless
the page asks for PCMU). baresip calls queue number 100, the ACD offers the call to the
browser, the page answers, and:

- the caller hears the page's microphone: baresip's decoded audio holds the chirp
  (normalized cross-correlation above 0.9 with the WAV at 8 kHz, as the prompt tests check),
  so the path browser -> Opus -> aiortc -> 8 kHz PCMU -> bridge -> caller is intact;
- the browser receives the caller's audio: WebRTC ``getStats()`` inbound-rtp packets grow
  at about 50 a second while connected;
- the browser leg is rated (MOS in GET /api/calls), and the page's hang-up ends the call in
  the call log as ended by the agent.

Run inside ``unshare -rn`` (loopback only): Chromium then offers only 127.0.0.1 candidates,
which it does only with ``--allow-loopback-in-peer-connection`` (below).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
from playwright.async_api import async_playwright, expect
from scipy.signal import chirp, resample_poly

from tests.interop.conftest import RunningVaxel, start_vaxel
from tests.peers.baresip import Baresip
from tests.support import require_tool

from .conftest import CHROMIUM_ARGS, Site, sign_in

pytestmark = pytest.mark.interop

CALLER = "0701234567"
MATCH = 0.9  # as the prompt tests: one lossy codec pass keeps a chirp far above this
PERIOD = 1.0  # seconds of the microphone's chirp; Chromium loops the file
FAST_MOS = {'[rtp]\nhost = "127.0.0.1"': '[rtp]\nmos_interval = 2.0\nhost = "127.0.0.1"'}
# Chromium gathers no loopback candidates without this flag: with only lo up (the test's
# network namespace) its offer carries none and ICE cannot start (the page then says "no
# media connection to Vaxel within 15 s"; VAXEL_NO_LOOPBACK_FLAG=1 shows it).
SOFTPHONE_ARGS = (
    [] if os.environ.get("VAXEL_NO_LOOPBACK_FLAG") else ["--allow-loopback-in-peer-connection"]
)


def microphone(path: Path) -> npt.NDArray[np.float64]:
    """Write the fake microphone (48 kHz mono 16-bit, as Chromium wants it); return one
    period at 8 kHz, what the caller should hear."""
    t = np.arange(int(48000 * PERIOD)) / 48000
    wave = 0.5 * chirp(t, f0=300, t1=PERIOD, f1=3000, method="logarithmic")
    ramp = np.minimum(1.0, np.minimum(t, PERIOD - t) / 0.01)  # no click at the loop point
    pcm = (wave * ramp * 32767).astype(np.int16)
    sf.write(str(path), pcm, 48000, subtype="PCM_16")
    return resample_poly(pcm.astype(np.float64), 1, 6)


def ncc_periods(heard: npt.NDArray[np.float64], template: npt.NDArray[np.float64]) -> list[float]:
    """Normalized cross-correlation of ``template`` with each of its repeats in ``heard``
    (both 8 kHz), best first.

    Aligned to 1/6 of a sample (at 48 kHz, the microphone's rate): the browser's path
    (48 kHz capture, Opus, resampling to 8 kHz) delays the audio by a fraction of an 8 kHz
    sample, which at whole-sample lags alone costs a 3 kHz tone a third of its correlation
    (cos(2 pi f d)) though a listener hears no difference.
    """
    heard, template = resample_poly(heard, 6, 1), resample_poly(template, 6, 1)
    n, m = len(heard), len(template)
    if n < m:
        return [0.0]
    size = 1 << (n + m).bit_length()
    corr = np.fft.irfft(np.fft.rfft(heard, size) * np.conj(np.fft.rfft(template, size)), size)
    energy = np.concatenate(([0.0], np.cumsum(heard**2)))
    window = energy[m:] - energy[: n - m + 1]
    scores = corr[: n - m + 1] / (np.sqrt(np.maximum(window, 1e-9)) * np.linalg.norm(template))
    found = []
    while len(found) < 10:
        best = int(np.argmax(scores))
        if scores[best] < 0.3:
            break
        found.append(round(float(scores[best]), 3))
        scores[max(0, best - m // 2) : best + m // 2] = 0.0  # the next repeat
    return found or [0.0]


async def admin_api(vaxel: RunningVaxel, path: str) -> Any:
    headers = {"Authorization": "Bearer demo-admin-token"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(vaxel.server.http_url + path, headers=headers) as resp,
    ):
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def inbound(page: Any) -> dict[str, Any]:
    stats = await page.evaluate("window.VaxelSoftphone.inbound()")
    assert stats is not None, "the page has no WebRTC connection"
    return stats


@pytest.mark.parametrize("codec", ["opus", "PCMU"])
async def test_browser_answers_a_queued_call_and_audio_flows_both_ways(
    tmp_path: Path, codec: str
) -> None:
    template = microphone(tmp_path / "mic.wav")
    vaxel = await start_vaxel(tmp_path, replace=FAST_MOS)
    site = Site(vaxel.server, vaxel.server.http_url)
    acd = vaxel.stack.acd
    caller = Baresip(
        tmp_path / "caller",
        f"<sip:{CALLER}@127.0.0.1:{{listen}}>;regint=0;answermode=manual;audio_codecs=PCMU",
    )
    output = ""
    args = [
        *CHROMIUM_ARGS,
        *SOFTPHONE_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={tmp_path / 'mic.wav'}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=require_tool("chromium"), args=args, headless=True
            )
            page = await (await browser.new_context()).new_page()
            page.on("console", lambda msg: print(f"[browser {msg.type}] {msg.text}"))
            page.on("pageerror", lambda exc: print(f"[browser error] {exc}"))
            await sign_in(page, site, "1001")
            await expect(page).to_have_url(site.url("/agent"))
            if codec != "opus":
                await page.goto(site.url(f"/agent?codec={codec}"))
            await page.click("#login-browser")
            await expect(page.locator("#sp-status")).to_contain_text(
                "Logged in on this browser", timeout=30_000
            )
            assert acd.agent_view("1001").device == "browser:1001"
            offer = await page.evaluate("window.VaxelSoftphone.offer")
            candidates = [x for x in offer.splitlines() if x.startswith("a=candidate:")]
            assert any(" 127.0.0.1 " in c and "typ host" in c for c in candidates), candidates
            agent = await admin_api(vaxel, "/api/agents/1001")
            assert agent["agent"]["device_kind"] == "browser"

            await caller.start()
            caller.command("dial", f"sip:100@127.0.0.1:{vaxel.sip_port}")
            await caller.wait_for("CALL_ESTABLISHED", 20)  # answered into the queue
            await expect(page.locator("#sp-call-state")).to_have_text("Ringing…", timeout=20_000)
            await expect(page.locator("#sp-caller")).to_have_text(CALLER)
            await expect(page.locator("#sp-queue")).to_have_text("support")
            before = await inbound(page)
            await page.click("#sp-answer")
            await expect(page.locator("#sp-call-state")).to_have_text("Connected")

            await asyncio.sleep(PERIOD * 5 + 1)  # five whole chirps reach the caller
            during = await inbound(page)
            calls = (await admin_api(vaxel, "/api/calls"))["calls"]
            (live,) = [c for c in calls if c.get("agent") == "1001"]
            await page.click("#sp-hangup")
            await caller.wait_for("CALL_CLOSED", 15)
            await expect(page.locator("#sp-status")).to_contain_text("Call ended")
            await browser.close()
        await asyncio.sleep(0.5)
        records = (await admin_api(vaxel, "/api/calllog/calls"))["calls"]
    finally:
        output = await caller.stop()
        await vaxel.server.stop()

    # The caller's packets reach the browser: 50 a second while the call is connected.
    received = during["packetsReceived"] - before["packetsReceived"]
    assert received > 150, f"inbound-rtp in the browser: {before} -> {during}"
    # The browser leg is rated like any other leg (its figures depend on the machine's load:
    # a loaded CI machine loses packets on loopback too, so only their presence is checked).
    assert "agent" in live["quality"], live
    agent_leg = live["quality"]["agent"]
    assert 1.0 <= agent_leg["mos"] <= 4.5 and agent_leg["loss_pct"] is not None, agent_leg
    print(f"{codec}: browser leg {agent_leg}")
    (record,) = [r for r in records if r.get("agent") == "1001"]
    assert record["outcome"] == "answered", record
    assert record["ended_by"] == "agent", record
    assert record["mos"] is not None, record
    # The browser's RTCP reports about what Vaxel sends it are the leg's far end.
    far_end = record["quality"]["legs"]["agent"]["far_end"]
    assert far_end is not None and far_end["loss_pct"] is not None, record["quality"]
    print(f"{codec}: browser leg far end {far_end}")

    decoded = list((tmp_path / "caller" / "snd").glob("*-dec.wav"))
    assert len(decoded) == 1, f"baresip's decoded audio: {decoded}\n{output[-3000:]}"
    heard, rate = sf.read(str(decoded[0]), dtype="int16")
    assert rate == 8000
    periods = ncc_periods(heard.astype(np.float64), template)
    score = periods[0]
    print(f"{codec}: correlation of the page's microphone in what the caller heard: {score:.3f}")
    print(f"{codec}: each repeat of the chirp: {periods}")
    assert score > MATCH, f"caller did not hear the page's microphone intact: {score:.3f}"
