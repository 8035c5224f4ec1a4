"""Outbound calls, click-to-call and direct numbers with real peers (docs/outbound.md).

SIPp plays the agent's phone (digest on Vaxel's 407) and the trunk (a UAS that asks for
the trunk's credentials, checks P-Asserted-Identity and echoes RTP). The order in which
click-to-call reaches the two peers is read from their own message traces.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from tests.peers.sipp import Sipp, SippResult
from tests.support import free_port

from .conftest import RunningVaxel, sipp_register, start_vaxel

pytestmark = pytest.mark.interop

AUTH = {"Authorization": "Bearer demo-admin-token"}
NUMBER = "0701234567"
QUEUE_CALLER_ID = "0812345600"
OUTBOUND = """
[outbound]
enabled = true
allowed_prefixes = ["0"]
blocked_prefixes = ["0900"]
caller_id = "0812345000"

[calendars.never]
hours = {}
"""


def _pcaps(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("g711a.pcap", "dtmf_2833_1.pcap"):  # uac_pcap plays both
        (folder / name).symlink_to(f"/usr/share/sip-tester/{name}")


async def _vaxel(tmp_path: Path, trunk_port: int, extra_numbers: str = "") -> RunningVaxel:
    return await start_vaxel(
        tmp_path,
        replace={
            "port = 5080": f'port = {trunk_port}\nusername = "trunkuser"\npassword = "trunkpass"',
            'sip_password = "secret1001"': (
                'sip_password = "secret1001"\noutbound_queue = "support"'
            ),
            'voicemail_email = "support@localhost"': (
                'voicemail_email = "support@localhost"\n'
                f'outbound_caller_id = "{QUEUE_CALLER_ID}"\noutbound_wrap_up = 30'
            ),
            '"191" = { service = "prompt-recording" }': (
                '"191" = { service = "prompt-recording" }\n' + extra_numbers
            ),
        },
        extra=OUTBOUND,
    )


def _agent_phone(workdir: Path, scenario: str, vaxel: RunningVaxel, number: str) -> Sipp:
    _pcaps(workdir / "pcap")
    sipp = Sipp(workdir, scenario=scenario, target=vaxel.sip_target, timeout=40)
    sipp.cmd += ["-s", number, "-au", "1001", "-ap", "secret1001", "-key", "agent", "1001"]
    return sipp


async def _events(vaxel: RunningVaxel, kind: str, wait: float = 10.0) -> list:
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        events = await vaxel.server.calllog.events()
        found = [e for e in events if e.kind == kind]
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.1)


def _header(messages: str, name: str) -> list[str]:
    return re.findall(rf"^{name}:\s*(.*)$", messages, flags=re.MULTILINE | re.IGNORECASE)


_STAMP = re.compile(r"^-+ (\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d\.\d+)", re.MULTILINE)


def _when(result: SippResult, pattern: str) -> datetime:
    """When the peer logged the first message matching ``pattern`` (its own clock)."""
    text = result.messages()
    blocks = _STAMP.split(text)
    # split gives [before, stamp1, block1, stamp2, block2, ...]
    for stamp, block in zip(blocks[1::2], blocks[2::2], strict=False):
        if re.search(pattern, block, flags=re.MULTILINE):
            return datetime.fromisoformat(" ".join(stamp.split()))
    raise AssertionError(f"no message matching {pattern!r} in {result.workdir}\n{text[-3000:]}")


async def test_an_agents_phone_calls_out_through_the_trunk_with_the_queues_caller_id(
    tmp_path: Path,
) -> None:
    trunk_port = free_port()
    vaxel = await _vaxel(tmp_path, trunk_port)
    trunk = Sipp(
        tmp_path / "trunk", "-rtp_echo", scenario="trunk_challenges_and_answers.xml",
        port=trunk_port, timeout=40, media_port=free_port(),
    )  # fmt: skip
    try:
        stack = vaxel.stack
        await stack.runner.apply(stack.acd.agent_login, "1001", "sip:1001", None)
        await trunk.start()
        phone = _agent_phone(tmp_path / "phone", "agent_dials_out.xml", vaxel, NUMBER)
        await phone.start()
        busy_seen = False
        for _ in range(200):  # while the call is up the ACD holds the agent busy
            if await _events(vaxel, "outbound_answered", wait=0):
                busy_seen = stack.acd.agent_view("1001").state.value == "busy"
                break
            await asyncio.sleep(0.05)
        phone_res, trunk_res = await phone.wait(), await trunk.wait()
        assert phone_res.returncode == 0, phone_res.explain()
        assert trunk_res.returncode == 0, trunk_res.explain()
        (hangup,) = await _events(vaxel, "hangup")
        state_after = stack.acd.agent_view("1001").state.value
    finally:
        await vaxel.server.stop()
    received = trunk_res.messages()
    assert f"INVITE sip:{NUMBER}@127.0.0.1:{trunk_port}" in received
    pai = _header(received, "P-Asserted-Identity")
    froms = [f for f in _header(received, "From") if "tag=" in f]
    assert pai and all(f"sip:{QUEUE_CALLER_ID}@" in p for p in pai), pai
    assert froms and all(QUEUE_CALLER_ID in f for f in froms), froms
    assert any("trunkuser" in a for a in _header(received, "Proxy-Authorization")), received
    assert busy_seen, "the agent was not busy for the ACD during the outbound call"
    # The trunk's 180 reached the phone before the 200: it played its ringing tone.
    assert _when(phone_res, r"^SIP/2.0 180") < _when(phone_res, r"^SIP/2.0 200 OK")
    assert state_after == "wrap_up"  # the queue's outbound_wrap_up
    rtp = hangup.data["rtp"]
    assert rtp["caller"]["received"] > 50 and rtp["customer"]["received"] > 50, rtp
    assert rtp["caller"]["sent"] > 50 and rtp["customer"]["sent"] > 50, rtp
    (call,) = await vaxel.server.calllog.calls()
    assert (call.outcome, call.agent, call.queue) == ("outbound", "1001", "support")
    assert call.a_number == QUEUE_CALLER_ID and call.b_number == NUMBER


async def test_a_blocked_number_gets_403_and_a_busy_customer_486_at_the_phone(
    tmp_path: Path,
) -> None:
    trunk_port = free_port()
    vaxel = await _vaxel(tmp_path, trunk_port)
    trunk = Sipp(tmp_path / "trunk", scenario="trunk_busy.xml", port=trunk_port, timeout=30)
    try:
        blocked = await _agent_phone(
            tmp_path / "blocked", "agent_dials_busy.xml", vaxel, "0900123456"
        ).run()
        await trunk.start()
        busy = await _agent_phone(tmp_path / "busy", "agent_dials_busy.xml", vaxel, NUMBER).run()
        trunk_res = await trunk.wait()
    finally:
        await vaxel.server.stop()
    assert blocked.returncode == 0, blocked.explain()
    assert "SIP/2.0 403 Forbidden: numbers starting 0900 are blocked" in blocked.messages()
    assert busy.returncode == 0, busy.explain()
    assert trunk_res.returncode == 0, trunk_res.explain()
    assert re.search(r"^SIP/2.0 486 ", busy.messages(), flags=re.MULTILINE), busy.messages()


async def test_click_to_call_rings_the_agent_first_then_the_customer(tmp_path: Path) -> None:
    trunk_port = free_port()
    vaxel = await _vaxel(tmp_path, trunk_port)
    phone_port = free_port()
    agent = Sipp(
        tmp_path / "agent", "-rtp_echo", builtin="uas", port=phone_port, timeout=40,
        media_port=free_port(),
    )  # fmt: skip
    _pcaps(tmp_path / "customer" / "pcap")
    customer = Sipp(
        tmp_path / "customer", scenario="customer_answers.xml", port=trunk_port, timeout=40
    )
    try:
        await agent.start()
        await customer.start()
        reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", phone_port)
        assert reg.returncode == 0, reg.explain()
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{vaxel.http}/api/agents/1001/dial", json={"number": NUMBER}, headers=AUTH
            ) as resp:
                body = await resp.json()
                assert resp.status == 201, body
            async with http.get(f"{vaxel.http}/api/calls", headers=AUTH) as resp:
                live = await resp.json()
        call_id = body["call"]["call_id"]
        assert [(c["call_id"], c["kind"]) for c in live["calls"]] == [(call_id, "click-to-call")]
        agent_res, customer_res = await agent.wait(), await customer.wait()
        assert agent_res.returncode == 0, agent_res.explain()
        assert customer_res.returncode == 0, customer_res.explain()
        (hangup,) = await _events(vaxel, "hangup")
    finally:
        await vaxel.server.stop()
    agent_rang = _when(agent_res, r"^INVITE sip:")
    agent_answered = _when(agent_res, r"^SIP/2.0 200 OK[\s\S]*CSeq: \d+ INVITE")
    customer_rang = _when(customer_res, rf"^INVITE sip:{NUMBER}@")
    assert agent_rang < agent_answered <= customer_rang, (agent_rang, agent_answered, customer_rang)
    # The agent's phone showed the number it was about to call; the customer the company's.
    agent_from = next(f for f in _header(agent_res.messages(), "From") if "tag=" in f)
    assert NUMBER in agent_from, agent_from
    assert any(QUEUE_CALLER_ID in f for f in _header(customer_res.messages(), "From"))
    rtp = hangup.data["rtp"]
    assert rtp["agent"]["received"] > 50 and rtp["customer"]["received"] > 50, rtp
    (row,) = await vaxel.server.calllog.calls()
    assert (row.call_id, row.outcome, row.agent) == (call_id, "outbound", "1001")


async def test_a_direct_number_rings_the_agents_phone_then_takes_a_voicemail(
    tmp_path: Path,
) -> None:
    trunk_port = free_port()
    vaxel = await _vaxel(
        tmp_path, trunk_port, extra_numbers='"150" = { direct = "1001", ring_timeout = 5 }'
    )
    phone_port = free_port()
    phone = Sipp(tmp_path / "phone", scenario="ring_no_answer.xml", port=phone_port, timeout=40)
    _pcaps(tmp_path / "caller" / "pcap")
    try:
        await phone.start()
        reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", phone_port)
        assert reg.returncode == 0, reg.explain()
        caller = await Sipp(
            tmp_path / "caller", builtin="uac_pcap", target=vaxel.sip_target, timeout=40
        ).run_with("-s", "150")
        phone_res = await phone.wait()
        await _events(vaxel, "hangup", wait=20)
        events = await vaxel.server.calllog.events()
        steps = [(e.kind, e.agent, e.data) for e in events]
        assert phone_res.returncode == 0, f"{steps}\n{phone_res.explain()}"  # rang, CANCEL
        assert caller.returncode == 0, f"{steps}\n{caller.explain()}"
        hangup = next(e for e in events if e.kind == "hangup")
        rows = await vaxel.server.calllog.calls()
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{vaxel.http}/api/voicemails", headers=AUTH) as resp,
        ):
            voicemails = (await resp.json())["voicemails"]
    finally:
        await vaxel.server.stop()
    kinds = [e.kind for e in events if e.call_id == hangup.call_id]
    assert "direct_offered" in kinds and "arrived" not in kinds, kinds
    missed = next(e for e in events if e.kind == "direct_missed")
    assert missed.agent == "1001" and missed.data == {"why": "no answer"}
    assert "voicemail_stored" in kinds, kinds
    (vm,) = voicemails  # in the agent's own mailbox
    assert (vm["agent"], vm["b_number"], vm["recipient"]) == (
        "1001",
        "150",
        "agent1001@localhost",
    ), vm
    assert _when(caller, r"^SIP/2.0 180") < _when(caller, r"^SIP/2.0 200")
    (row,) = rows
    assert row.outcome == "voicemail" and row.queue is None


async def test_a_closed_direct_number_plays_its_closed_prompt_then_takes_a_voicemail(
    tmp_path: Path,
) -> None:
    vaxel = await _vaxel(
        tmp_path, free_port(), extra_numbers='"151" = { direct = "1001", calendar = "never" }'
    )
    _pcaps(tmp_path / "caller" / "pcap")
    try:
        caller = await Sipp(
            tmp_path / "caller", builtin="uac_pcap", target=vaxel.sip_target, timeout=40
        ).run_with("-s", "151")
        await _events(vaxel, "hangup", wait=20)
        events = await vaxel.server.calllog.events()
    finally:
        await vaxel.server.stop()
    steps = [(e.kind, e.agent, e.data) for e in events]
    assert caller.returncode == 0, f"{steps}\n{caller.explain()}"
    kinds = [e.kind for e in events]
    assert "direct_offered" not in kinds, steps  # nothing rings outside the hours
    missed = next(e for e in events if e.kind == "direct_missed")
    assert missed.data == {"why": "closed"}, steps
    # The closed prompt and the greeting outlast SIPp's 7 s of audio: the voicemail step
    # runs (and hears silence); the message itself is tested in the no-answer case above.
    assert {"voicemail_stored", "voicemail_empty"} & set(kinds), steps
    assert "prompt_missing" not in kinds and "service_unavailable" not in kinds, steps


async def test_the_agent_cancelling_cancels_the_call_at_the_trunk(tmp_path: Path) -> None:
    trunk_port = free_port()
    vaxel = await _vaxel(tmp_path, trunk_port)
    trunk = Sipp(tmp_path / "trunk", scenario="ring_no_answer.xml", port=trunk_port, timeout=30)
    try:
        await trunk.start()
        phone = await _agent_phone(tmp_path / "phone", "agent_cancels.xml", vaxel, NUMBER).run()
        trunk_res = await trunk.wait()
        await _events(vaxel, "hangup")
        rows = await vaxel.server.calllog.calls()
    finally:
        await vaxel.server.stop()
    assert phone.returncode == 0, phone.explain()  # 180 relayed, then 200 + 487 to CANCEL
    assert trunk_res.returncode == 0, trunk_res.explain()  # rang, then got the CANCEL
    (row,) = rows
    assert (row.outcome, row.agent) == ("cancelled", "1001")
