"""NKI survey with real peers: a SIPp agent answers and hangs up first; the SIPp caller
stays, hears the questions and answers 4 with RFC 4733 and 2 in-band (SPEC S9)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import numpy as np

from media import dtmf_tone
from tests.peers.pcap import write_rtp_pcap
from tests.peers.sipp import Sipp
from tests.support import free_port

from .conftest import sipp_register, start_vaxel

SURVEY = """
[queues.support.survey]
questions = ["survey-q-agent", "survey-q-resolved"]
welcome = "beep"
answer_timeout = 10
"""
AUTH = {"Authorization": "Bearer demo-admin-token"}


async def test_caller_answers_the_survey_with_rfc4733_and_in_band_keys(tmp_path: Path) -> None:
    vaxel = await start_vaxel(tmp_path, extra=SURVEY)
    try:
        agent_port = free_port()
        agent = Sipp(tmp_path / "agent", scenario="agent_hangs_up.xml", port=agent_port,
                     timeout=40)  # fmt: skip
        await agent.start()
        reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", agent_port)
        assert reg.returncode == 0, reg.explain()
        async with aiohttp.ClientSession(headers=AUTH) as http:
            async with http.post(
                f"{vaxel.http}/api/agents/1001/login", json={"device": "sip"}
            ) as r:
                assert r.status == 200, await r.text()
            pcap = tmp_path / "uac" / "pcap"
            pcap.mkdir(parents=True)
            (pcap / "dtmf_2833_4.pcap").symlink_to("/usr/share/sip-tester/dtmf_2833_4.pcap")
            silence = np.zeros(1600, dtype=np.int16)
            write_rtp_pcap(
                pcap / "inband_2.pcap",
                np.concatenate([dtmf_tone("2", 0.2, level_dbm0=-12), silence]),
            )
            caller = Sipp(tmp_path / "uac", scenario="survey_caller.xml",
                          target=vaxel.sip_target, timeout=40)  # fmt: skip
            res = await caller.run_with("-s", "100")
            agent_res = await agent.wait()
            assert agent_res.returncode == 0, agent_res.explain()
            assert res.returncode == 0, res.explain()
            await asyncio.sleep(0.5)
            async with http.get(f"{vaxel.http}/api/surveys?queue=support") as r:
                body = await r.json()
                assert r.status == 200, body
        answers = [(a["position"], a["answer"], a["agent"]) for a in body["answers"]]
        assert answers == [(1, 4, "1001"), (2, 2, "1001")], body
        assert len({a["call_id"] for a in body["answers"]}) == 1
        (summary,) = await vaxel.server.calllog.calls()
        assert (summary.outcome, summary.agent, summary.ended_by) == ("answered", "1001", "agent")
    finally:
        await vaxel.server.stop()
