"""An agent that does not answer passes the call on; the next agent is on a PSTN number
reached through the trunk (a SIPp UAS plays the trunk)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.peers.sipp import Sipp
from tests.support import free_port

from .conftest import sipp_register, start_vaxel


async def test_unanswered_agent_passes_the_call_to_a_pstn_agent_via_the_trunk(
    tmp_path: Path,
) -> None:
    trunk_port = free_port()
    vaxel = await start_vaxel(
        tmp_path,
        replace={
            "ring_timeout = 15\nwrap_up = 5\nservice_level_seconds = 20": (
                "ring_timeout = 3\nwrap_up = 5\nservice_level_seconds = 20"
            ),
            "port = 5080": f"port = {trunk_port}",
        },
    )
    try:
        phone_port = free_port()
        phone = Sipp(tmp_path / "phone", scenario="ring_no_answer.xml", port=phone_port, timeout=30)
        # The PSTN agent's phone answers, hears the accept prompt and presses 1 (defect 9).
        (tmp_path / "trunk").mkdir()
        (tmp_path / "trunk" / "pcap").symlink_to("/usr/share/sip-tester")
        trunk = Sipp(tmp_path / "trunk", scenario="uas_press_1.xml", port=trunk_port, timeout=30)
        await phone.start()
        await trunk.start()
        reg = await sipp_register(vaxel, tmp_path / "reg", "1001", "secret1001", phone_port)
        assert reg.returncode == 0, reg.explain()
        stack = vaxel.stack
        # 1001 logs in first, so longest-idle offers it the call first.
        await stack.runner.apply(stack.acd.agent_login, "1001", "sip:1001", None)
        await asyncio.sleep(0.05)
        await stack.runner.apply(stack.acd.agent_login, "1002", "tel:0701001002", None)

        caller = await Sipp(
            tmp_path / "uac", builtin="uac", target=vaxel.sip_target, timeout=40
        ).run_with("-s", "100", "-d", "8000")
        assert caller.returncode == 0, caller.explain()
        phone_res, trunk_res = await phone.wait(), await trunk.wait()
        assert phone_res.returncode == 0, phone_res.explain()
        assert trunk_res.returncode == 0, trunk_res.explain()
        assert "INVITE sip:0701001002@127.0.0.1" in trunk_res.messages()
        await asyncio.sleep(0.3)
        events = await vaxel.server.calllog.events()
        steps = [
            (e.kind, e.agent) for e in events if e.kind in ("offered", "no_answer", "answered")
        ]
        assert steps == [
            ("offered", "1001"),
            ("no_answer", "1001"),
            ("offered", "1002"),
            ("answered", "1002"),
        ], steps
        kinds = [e.kind for e in events]
        assert kinds.index("agent_accept_prompt") < kinds.index("answered")
    finally:
        await vaxel.server.stop()
