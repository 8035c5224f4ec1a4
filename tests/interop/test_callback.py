"""Callback with real peers (SPEC S8): a SIPp caller waits, presses 5 and 1 and hangs up
on the confirmation; later a SIPp agent is called first, then the customer (a SIPp UAS
behind the trunk) is called and bridged, with RTP both ways."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.peers.sipp import Sipp
from tests.support import free_port

from .conftest import sipp_register, start_vaxel

AUTH = {"Authorization": "Bearer demo-admin-token"}
CALLBACK = """
[queues.support.callback]
key = "5"
attempts = 2
retry_interval = 10
ring_timeout = 15
"""


def _pcaps(folder: Path) -> None:
    folder.mkdir(parents=True)
    for name in ("dtmf_2833_5.pcap", "dtmf_2833_1.pcap", "g711a.pcap"):
        (folder / name).symlink_to(f"/usr/share/sip-tester/{name}")


async def test_a_booked_callback_calls_the_agent_first_then_the_customer(tmp_path: Path) -> None:
    trunk_port = free_port()
    vaxel = await start_vaxel(
        tmp_path, replace={"port = 5080": f"port = {trunk_port}"}, extra=CALLBACK
    )
    try:
        _pcaps(tmp_path / "uac" / "pcap")
        caller = Sipp(tmp_path / "uac", scenario="callback_caller.xml", target=vaxel.sip_target,
                      timeout=40)  # fmt: skip
        booked = await caller.run_with("-s", "100")
        assert booked.returncode == 0, booked.explain()
        events = await vaxel.server.calllog.events()
        (request,) = [e for e in events if e.kind == "callback_requested"]
        assert request.data is not None and request.data["number"] == "0701234567", request.data
        attempt = request.data["callback"]
        assert [c.id for c in vaxel.stack.acd.waiting()] == [attempt]  # its place kept

        # Now an agent comes: its phone (echoing RTP) rings first, then the customer's.
        agent_port, echo_port = free_port(), free_port(both=False)
        agent = Sipp(tmp_path / "agent", "-rtp_echo", builtin="uas", port=agent_port,
                     timeout=40, media_port=echo_port)  # fmt: skip
        _pcaps(tmp_path / "customer" / "pcap")
        customer = Sipp(tmp_path / "customer", scenario="customer_answers.xml", port=trunk_port,
                        timeout=40)  # fmt: skip
        await agent.start()
        await customer.start()
        reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", agent_port)
        assert reg.returncode == 0, reg.explain()
        async with (
            aiohttp.ClientSession(headers=AUTH) as http,
            http.post(f"{vaxel.http}/api/agents/1001/login", json={"device": "sip"}) as r,
        ):
            assert r.status == 200, await r.text()
        customer_res = await customer.wait()
        assert customer_res.returncode == 0, customer_res.explain()
        await asyncio.sleep(0.5)
        await agent.stop()
        events = await vaxel.server.calllog.events(call_id=attempt)
        kinds = [e.kind for e in events]
        assert kinds.index("answered") < kinds.index("callback_connected"), kinds
        hangup = events[-1]
        assert hangup.kind == "hangup" and hangup.data is not None
        rtp = hangup.data["rtp"]
        # Customer -> Vaxel -> agent (echoed) -> Vaxel -> customer.
        assert rtp["customer"]["received"] > 50 and rtp["agent"]["received"] > 50, rtp
        assert rtp["customer"]["sent"] > 50 and rtp["agent"]["sent"] > 50, rtp
        assert "INVITE sip:0701234567@127.0.0.1" in customer_res.messages()
        summaries = {s.call_id: s for s in await vaxel.server.calllog.calls()}
        assert summaries[attempt].outcome == "answered" and summaries[attempt].agent == "1001"
        assert summaries[request.call_id].outcome == "callback_requested"
    finally:
        await vaxel.server.stop()


async def test_a_pending_callback_survives_kill_9_and_is_placed_after_the_restart(
    tmp_path: Path,
) -> None:
    import re
    import signal
    import sys

    from config import parse_config
    from tests.support import demo_toml_with
    from vaxel.server import VaxelServer

    text = demo_toml_with(tmp_path, extra=CALLBACK)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(text)
    sip_port = int(re.search(r"\[sip\][^\[]*?port = (\d+)", text, re.S).group(1))  # type: ignore[union-attr]
    root = Path(__file__).resolve().parents[2]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "vaxel.cli", "serve", "--config", str(cfg),
        cwd=root, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)  # type: ignore[union-attr]
        assert b"Vaxel" in line, line
        await asyncio.sleep(0.3)
        _pcaps(tmp_path / "uac" / "pcap")
        caller = Sipp(tmp_path / "uac", scenario="callback_caller.xml",
                      target=f"127.0.0.1:{sip_port}", timeout=40)  # fmt: skip
        booked = await caller.run_with("-s", "100")
        assert booked.returncode == 0, booked.explain()
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
    server = VaxelServer(parse_config(text, source=str(cfg)), base_dir=tmp_path)
    await server.start()
    try:
        assert server.calls is not None
        waiting = [c for c in server.calls.acd.waiting()]
        assert len(waiting) == 1 and waiting[0].channel.value == "callback", waiting
        assert waiting[0].a_number == "0701234567"
        assert waiting[0].id.endswith(";cb1.1")
    finally:
        await server.stop()


async def test_a_phone_agent_gets_the_callback_number_by_sms_through_the_http_gateway(
    tmp_path: Path,
) -> None:
    from aiohttp import web

    received: list[dict] = []

    async def gateway(request: web.Request) -> web.Response:
        assert request.headers.get("Authorization") == "Bearer sms-token"
        received.append(await request.json())
        return web.json_response({"id": len(received)})

    app = web.Application()
    app.router.add_post("/sms", gateway)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port(both=False)
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sms = f'\n[sms]\ndriver = "http"\nurl = "http://127.0.0.1:{port}/sms"\ntoken = "sms-token"\n'
    vaxel = await start_vaxel(tmp_path, extra=CALLBACK + sms)
    try:
        _pcaps(tmp_path / "uac" / "pcap")
        caller = Sipp(tmp_path / "uac", scenario="callback_caller.xml", target=vaxel.sip_target,
                      timeout=40)  # fmt: skip
        booked = await caller.run_with("-s", "100")
        assert booked.returncode == 0, booked.explain()
        async with (
            aiohttp.ClientSession(headers=AUTH) as http,
            http.post(f"{vaxel.http}/api/agents/1001/login", json={"device": "remote"}) as r,
        ):
            assert r.status == 200, await r.text()
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.1)
        (message,) = received
        assert message["to"] == "0701001001" and "0701234567" in message["text"], message
        assert vaxel.stack.acd.agent_view("1001").state.value == "wrap_up"
        await asyncio.sleep(0.3)
        kinds = [e.kind for e in await vaxel.server.calllog.events()]
        assert "callback_sms_sent" in kinds
    finally:
        await vaxel.server.stop()
        await runner.cleanup()


async def test_a_busy_customer_is_retried_per_policy_then_the_callback_is_listed_as_failed(
    tmp_path: Path,
) -> None:
    """Two attempts (the policy), 10 s apart, each: the agent answers first and hears the
    briefing, the customer is busy (486). Then the callback is failed, in the call log and
    in the supervisors' list of GET /api/callbacks."""
    trunk_port = free_port()
    vaxel = await start_vaxel(
        tmp_path, replace={"port = 5080": f"port = {trunk_port}"}, extra=CALLBACK
    )
    try:
        _pcaps(tmp_path / "uac" / "pcap")
        caller = Sipp(tmp_path / "uac", scenario="callback_caller.xml", target=vaxel.sip_target,
                      timeout=40)  # fmt: skip
        booked = await caller.run_with("-s", "100")
        assert booked.returncode == 0, booked.explain()
        agent_port, echo_port = free_port(), free_port(both=False)
        agent = Sipp(tmp_path / "agent", "-rtp_echo", builtin="uas", port=agent_port, calls=2,
                     timeout=60, media_port=echo_port)  # fmt: skip
        customer = Sipp(tmp_path / "customer", scenario="customer_busy.xml", port=trunk_port,
                        calls=2, timeout=60)  # fmt: skip
        await agent.start()
        await customer.start()
        reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", agent_port)
        assert reg.returncode == 0, reg.explain()
        async with aiohttp.ClientSession(headers=AUTH) as http:
            async with http.post(
                f"{vaxel.http}/api/agents/1001/login", json={"device": "sip"}
            ) as r:
                assert r.status == 200, await r.text()
            async with http.get(f"{vaxel.http}/api/callbacks?status=pending") as r:
                pending = (await r.json())["callbacks"]
            assert [p["number"] for p in pending] == ["0701234567"], pending
            customer_res = await customer.wait()
            assert customer_res.returncode == 0, customer_res.explain()
            assert customer_res.messages().count("INVITE sip:0701234567@127.0.0.1") == 2
            failed: list[dict[str, object]] = []
            still: list[dict[str, object]] = []
            # The failure is logged as the second attempt ends; the call log and the store
            # of pending callbacks are two writers, so wait until both have settled.
            for _ in range(200):
                async with http.get(f"{vaxel.http}/api/callbacks?status=failed") as r:
                    assert r.status == 200, await r.text()
                    failed = (await r.json())["callbacks"]
                async with http.get(f"{vaxel.http}/api/callbacks?status=pending") as r:
                    still = (await r.json())["callbacks"]
                if failed and not still:
                    break
                await asyncio.sleep(0.1)
            assert still == [], still
        await agent.stop()
        assert len(failed) == 1, failed
        assert failed[0]["number"] == "0701234567" and failed[0]["attempts"] == 2, failed
        assert failed[0]["queue"] == "support" and "486" in str(failed[0]["reason"]), failed
        events = await vaxel.server.calllog.events()
        kinds = [e.kind for e in events]
        assert kinds.count("callback_attempt") == 2 and kinds.count("callback_retry") == 1, kinds
        (retry,) = [e for e in events if e.kind == "callback_retry"]
        (second,) = [e for e in events if e.kind == "callback_attempt"][1:]
        gap = (second.at - retry.at).total_seconds()
        assert 9.5 <= gap <= 20, gap  # retry_interval = 10
    finally:
        await vaxel.server.stop()
