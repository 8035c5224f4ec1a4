"""Transfers through the API (docs/transfers.md) for an agent on any device: a SIPp caller
is answered by agent 1001 (a SIPp phone that echoes RTP); agent 1001's user puts the caller
on hold, resumes and transfers them blind to queue 101, where agent 1003 (another echoing
SIPp phone) answers. Another agent may not touch the call; bad requests name the field."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.peers.sipp import Sipp
from tests.support import free_port

from .conftest import RunningVaxel, sipp_register, start_vaxel
from .test_transfer import caller

pytestmark = pytest.mark.interop


async def sign_in(http: aiohttp.ClientSession, vaxel: RunningVaxel, user: str) -> str:
    body = {"user": user, "password": f"demo-{user}-password"}
    async with http.post(f"{vaxel.http}/api/login", json=body) as resp:
        assert resp.status == 200, await resp.text()
        return str((await resp.json())["token"])


async def post(
    http: aiohttp.ClientSession, vaxel: RunningVaxel, token: str, path: str, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(f"{vaxel.http}{path}", json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def echoing_phone(vaxel: RunningVaxel, workdir: Path, agent: str) -> Sipp:
    port, media = free_port(), free_port(both=False)
    phone = Sipp(workdir, "-rtp_echo", builtin="uas", port=port, timeout=40, media_port=media)
    await phone.start()
    reg = await sipp_register(vaxel, workdir / "reg", agent, f"secret{agent}", port)
    assert reg.returncode == 0, reg.explain()
    return phone


async def test_an_agent_holds_resumes_and_transfers_their_call_through_the_api(
    tmp_path: Path,
) -> None:
    vaxel = await start_vaxel(tmp_path)
    try:
        a = await echoing_phone(vaxel, tmp_path / "a", "1001")
        b = await echoing_phone(vaxel, tmp_path / "b", "1003")
        stack = vaxel.stack
        await stack.runner.apply(stack.acd.agent_login, "1001", "sip:1001", ["support"])
        await stack.runner.apply(stack.acd.agent_login, "1003", "sip:1003", ["sales"])
        sipp = caller(vaxel, tmp_path / "caller", 9000)
        await sipp.start()
        core = stack.controller.core
        for _ in range(200):
            key = next((k for k, c in core.calls.items() if c.agent == "1001"), None)
            if key is not None and core.calls[key].phase == "connected":
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("1001 never got the call")
        calls = f"/api/calls/{key}"
        async with aiohttp.ClientSession() as http:
            other = await sign_in(http, vaxel, "1002")
            status, body = await post(http, vaxel, other, f"{calls}/hold")
            assert status == 403 and "1002" in body["error"]["message"], body
            token = await sign_in(http, vaxel, "1001")
            status, body = await post(http, vaxel, token, f"{calls}/hold")
            assert status == 200 and body["transfer"] == {"held": True}, body
            await asyncio.sleep(0.5)
            assert (await post(http, vaxel, token, f"{calls}/resume"))[0] == 200
            status, body = await post(http, vaxel, token, f"{calls}/toggle")
            assert status == 409 and "consult" in body["error"]["message"], body
            status, body = await post(http, vaxel, token, f"{calls}/transfer", {})
            assert status == 400 and "target" in body["error"]["message"], body
            status, body = await post(http, vaxel, token, f"{calls}/transfer", {"target": 7})
            assert status == 400 and "target" in body["error"]["message"], body
            status, body = await post(http, vaxel, token, f"{calls}/transfer", {"target": "x"})
            assert status == 404 and "x" in body["error"]["message"], body
            await asyncio.sleep(1.0)
            status, body = await post(http, vaxel, token, f"{calls}/transfer", {"target": "101"})
            assert status == 202 and body["agent"] == "1001", body
        res = await sipp.wait()
        assert res.returncode == 0, res.explain()
        await a.wait()
        await b.wait()
        await asyncio.sleep(0.5)
        events = [e for e in await vaxel.server.calllog.events() if e.call_id == key]
    finally:
        await vaxel.server.stop()
    kinds = [e.kind for e in events]
    assert kinds.index("hold") < kinds.index("resume") < kinds.index("transfer_requested")
    assert [(e.agent, e.queue) for e in events if e.kind == "answered"] == [
        ("1001", "support"),
        ("1003", "sales"),
    ], kinds
    requested = next(e for e in events if e.kind == "transfer_requested")
    assert requested.data["via"] == "api", requested.data
    rtp = events[-1].data["rtp"]
    # 1003's leg: the caller's audio went to 1003 and its echo came back.
    assert rtp["agent"]["received"] > 50 and rtp["agent"]["sent"] > 50, rtp
