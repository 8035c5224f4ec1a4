"""Transfers with real phones (SPEC S13): baresip as the agent passes a SIPp caller on by
REFER (RFC 3515) to queue 101, where a second baresip agent answers; a transfer to a busy
number (a SIPp trunk answering 486) brings the caller back to the agent. RTP is checked on
the new pair: what the second agent's phone decoded holds the caller's tone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.peers.baresip import Baresip
from tests.peers.linphone import netns_command, require_netns
from tests.peers.sipp import Sipp
from tests.support import free_port, require_tool

from .conftest import RunningVaxel, start_vaxel

pytestmark = pytest.mark.interop
ROOT = Path(__file__).resolve().parents[2]
CALLER_TONE = 1000.0  # the SIPp caller streams this; the agents send 440 / 660 Hz
# baresip hangs up when its 10 s source file ends: calls here stay well under that.


def agent_phone(vaxel: RunningVaxel, workdir: Path, agent: str, tone: float) -> Baresip:
    account = (
        f"<sip:{agent}@127.0.0.1:{vaxel.sip_port}>;auth_pass=secret{agent};regint=600;"
        "answermode=auto;audio_codecs=PCMU"
    )
    return Baresip(workdir, account, tone_hz=tone)


async def registered(vaxel: RunningVaxel, agent: str) -> None:
    for _ in range(100):
        if vaxel.stack.registrar.bindings(agent, time.time()):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{agent}'s baresip did not register")


def caller(vaxel: RunningVaxel, workdir: Path, stay_ms: int) -> Sipp:
    workdir.mkdir(parents=True, exist_ok=True)
    t = np.arange(8000 * 4) / 8000
    sf.write(workdir / "tone.wav", 0.4 * np.sin(2 * np.pi * CALLER_TONE * t), 8000,
             subtype="ULAW")  # fmt: skip
    sipp = Sipp(workdir, scenario="caller_streams.xml", target=vaxel.sip_target, timeout=60)
    sipp.cmd += ["-s", "100", "-d", str(stay_ms)]
    return sipp


def tone_share(path: Path, freq: float, start: float = 0.0, end: float | None = None) -> float:
    """Share of the signal's energy within 30 Hz of ``freq`` (seconds ``start``-``end``)."""
    audio, rate = sf.read(str(path), dtype="float64")
    part = audio[int(start * rate) : None if end is None else int(end * rate)]
    if len(part) < rate // 2:
        return 0.0  # under half a second: too little to tell
    spectrum = np.abs(np.fft.rfft(part)) ** 2
    freqs = np.fft.rfftfreq(len(part), 1 / rate)
    total = float(spectrum.sum()) or 1.0
    return float(spectrum[np.abs(freqs - freq) < 30].sum()) / total


def decoded(phone: Baresip) -> list[Path]:
    return sorted((phone.dir / "snd").glob("*-dec.wav"))


async def test_baresip_agent_transfers_a_sipp_caller_to_queue_101_where_another_agent_answers(
    tmp_path: Path,
) -> None:
    vaxel = await start_vaxel(tmp_path)
    a = agent_phone(vaxel, tmp_path / "a", "1001", 440.0)
    b = agent_phone(vaxel, tmp_path / "b", "1003", 660.0)
    out_b = ""
    try:
        await a.start()
        await b.start()
        await registered(vaxel, "1001")
        await registered(vaxel, "1003")
        stack = vaxel.stack
        await stack.runner.apply(stack.acd.agent_login, "1001", "sip:1001", ["support"])
        await stack.runner.apply(stack.acd.agent_login, "1003", "sip:1003", ["sales"])
        sipp = caller(vaxel, tmp_path / "caller", 8000)
        await sipp.start()
        await a.wait_for("CALL_ESTABLISHED", 20)
        await asyncio.sleep(2)
        a.command("transfer", f"sip:101@127.0.0.1:{vaxel.sip_port}")
        await b.wait_for("CALL_ESTABLISHED", 20)
        res = await sipp.wait()
        await asyncio.sleep(0.5)
        events = await vaxel.server.calllog.events()
        assert res.returncode == 0, "\n".join(
            [f"{e.kind} {e.agent} {e.queue} {e.data}" for e in events] + [res.explain()[-2000:]]
        )
    finally:
        await a.stop()
        out_b = await b.stop()
        await vaxel.server.stop()
    (call_id,) = {e.call_id for e in events if e.kind == "transfer_requested"}
    steps = [(e.kind, e.agent, e.queue) for e in events if e.call_id == call_id]
    kinds = [s[0] for s in steps]
    assert kinds.count("arrived") == 2 and "transfer_completed" in kinds, steps
    answered = [(agent, queue) for kind, agent, queue in steps if kind == "answered"]
    assert answered == [("1001", "support"), ("1003", "sales")], steps
    requested = next(e for e in events if e.kind == "transfer_requested")
    assert requested.data["via"] == "refer" and requested.data["to"] == "101", requested.data
    hangup = next(e for e in events if e.call_id == call_id and e.kind == "hangup")
    rtp = hangup.data["rtp"]
    assert rtp["agent"]["received"] > 100 and rtp["agent"]["sent"] > 100, rtp  # with 1003
    # 1003's phone decoded the caller's tone: the new pair is bridged.
    dec = decoded(b)
    assert dec, f"1003's baresip wrote no *-dec.wav\n{out_b[-3000:]}"
    assert tone_share(dec[-1], CALLER_TONE, 1.0) > 0.3, out_b[-2000:]


