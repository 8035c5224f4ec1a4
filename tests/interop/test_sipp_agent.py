"""A SIPp UAS registered as agent 1001, logged in through the HTTP API, answers a SIPp
caller on 100 through the ACD."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.peers.sipp import Sipp
from tests.support import free_port

from .conftest import RunningVaxel, sipp_register


async def test_registered_sipp_agent_answers_a_caller_and_rtp_flows_both_ways(
    vaxel: RunningVaxel, tmp_path: Path
) -> None:
    uas_port, echo_port = free_port(), free_port(both=False)
    uas = Sipp(
        tmp_path / "uas",
        "-rtp_echo",
        builtin="uas",
        port=uas_port,
        timeout=30,
        media_port=echo_port,
    )
    await uas.start()
    reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", uas_port)
    assert reg.returncode == 0, reg.explain()
    async with (
        aiohttp.ClientSession(headers={"Authorization": "Bearer demo-admin-token"}) as http,
        http.post(f"{vaxel.http}/api/agents/1001/login", json={"device": "sip"}) as resp,
    ):
        agent = await resp.json()
        assert resp.status == 200, agent
    assert agent["agent"]["state"] == "ready" and agent["agent"]["device"] == "sip:1001", agent

    caller = Sipp(tmp_path / "uac", builtin="uac_pcap", target=vaxel.sip_target, timeout=30)
    (tmp_path / "uac").mkdir(exist_ok=True)
    (tmp_path / "uac" / "pcap").symlink_to("/usr/share/sip-tester")
    res = await caller.run_with("-s", "100")
    await uas.stop()
    assert res.returncode == 0, res.explain()
    uas_res = await uas.wait()
    kinds_all = [
        (e.kind, e.agent, (e.data or {}).get("reason")) for e in await vaxel.server.calllog.events()
    ]
    assert "INVITE sip:1001@127.0.0.1" in uas_res.messages(), kinds_all
    await asyncio.sleep(0.5)
    events = await vaxel.server.calllog.events()
    kinds = [e.kind for e in events if e.agent == "1001" or e.kind in ("arrived", "answered")]
    assert "offered" in kinds and "answered" in kinds, [e.kind for e in events]
    answered = next(e for e in events if e.kind == "answered")
    assert answered.agent == "1001" and answered.queue == "support"
    assert answered.b_number == "100" and answered.a_number, answered
    # Every step of the call, in order, under one call id.
    steps = [e.kind for e in events if e.call_id == answered.call_id]
    expected = ["arrived", "queued", "offered", "answered", "hangup"]
    found = iter(steps)
    assert all(kind in found for kind in expected), steps
    hangup = next(e for e in events if e.kind == "hangup")
    rtp = hangup.data["rtp"]
    # Caller -> Vaxel -> agent (echoed by SIPp) -> Vaxel -> caller: both legs both ways.
    assert rtp["caller"]["received"] > 100 and rtp["agent"]["received"] > 100, rtp
    assert rtp["caller"]["sent"] > 100 and rtp["agent"]["sent"] > 100, rtp
    assert "Total echo RTP pckts 1st stream" in uas_res.stdout
