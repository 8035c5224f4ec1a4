"""One linphonec call to a real Vaxel, run inside a loopback-only network namespace.

``python -m tests.interop.linphone_driver SPEC_JSON`` (under ``netns_command``) starts a
Vaxel on the demo configuration and a linphonec, has linphonec call ``number`` (playing a
440 Hz tone, recording what it hears), hangs up after ``hangup_after`` seconds or waits for
Vaxel to hang up, and writes one JSON object to the file ``result`` (not stdout: Vaxel and
linphonec may print there): the call log as the HTTP API gives it, the SIP messages
linphonec sent and received, where the recording is, and ``error`` (a traceback) when
something went wrong. With ``agent`` set, a second linphonec is agent 1001's phone first
(registered with the demo password, auto-answering, the agent logged in through the API):
the caller's call is then bridged to it, and ``hangup_by`` "agent" has that phone hang up
instead of the caller; its SIP messages are ``agent_sip``. The test process asserts on
all that: it cannot reach a server inside the namespace itself.
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import soundfile as sf

from tests.peers.linphone import Linphonec, loopback_up
from tests.support import free_port, free_port_range

from .conftest import RunningVaxel, start_vaxel

TOKEN = "demo-admin-token"
AGENT_PASSWORD = "secret1001"  # config/demo.toml


def _tone(path: Path, seconds: float = 30.0) -> None:
    t = np.arange(int(8000 * seconds)) / 8000
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    sf.write(path, pcm, 8000, subtype="PCM_16")


async def _api(http: str, path: str, post: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    method = "GET" if post is None else "POST"
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, http + path, headers=headers, json=post) as r,
    ):
        r.raise_for_status()
        return await r.json()


def _phone(workdir: Path, user: str) -> Linphonec:
    # Ports of this namespace, all free.
    return Linphonec(workdir, user=user, sip_port=free_port(), rtp_port=free_port_range(2)[0])


async def _agent_phone(phone: Linphonec, vaxel: RunningVaxel, tone: Path) -> None:
    """``phone`` as agent 1001's phone: registered, auto-answering, the agent logged in."""
    await phone.start()
    phone.command("autoanswer enable")
    phone.command(f"play {tone}")  # it sends RTP (and so RTCP/XR) only with a file to play
    await phone.register(
        "sip:1001@127.0.0.1", f"sip:127.0.0.1:{vaxel.sip_port}", AGENT_PASSWORD, 10
    )
    await _api(vaxel.http, "/api/agents/1001/login", post={"device": "sip"})


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    workdir = Path(spec["workdir"])
    result: dict[str, Any] = {"error": None}
    (workdir / "vaxel").mkdir()
    vaxel = await start_vaxel(workdir / "vaxel")
    phone = _phone(workdir / "phone", spec["caller"])
    agent = _phone(workdir / "agent", "1001") if spec.get("agent") else None
    tone, recording = phone.dir / "tone.wav", phone.dir / "heard.wav"
    _tone(tone)
    try:
        if agent is not None:
            await _agent_phone(agent, vaxel, tone)
        await phone.start()
        phone.command(f"play {tone}")  # without a file linphonec sends no RTP at all
        phone.command(f"record {recording}")
        phone.command(f"call sip:{spec['number']}@127.0.0.1:{vaxel.sip_port}")
        await phone.wait_for(" connected.", 15)
        if agent is not None:
            await agent.wait_for(" connected.", 15)  # Vaxel rang it, it answered by itself
        hanging_up = agent if spec.get("hangup_by") == "agent" else phone
        assert hanging_up is not None
        if spec["hangup_after"] is None:
            await phone.wait_for(" ended ", 20)
        else:
            await asyncio.sleep(spec["hangup_after"])
            hanging_up.command("terminate")
            await phone.wait_for(" ended ", 10)
        if agent is not None:
            await agent.wait_for(" ended ", 10)
        await asyncio.sleep(0.5)  # the BYE transaction and the call log's last write
        result["calls"] = (await _api(vaxel.http, "/api/calllog/calls"))["calls"]
        result["events"] = (await _api(vaxel.http, "/api/calllog/events"))["events"]
        if spec.get("prompt"):
            lang = vaxel.stack.directory.language_for(spec["number"], None)
            result["prompt"] = str(vaxel.stack.prompts.resolve(spec["prompt"], lang).path)
    except Exception:
        result["error"] = traceback.format_exc()
    finally:
        result["transcript"] = await phone.stop()
        if agent is not None:
            result["agent_transcript"] = await agent.stop()
        await vaxel.server.stop()
    result["sip"] = [m.as_dict() for m in phone.sip_messages()]
    if agent is not None:
        result["agent_sip"] = [m.as_dict() for m in agent.sip_messages()]
    result["recording"] = str(recording) if recording.exists() else None
    return result


def main() -> None:
    spec = json.loads(sys.argv[1])
    loopback_up()
    result = asyncio.run(run(spec))
    Path(spec["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
