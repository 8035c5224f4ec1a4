"""Administration at run time with real peers: a queue's ring timeout changed through the
API while a call rings applies to the next offer and the next call; the ringing offer
keeps its own deadline and the live call stays up. Measured at a SIPp agent phone that
never answers: the time from each INVITE to its CANCEL."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from tests.peers.sipp import Sipp, SippResult
from tests.support import free_port

from .conftest import sipp_register, start_vaxel

pytestmark = pytest.mark.interop

TOKEN = "demo-admin-token"
# SIPp's message trace: a dashed line with the time, then the message.
_ENTRY = re.compile(
    r"^-+ (\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d\.\d+)\s*\n.*?\n\s*\n(\S+)[^\n]*\n(.*?)(?=^-{10,}|\Z)",
    re.M | re.S,
)


def invite_to_cancel(result: SippResult) -> list[tuple[float, float]]:
    """(INVITE time, seconds until its CANCEL) per call the phone was offered, in order."""
    invites: dict[str, float] = {}
    out: list[tuple[float, float]] = []
    for stamp, first, rest in _ENTRY.findall(result.messages()):
        at = datetime.fromisoformat(re.sub(r"\s+", " ", stamp)).timestamp()
        call_id = re.search(r"^Call-ID:\s*(\S+)", rest, re.M | re.I)
        if call_id is None:
            continue
        if first == "INVITE":
            invites[call_id.group(1)] = at
        elif first == "CANCEL" and call_id.group(1) in invites:
            start = invites[call_id.group(1)]
            out.append((start, at - start))
    return sorted(out)


async def _wait_for(predicate, what: str, timeout: float = 20.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_ring_timeout_changed_through_the_api_applies_to_the_next_call(
    tmp_path: Path,
) -> None:
    vaxel = await start_vaxel(
        tmp_path,
        replace={
            "ring_timeout = 15\nwrap_up = 5\nservice_level_seconds = 20": (
                "ring_timeout = 8\nwrap_up = 5\nservice_level_seconds = 20\nmax_unanswered = 20"
            ),
        },
    )
    try:
        phone_port = free_port()
        phone = Sipp(
            tmp_path / "phone", scenario="ring_no_answer.xml", port=phone_port, calls=10, timeout=60
        )
        await phone.start()
        reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", phone_port)
        assert reg.returncode == 0, reg.explain()
        stack = vaxel.stack
        await stack.runner.apply(stack.acd.agent_login, "1001", "sip:1001", None)

        # Call A holds 11 s after it is answered (queued): its first offer rings under 8 s.
        caller_a = Sipp(tmp_path / "a", builtin="uac", target=vaxel.sip_target, timeout=40)
        caller_a.cmd += ["-s", "100", "-d", "11000"]
        await caller_a.start()
        await _wait_for(
            lambda: any(c.state == "ringing" for c in stack.acd.calls()), "the first offer"
        )
        # While it rings, the ring timeout goes down to 3 s through the API.
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            url = f"{vaxel.server.http_url}/api/config/queues/support"
            async with http.get(url) as resp:
                tag = resp.headers["ETag"]
            async with http.patch(url, json={"ring_timeout": 3}, headers={"If-Match": tag}) as resp:
                assert resp.status == 200, await resp.text()
        changed_at = time.time()
        res_a = await caller_a.wait()
        assert res_a.returncode == 0, res_a.explain()  # the live call stayed up to its BYE

        # Call B comes after the change: its offers ring 3 s.
        b_started = time.time()
        caller_b = Sipp(tmp_path / "b", builtin="uac", target=vaxel.sip_target, timeout=40)
        res_b = await caller_b.run_with("-s", "100", "-d", "7000")
        assert res_b.returncode == 0, res_b.explain()
        await phone.stop()
        offers = invite_to_cancel(
            SippResult(0, "", "", phone.workdir)  # the phone's trace, read after it stopped
        )
        assert offers, phone.workdir
        first_start, first_rang = offers[0]
        assert first_start < changed_at, offers  # the change came while it rang
        assert 7.3 <= first_rang <= 10.0, offers  # and it kept its own 8 s
        b_offers = [rang for start, rang in offers if start >= b_started]
        assert b_offers, offers
        assert 2.5 <= b_offers[0] <= 4.5, offers  # the next call: the new 3 s
    finally:
        await vaxel.server.stop()
