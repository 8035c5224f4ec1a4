"""A real caller waiting in the queue hears its position announced between hold music.

Two callers wait on 100 with nobody logged in: SIPp first (position 1), then baresip
(position 2). baresip writes what it decoded to a WAV file; the test finds in it, by
normalized cross-correlation with the prompts exactly as Vaxel encodes them, the hold
music, then "you are number" "two" "in the queue", then the hold music again from its start.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from media import g711
from media.prompts import encode_frames, load_pcm
from tests.peers.baresip import Baresip
from tests.peers.sipp import Sipp

from .conftest import RunningVaxel, start_vaxel

PROMPTS = Path(__file__).resolve().parents[2] / "prompts" / "standard" / "sv"
RATE = 8000
CALLER = "0701112233"


def as_sent(name: str) -> npt.NDArray[np.float64]:
    """A standard prompt as the caller gets it: 20 ms PCMU frames, decoded."""
    frames = encode_frames(load_pcm(PROMPTS / f"{name}.wav"), "PCMU")
    return g711.decode(b"".join(frames), "PCMU").astype(np.float64)


def ncc(signal: npt.NDArray[np.float64], template: npt.NDArray[np.float64]) -> np.ndarray:
    """Normalized cross-correlation of ``template`` at every offset of ``signal`` (1 = same)."""
    n, m = len(signal), len(template)
    size = 1 << (n + m).bit_length()
    corr = np.fft.irfft(np.fft.rfft(signal, size) * np.conj(np.fft.rfft(template, size)), size)
    energy = np.concatenate(([0.0], np.cumsum(signal**2)))
    window = energy[m:] - energy[: n - m + 1]
    return corr[: n - m + 1] / (np.sqrt(np.maximum(window, 1e-9)) * np.linalg.norm(template))


def find(signal: npt.NDArray[np.float64], name: str, lo: int = 0) -> tuple[float, int]:
    """First clear match (score > 0.9, else the best) of prompt ``name`` from sample ``lo``:
    (score, sample offset)."""
    template = as_sent(name)
    scores = ncc(signal[lo:], template)
    above = np.flatnonzero(scores > 0.9)
    start = int(above[0]) if len(above) else 0
    end = start + len(template) if len(above) else len(scores)
    i = start + int(np.argmax(scores[start:end]))
    return float(scores[i]), lo + i


async def _wait_announced(vaxel: RunningVaxel, a_number: str, count: int, timeout: float) -> list:
    events: list = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                events = await vaxel.server.calllog.events()
                hits = [e for e in events if e.kind == "announced" and e.a_number == a_number]
                if len(hits) >= count:
                    return hits
                await asyncio.sleep(0.2)
    except TimeoutError:
        steps = [(e.kind, e.a_number, e.data) for e in events]
        raise AssertionError(f"{count} announcements to {a_number} not logged: {steps}") from None


async def test_waiting_caller_hears_its_position_between_hold_music(tmp_path: Path) -> None:
    vaxel = await start_vaxel(tmp_path, replace={"announce_interval = 30": "announce_interval = 5"})
    first = Sipp(
        tmp_path / "first", scenario="call_until_bye.xml", target=vaxel.sip_target, timeout=90
    )
    first.cmd += ["-s", "100", "-key", "caller", "0709999999"]
    phone = Baresip(
        tmp_path / "baresip",
        f"<sip:{CALLER}@127.0.0.1:{{listen}}>;regint=0;answermode=manual;audio_codecs=PCMU",
    )
    # baresip hangs up when its audio source file ends: give it a minute of quiet tone.
    t = np.arange(60 * RATE) / RATE
    sf.write(tmp_path / "baresip" / "source.wav", 0.05 * np.sin(2 * np.pi * 440 * t), RATE,
             subtype="PCM_16")  # fmt: skip
    output = ""
    try:
        await first.start()
        async with asyncio.timeout(30):  # the SIPp caller takes position 1
            while not vaxel.stack.acd.waiting():
                await asyncio.sleep(0.2)
        await phone.start()
        phone.command("dial", f"sip:100@127.0.0.1:{vaxel.sip_port}")
        await phone.wait_for("CALL_ESTABLISHED", 20)
        # Two announcements: between them the hold music plays again from its start.
        (announced, *_) = await _wait_announced(vaxel, CALLER, 2, 60)
        await asyncio.sleep(1)
        phone.command("hangup")
        await phone.wait_for("CALL_CLOSED", 10)
        events = await vaxel.server.calllog.events()
    finally:
        output = await phone.stop()
        await vaxel.server.stop()  # hangs up the SIPp caller
    first_res = await first.wait()
    assert first_res.returncode == 0, first_res.explain()

    assert announced.data["position"] == 2, announced
    assert announced.queue == "support" and announced.b_number == "100"
    first_pos = [
        e.data["position"] for e in events if e.kind == "announced" and e.a_number != CALLER
    ]
    assert first_pos and first_pos[0] == 1, first_pos

    decoded = list((tmp_path / "baresip" / "snd").glob("*-dec.wav"))
    assert len(decoded) == 1, f"baresip's decoded audio: {decoded}\n{output}"
    dec = decoded[0]
    heard, rate = sf.read(str(dec), dtype="int16")
    assert rate == RATE
    heard = heard.astype(np.float64)

    you, at_you = find(heard, "you-are-number")
    two, at_two = find(heard, "digit-2", at_you)
    queue, at_queue = find(heard, "in-queue", at_two)
    assert min(you, two, queue) > 0.9, (you, two, queue)
    # Back to back, as Vaxel queues the frames (a few frames of slack for the jitter buffer).
    slack = 0.1 * RATE
    assert abs(at_two - at_you - len(as_sent("you-are-number"))) < slack
    assert abs(at_queue - at_two - len(as_sent("digit-2"))) < slack
    one, _ = find(heard[at_two : at_queue + 1], "digit-1")
    assert one < two - 0.2, (one, two)  # it says two, not one

    music = as_sent("hold-music")[: int(1.5 * RATE)]
    before = ncc(heard[:at_you], music)
    end = at_queue + len(as_sent("in-queue"))
    after = ncc(heard[end : end + 3 * RATE], music)
    assert before.max() > 0.9 and after.max() > 0.9, (before.max(), after.max())
