"""baresip, a real softphone, registers to Vaxel as agent 1001 and places a call."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.peers.baresip import Baresip

from .conftest import RunningVaxel


async def test_baresip_registers_as_an_agent_and_places_a_call(
    vaxel: RunningVaxel, tmp_path: Path
) -> None:
    account = (
        f"<sip:1001@127.0.0.1:{vaxel.sip_port}>;auth_pass=secret1001;regint=600;"
        "answermode=manual;audio_codecs=PCMU"
    )
    phone = Baresip(tmp_path / "baresip", account)
    await phone.start()
    output = ""
    try:
        # baresip registers at start, often before its control socket is connected.
        for _ in range(100):
            if vaxel.stack.registrar.bindings("1001", time.time()):
                break
            await asyncio.sleep(0.1)
        (binding,) = vaxel.stack.registrar.bindings("1001", time.time())
        assert f"127.0.0.1:{phone.listen}" in binding.contact
        phone.command("dial", f"sip:100@127.0.0.1:{vaxel.sip_port}")
        await phone.wait_for("CALL_ESTABLISHED", 10)
        await asyncio.sleep(2)
        phone.command("hangup")
        await phone.wait_for("CALL_CLOSED", 10)
    finally:
        output = await phone.stop()
    await asyncio.sleep(0.3)
    events = await vaxel.server.calllog.events()
    hangup = next((e for e in events if e.kind == "hangup"), None)
    assert hangup is not None, output
    assert hangup.a_number == "1001" and hangup.b_number == "100"
    assert hangup.data["rtp"]["caller"]["received"] > 50, hangup.data  # baresip's audio arrived
    assert hangup.data["rtp"]["caller"]["sent"] > 50, hangup.data
