"""Real calls into the report (SPEC S12): SIPp callers and a registered SIPp agent — one
call answered, one abandoned after waiting, one short abandon — and the key-figures report
of that hour shows exactly those counts."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from tests.peers.sipp import Sipp
from tests.support import free_port

from .conftest import RunningVaxel, sipp_register, start_vaxel

HEADERS = {"Authorization": "Bearer demo-admin-token"}


def caller(vaxel: RunningVaxel, tmp: Path, name: str, stay_ms: int, number: str) -> Sipp:
    sipp = Sipp(tmp / name, scenario="call_then_hang_up.xml", target=vaxel.sip_target,
                timeout=60)  # fmt: skip
    sipp.cmd += ["-s", "100", "-key", "caller", number, "-d", str(stay_ms)]
    return sipp


async def wait_kind(vaxel: RunningVaxel, kind: str, count: int, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while True:
            events = await vaxel.server.calllog.events(limit=10000)
            if sum(1 for e in events if e.kind == kind) >= count:
                return
            await asyncio.sleep(0.1)


async def test_answered_abandoned_and_short_abandoned_calls_are_the_hours_counts(
    vaxel: RunningVaxel, tmp_path: Path
) -> None:
    zone = ZoneInfo(vaxel.config.server.time_zone)
    now = datetime.now(zone)
    if now.minute == 59 and now.second > 10:  # keep the calls inside one hour
        await asyncio.sleep(61 - now.second)
    hour = datetime.now(zone).replace(minute=0, second=0, microsecond=0)

    uas_port, echo_port = free_port(), free_port(both=False)
    agent = Sipp(tmp_path / "agent", "-rtp_echo", builtin="uas", port=uas_port, timeout=60,
                 media_port=echo_port)  # fmt: skip
    await agent.start()
    reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", uas_port)
    assert reg.returncode == 0, reg.explain()
    async with aiohttp.ClientSession(headers=HEADERS) as http:
        async with http.post(f"{vaxel.http}/api/agents/1001/login", json={"device": "sip"}) as r:
            assert r.status == 200, await r.text()

        answered = caller(vaxel, tmp_path, "answered", 20_000, "0701111111")
        await answered.start()
        await wait_kind(vaxel, "answered", 1)  # the agent is busy from here
        waited = caller(vaxel, tmp_path, "abandoned", 12_000, "0702222222")
        # The welcome prompt takes about 1.7 s before the queue: ~2 s in the queue.
        short = caller(vaxel, tmp_path, "short", 4_000, "0703333333")
        started = time.monotonic()
        await waited.start()
        await short.start()
        results = {}
        for name, sipp in (("short", short), ("abandoned", waited), ("answered", answered)):
            results[name] = await sipp.wait()
        await agent.stop()
        for name, res in results.items():
            assert res.returncode == 0, f"{name}: {res.explain()}"
        assert time.monotonic() - started < 40
        await wait_kind(vaxel, "hangup", 3)
        await asyncio.sleep(0.5)
        log = [(e.call_id[:8], e.kind, e.queue, e.agent) for e in
               await vaxel.server.calllog.events(limit=10000)]  # fmt: skip
        print("call log:", *log, sep="\n  ")

        query = (f"from={hour.isoformat()}&to={(hour.replace(minute=59, second=59)).isoformat()}"
                 "&interval=hour&queues=support")  # fmt: skip
        async with http.get(
            f"{vaxel.http}/api/reports/key_figures",
            params=dict(p.split("=", 1) for p in query.split("&")),
        ) as r:
            body = await r.json()
            assert r.status == 200, body
    (row,) = body["rows"]
    print("report:", row)
    assert row["queue"] == "support"
    assert row["offered"] == 3, (row, log)
    assert row["answered"] == 1 and row["answered_within"] == 1, row
    assert row["abandoned"] == 2 and row["abandoned_short"] == 1, row
    assert row["service_level"] == 0.5, row  # 1 within 20 s / (3 offered - 1 short)
    assert 5 <= row["longest_wait"] < 20, row  # the caller who gave up waited ~12 s
    assert row["talk"] > 10, row


async def test_abandoned_while_ringing_and_an_overflow_are_the_hours_counts(
    tmp_path: Path,
) -> None:
    """A caller on 100 hangs up while agent 1001's phone (SIPp: 180, never answers) rings;
    then a caller on 101 (sales: nobody staffs it, max_wait 3 s) overflows to support, is
    offered to the same phone and hangs up while it rings. The hour's report: sales 1
    offered, 1 overflowed out; support 2 offered (1 of them overflowed in), 2 abandoned,
    none answered; the agent 2 offers, no no-answer (the ring timeout never passed), the
    ringing time of both offers."""
    vaxel = await start_vaxel(tmp_path, replace={"max_wait = 300": "max_wait = 3"})
    try:
        zone = ZoneInfo(vaxel.config.server.time_zone)
        now = datetime.now(zone)
        if now.minute == 59 and now.second > 20:  # keep the calls inside one hour
            await asyncio.sleep(61 - now.second)
        hour = datetime.now(zone).replace(minute=0, second=0, microsecond=0)
        uas_port = free_port()
        phone = Sipp(tmp_path / "agent", scenario="ring_no_answer.xml", port=uas_port,
                     calls=2, timeout=60)  # fmt: skip
        await phone.start()
        reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", uas_port)
        assert reg.returncode == 0, reg.explain()
        async with aiohttp.ClientSession(headers=HEADERS) as http:
            async with http.post(
                f"{vaxel.http}/api/agents/1001/login", json={"device": "sip"}
            ) as r:
                assert r.status == 200, await r.text()
            first = caller(vaxel, tmp_path, "ringing", 8_000, "0704444444")
            res = await first.run()
            assert res.returncode == 0, res.explain()
            await wait_kind(vaxel, "hangup", 1)
            second = caller(vaxel, tmp_path, "overflowed", 14_000, "0705555555")
            second.cmd[second.cmd.index("100")] = "101"
            res = await second.run()
            assert res.returncode == 0, res.explain()
            await wait_kind(vaxel, "hangup", 2)
            phone_res = await phone.wait()
            assert phone_res.returncode == 0, phone_res.explain()
            await asyncio.sleep(0.5)
            end = hour.replace(minute=59, second=59)
            params = {"from": hour.isoformat(), "to": end.isoformat(), "interval": "hour"}
            async with http.get(
                f"{vaxel.http}/api/reports/key_figures",
                params={**params, "queues": "support,sales"},
            ) as r:
                queues = await r.json()
                assert r.status == 200, queues
            async with http.get(
                f"{vaxel.http}/api/reports/agents", params={**params, "agents": "1001"}
            ) as r:
                agents = await r.json()
                assert r.status == 200, agents
        rows = {row["queue"]: row for row in queues["rows"]}
        sales, support = rows["sales"], rows["support"]
        print("report:", sales, support, agents["rows"], sep="\n  ")
        assert sales["offered"] == 1 and sales["overflow_out"] == 1, sales
        assert sales["abandoned"] == 0 and sales["answered"] == 0, sales
        assert 2.5 <= sales["longest_wait"] < 6, sales  # max_wait = 3
        assert support["offered"] == 2 and support["overflow_in"] == 1, support
        assert support["abandoned"] == 2 and support["abandoned_short"] == 0, support
        assert support["answered"] == 0 and support["service_level"] == 0.0, support
        assert support["abandoned_within"] == 2, support
        assert 6 <= support["average_abandon_wait"] < 10, support
        # The overflowed caller waited ~14 s - 1.7 s welcome - 3 s in sales in support.
        assert 7 <= support["longest_wait"] < 12, support
        (agent,) = agents["rows"]
        assert agent["offers"] == 2 and agent["answered"] == 0, agent
        assert agent["no_answers"] == 0 and agent["declined"] == 0, agent
        assert 11 < agent["ringing"] < 20, agent  # ~6 s + ~9 s
    finally:
        await vaxel.server.stop()
