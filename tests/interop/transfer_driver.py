"""An attended transfer with real phones, run inside a loopback-only network namespace.

``python -m tests.interop.transfer_driver SPEC_JSON`` (under ``netns_command``: linphonec
needs it, see tests/peers/linphone.py) starts a Vaxel on the demo configuration, a
linphonec as agent 1001's phone (registered, auto-answering) and a baresip as agent 1003's
(auto-answering), and has a SIPp caller call queue 100 streaming a 1000 Hz tone. When
1001's linphonec has the caller it holds them and dials 1003 through Vaxel (a consult);
once 1003 answered it transfers the first call to the second (``transfer 1 --to-call 2``:
REFER with Replaces, RFC 3891). The result JSON holds the call log (HTTP API), 1001's SIP
messages, the SIPp result and where 1003's phone wrote what it decoded; the test process
asserts on it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import soundfile as sf

from tests.peers.linphone import Linphonec, loopback_up
from tests.support import free_port, free_port_range

from .conftest import start_vaxel
from .test_transfer import agent_phone, caller, registered

TOKEN = "demo-admin-token"


async def _api(http: str, path: str, post: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    method = "GET" if post is None else "POST"
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, http + path, headers=headers, json=post) as r,
    ):
        r.raise_for_status()
        return await r.json()


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    workdir = Path(spec["workdir"])
    result: dict[str, Any] = {"error": None}
    (workdir / "vaxel").mkdir()
    vaxel = await start_vaxel(workdir / "vaxel")
    a = Linphonec(workdir / "a", user="1001", sip_port=free_port(),
                  rtp_port=free_port_range(2)[0])  # fmt: skip
    b = agent_phone(vaxel, workdir / "b", "1003", 660.0)
    tone = a.dir / "tone.wav"
    t = np.arange(8000 * 30) / 8000
    sf.write(tone, (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16), 8000,
             subtype="PCM_16")  # fmt: skip
    sipp = None
    try:
        await b.start()
        await registered(vaxel, "1003")
        await a.start()
        a.command("autoanswer enable")
        a.command(f"play {tone}")
        await a.register("sip:1001@127.0.0.1", f"sip:127.0.0.1:{vaxel.sip_port}",
                         "secret1001", 10)  # fmt: skip
        stack = vaxel.stack
        await stack.runner.apply(stack.acd.agent_login, "1001", "sip:1001", ["support"])
        await stack.runner.apply(stack.acd.agent_login, "1003", "sip:1003", ["sales"])
        sipp = caller(vaxel, workdir / "caller", spec["stay_ms"])
        await sipp.start()
        await a.wait_for(" connected.", 20)
        await asyncio.sleep(1.5)
        a.command("pause")  # hold the caller (a re-INVITE with a=sendonly)
        await a.wait_for("paused", 10)
        a.command(f"call sip:1003@127.0.0.1:{vaxel.sip_port}")  # the consult call
        await b.wait_for("CALL_ESTABLISHED", 20)
        await asyncio.sleep(2.0)  # 1001 and 1003 talk
        result["before"] = _snapshot(vaxel)
        result["transferred_at"] = time.time()
        a.command("transfer 1 --to-call 2")
        res = await sipp.wait()
        result["sipp"] = {"returncode": res.returncode, "explain": res.explain()[-3000:]}
        await asyncio.sleep(0.5)
        result["events"] = (await _api(vaxel.http, "/api/calllog/events"))["events"]
        result["calls"] = (await _api(vaxel.http, "/api/calllog/calls"))["calls"]
    except Exception:
        result["error"] = traceback.format_exc()
    finally:
        if sipp is not None:
            await sipp.stop()
        result["a_transcript"] = await a.stop()
        result["b_output"] = (await b.stop())[-3000:]
        await vaxel.server.stop()
    result["a_sip"] = [m.as_dict() for m in a.sip_messages()]
    result["b_decoded"] = [str(p) for p in sorted((b.dir / "snd").glob("*-dec.wav"))]
    return result


def _snapshot(vaxel: Any) -> dict[str, Any]:
    calls = vaxel.stack.controller.core.calls
    return {k: {"phase": str(c.phase), "held": c.held, "transfer": c.transfer is not None}
            for k, c in calls.items()}  # fmt: skip


def main() -> None:
    spec = json.loads(sys.argv[1])
    loopback_up()
    result = asyncio.run(run(spec))
    Path(spec["result"]).write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
