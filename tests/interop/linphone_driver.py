"""One linphonec call to a real Vaxel, run inside a loopback-only network namespace.

``python -m tests.interop.linphone_driver SPEC_JSON`` (under ``netns_command``) starts a
Vaxel on the demo configuration and a linphonec, has linphonec call ``number`` (playing a
440 Hz tone, recording what it hears), hangs up after ``hangup_after`` seconds or waits for
Vaxel to hang up, and writes one JSON object to the file ``result`` (not stdout: Vaxel and
linphonec may print there): the call log as the HTTP API gives it, the SIP messages
linphonec sent and received, where the recording is, and ``error`` (a traceback) when
something went wrong. The test process asserts on that: it cannot reach a server inside
the namespace itself.
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

from .conftest import start_vaxel

TOKEN = "demo-admin-token"


def _tone(path: Path, seconds: float = 30.0) -> None:
    t = np.arange(int(8000 * seconds)) / 8000
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    sf.write(path, pcm, 8000, subtype="PCM_16")


async def _api(http: str, path: str) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as s, s.get(http + path, headers=headers) as r:
        r.raise_for_status()
        return await r.json()


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    workdir = Path(spec["workdir"])
    result: dict[str, Any] = {"error": None}
    (workdir / "vaxel").mkdir()
    vaxel = await start_vaxel(workdir / "vaxel")
    phone = Linphonec(
        workdir / "phone",
        user=spec["caller"],
        sip_port=free_port(),  # ports of this namespace, all free
        rtp_port=free_port_range(2)[0],
    )
    tone, recording = phone.dir / "tone.wav", phone.dir / "heard.wav"
    _tone(tone)
    try:
        await phone.start()
        phone.command(f"play {tone}")  # without a file linphonec sends no RTP at all
        phone.command(f"record {recording}")
        phone.command(f"call sip:{spec['number']}@127.0.0.1:{vaxel.sip_port}")
        await phone.wait_for(" connected.", 15)
        if spec["hangup_after"] is None:
            await phone.wait_for(" ended ", 20)
        else:
            await asyncio.sleep(spec["hangup_after"])
            phone.command("terminate")
            await phone.wait_for(" ended ", 10)
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
        await vaxel.server.stop()
    result["sip"] = [m.as_dict() for m in phone.sip_messages()]
    result["recording"] = str(recording) if recording.exists() else None
    return result


def main() -> None:
    spec = json.loads(sys.argv[1])
    loopback_up()
    result = asyncio.run(run(spec))
    Path(spec["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