async def test_a_blind_transfer_to_a_busy_number_brings_the_caller_back_to_the_agent(
    tmp_path: Path,
) -> None:
    trunk_port = free_port()
    vaxel = await start_vaxel(tmp_path, replace={"port = 5080": f"port = {trunk_port}"})
    a = agent_phone(vaxel, tmp_path / "a", "1001", 440.0)
    trunk = Sipp(tmp_path / "trunk", scenario="uas_busy.xml", port=trunk_port, timeout=40)
    out_a = ""
    try:
        await trunk.start()
        await a.start()
        await registered(vaxel, "1001")
        stack = vaxel.stack
        await stack.runner.apply(stack.acd.agent_login, "1001", "sip:1001", ["support"])
        sipp = caller(vaxel, tmp_path / "caller", 8000)
        await sipp.start()
        await a.wait_for("CALL_ESTABLISHED", 20)
        await asyncio.sleep(2)
        a.command("transfer", f"sip:0812345678@127.0.0.1:{vaxel.sip_port}")
        res = await sipp.wait()
        trunk_res = await trunk.wait()
        await asyncio.sleep(0.5)
        events = await vaxel.server.calllog.events()
    finally:
        out_a = await a.stop()
        await vaxel.server.stop()
    assert res.returncode == 0, "\n".join(
        [f"{e.kind} {e.agent} {e.queue} {e.data}" for e in events]
        + [res.explain()[-2000:], out_a[-3000:]]
    )
    assert "INVITE sip:0812345678@127.0.0.1" in trunk_res.messages(), trunk_res.explain()
    (call_id,) = {e.call_id for e in events if e.kind == "transfer_requested"}
    steps = [e for e in events if e.call_id == call_id]
    kinds = [e.kind for e in steps]
    assert "transfer_failed" in kinds and "transfer_returned" in kinds, kinds
    failed = next(e for e in steps if e.kind == "transfer_failed")
    assert failed.data["status"] == 486, failed.data
    hangup = steps[-1]
    assert hangup.kind == "hangup" and hangup.agent == "1001", hangup
    assert hangup.data["ended_by"] == "caller", hangup.data
    # Back with the agent: the caller's tone reaches 1001's phone again after the failure.
    returned = next(e for e in steps if e.kind == "transfer_returned").at.timestamp()
    answered = next(e for e in steps if e.kind == "answered").at.timestamp()
    dec = decoded(a)
    assert dec, f"1001's baresip wrote no *-dec.wav\n{out_a[-3000:]}"
    if len(dec) > 1:  # baresip 1.0 hung up on the failed REFER: Vaxel rang it again
        assert "transfer failed" in out_a, out_a[-2000:]
        share = tone_share(dec[-1], CALLER_TONE, 0.5)
    else:  # the phone kept the call
        share = tone_share(dec[0], CALLER_TONE, returned - answered + 1.0)
    assert share > 0.3, (dec, out_a[-2000:])


async def test_attended_transfer_with_replaces_from_linphone_to_a_baresip_agent(
    tmp_path: Path,
) -> None:
    require_tool("linphonec")
    require_netns()
    result_file = tmp_path / "result.json"
    spec = {"workdir": str(tmp_path), "result": str(result_file), "stay_ms": 12000}
    proc = await asyncio.create_subprocess_exec(
        *netns_command(sys.executable, "-m", "tests.interop.transfer_driver", json.dumps(spec)),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # one process group: the driver, Vaxel and the phones
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 90)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, _ = await proc.communicate()
    output = out.decode(errors="replace")[-4000:]
    assert proc.returncode == 0 and result_file.exists(), f"driver failed:\n{output}"
    r = json.loads(result_file.read_text())
    events = r.get("events") or []
    story = "\n".join(f"{e['kind']} {e.get('agent')} {e.get('data')}" for e in events)
    context = (
        f"{r['error']}\n{story}\n--- 1001's linphonec ---\n{r['a_transcript'][-3000:]}\n"
        f"--- 1003's baresip ---\n{r['b_output']}\n{r.get('sipp')}\n{output}"
    )
    assert r["error"] is None and r["sipp"]["returncode"] == 0, context
    refers = [m for m in r["a_sip"] if m["sent"] and m["start"].startswith("REFER ")]
    assert refers and "Replaces=" in refers[0]["head"], context  # RFC 3891, from liblinphone
    (call_id,) = {e["call_id"] for e in events if e["kind"] == "consult_started"}
    kinds = [e["kind"] for e in events if e["call_id"] == call_id]
    for step in ("hold", "consult_started", "consult_connected", "consult_ended",
                 "transfer_completed"):  # fmt: skip
        assert step in kinds, context
    done = next(e for e in events if e["kind"] == "transfer_completed")
    assert done["data"]["attended"] is True and done["data"]["to_agent"] == "1003", context
    hangup = next(e for e in events if e["call_id"] == call_id and e["kind"] == "hangup")
    assert hangup["agent"] == "1003", context
    rtp = hangup["data"]["rtp"]
    assert rtp["agent"]["received"] > 100 and rtp["agent"]["sent"] > 100, context
    # The caller's tone reached 1003's phone after the transfer: the new pair is bridged.
    dec = Path(r["b_decoded"][-1])
    consulted = next(e for e in events if e["kind"] == "consult_connected")
    from_start = _seconds(done["at"]) - _seconds(consulted["at"]) + 1.0
    assert tone_share(dec, CALLER_TONE, from_start) > 0.3, context
    assert tone_share(dec, CALLER_TONE, 0.0, from_start - 1.5) < 0.1, context  # not before


def _seconds(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()
