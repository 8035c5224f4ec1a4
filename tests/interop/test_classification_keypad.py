"""Classification by keypad (SPEC S4) with real peers: a PSTN agent (a SIPp UAS behind the
trunk) takes a SIPp caller with the accept key, the caller hangs up, the agent hears the
classification question and presses 2 (RFC 4733): the call is classified with the
profile's second code and Vaxel hangs up the agent's phone."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.peers.sipp import Sipp
from tests.support import free_port

from .conftest import start_vaxel

PROFILE = """
[classification_profiles.support]
codes = ["order", "question", "complaint"]
keypad_timeout = 10
"""


async def test_a_pstn_agent_keys_the_classification_after_the_caller_hangs_up(
    tmp_path: Path,
) -> None:
    trunk_port = free_port()
    vaxel = await start_vaxel(
        tmp_path,
        replace={
            "port = 5080": f"port = {trunk_port}",
            'voicemail_email = "support@localhost"': (
                'voicemail_email = "support@localhost"\nclassification_profile = "support"'
            ),
        },
        extra=PROFILE,
    )
    try:
        (tmp_path / "trunk").mkdir()
        (tmp_path / "trunk" / "pcap").symlink_to("/usr/share/sip-tester")
        phone = Sipp(tmp_path / "trunk", scenario="uas_press_1_classify_2.xml", port=trunk_port,
                     timeout=40)  # fmt: skip
        await phone.start()
        stack = vaxel.stack
        await stack.runner.apply(stack.acd.agent_login, "1002", "tel:0701001002", None)
        caller = await Sipp(
            tmp_path / "uac", builtin="uac", target=vaxel.sip_target, timeout=40
        ).run_with("-s", "100", "-d", "8000")
        assert caller.returncode == 0, caller.explain()
        phone_res = await phone.wait()  # it ends on Vaxel's BYE after the key
        assert phone_res.returncode == 0, phone_res.explain()
        await asyncio.sleep(0.3)
        events = await vaxel.server.calllog.events()
        (classified,) = [e for e in events if e.kind == "classified"]
        assert classified.agent == "1002" and classified.data == {"code": "question"}, classified
        kinds = [e.kind for e in events if e.call_id == classified.call_id]
        assert "classification_missing" not in kinds, kinds
        assert kinds.index("hangup") < kinds.index("classified"), kinds  # after the caller left
        # The code ended the wrap-up's wait for it: ready again once wrap_up (5 s) passed.
        async with asyncio.timeout(10):
            while stack.acd.agent_view("1002").state.value != "ready":
                await asyncio.sleep(0.1)
    finally:
        await vaxel.server.stop()
