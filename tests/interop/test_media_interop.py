"""The media path against real peers over UDP on 127.0.0.1, through a real Vaxel.

- A prompt arrives intact at a softphone: baresip calls the remote-login number with a caller
  id nobody has, Vaxel plays the fixed refusal prompt and hangs up. baresip's ``sndfile``
  module writes what it decoded; the prompt as Vaxel sends it (20 ms PCMU frames, decoded)
  must match it with a normalized cross-correlation peak above ``INTACT`` and without any
  20 ms frame of digital silence where the prompt has sound (a lost or late packet that the
  phone's jitter buffer filled with nothing).
- RFC 4733 digits keyed by SIPp (replaying the telephone-event captures shipped with it) are
  recognized: a customer-number step collects them and logs the number.

The bridge (both directions, no added loss, timestamps monotonic across a prompt-to-bridge
switch) and recording of known audio are covered over real UDP in tests/media/test_engine_udp.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from media import g711
from media.prompts import FRAME_SAMPLES, encode_frames, load_pcm
from tests.peers.baresip import Baresip
from tests.peers.sipp import Sipp
from tests.support import require_tool

from .conftest import start_vaxel

RATE = 8000
# Normalized cross-correlation of the whole prompt with what the phone decoded: 1.0 is a
# sample-exact copy (what arrives over loopback: 0.99999); a gap that shifts the rest, or a
# time-stretch, drops it far below. Single lost frames barely move it: the silent-frame check
# below catches those.
INTACT = 0.9
UNKNOWN_CALLER = "0709999999"


def as_sent(path: Path) -> npt.NDArray[np.float64]:
    """A prompt as a caller gets it: Vaxel's 20 ms PCMU frames, decoded the same way."""
    frames = encode_frames(load_pcm(path), "PCMU")
    return g711.decode(b"".join(frames), "PCMU").astype(np.float64)


def ncc_peak(
    heard: npt.NDArray[np.float64], template: npt.NDArray[np.float64]
) -> tuple[float, int]:
    """(peak normalized cross-correlation, offset in samples) of ``template`` in ``heard``."""
    n, m = len(heard), len(template)
    if n < m:
        return 0.0, 0
    size = 1 << (n + m).bit_length()
    corr = np.fft.irfft(np.fft.rfft(heard, size) * np.conj(np.fft.rfft(template, size)), size)
    energy = np.concatenate(([0.0], np.cumsum(heard**2)))
    window = energy[m:] - energy[: n - m + 1]
    scores = corr[: n - m + 1] / (np.sqrt(np.maximum(window, 1e-9)) * np.linalg.norm(template))
    best = int(np.argmax(scores))
    return float(scores[best]), best


def silent_frames_in_sound(
    heard: npt.NDArray[np.float64], template: npt.NDArray[np.float64]
) -> list[int]:
    """Indices of 20 ms frames that are digital silence in ``heard`` but not in ``template``
    (both aligned): the gaps a listener would hear as drop-outs."""
    frames = len(template) // FRAME_SAMPLES
    h = heard[: frames * FRAME_SAMPLES].reshape(frames, FRAME_SAMPLES)
    t = template[: frames * FRAME_SAMPLES].reshape(frames, FRAME_SAMPLES)
    # mu-law's smallest non-zero steps decode to +-8; a frame under that is no signal at all.
    return [i for i in range(frames) if np.abs(h[i]).max() < 8 and np.abs(t[i]).max() >= 64]


async def test_prompt_reaches_a_softphone_intact(tmp_path: Path) -> None:
    vaxel = await start_vaxel(tmp_path)
    phone = Baresip(
        tmp_path / "phone",
        f"<sip:{UNKNOWN_CALLER}@127.0.0.1:{{listen}}>;regint=0;answermode=manual;audio_codecs=PCMU",
    )
    output = ""
    try:
        await phone.start()
        phone.command("dial", f"sip:190@127.0.0.1:{vaxel.sip_port}")
        await phone.wait_for("CALL_ESTABLISHED", 15)
        await phone.wait_for("CALL_CLOSED", 20)  # Vaxel hangs up after the prompt
        await asyncio.sleep(0.5)
        events = await vaxel.server.calllog.events()
    finally:
        output = await phone.stop()
        await vaxel.server.stop()
    (refused,) = [e for e in events if e.kind == "remote_login"]
    assert refused.data["action"] == "refused", refused.data

    decoded = list((tmp_path / "phone" / "snd").glob("*-dec.wav"))
    assert len(decoded) == 1, f"baresip's decoded audio: {decoded}\n{output[-3000:]}"
    heard, rate = sf.read(str(decoded[0]), dtype="int16")
    assert rate == RATE
    heard = heard.astype(np.float64)
    lang = vaxel.stack.directory.language_for("190", None)
    template = as_sent(vaxel.stack.prompts.resolve("remote-login-refused", lang).path)

    score, at = ncc_peak(heard, template)
    assert score > INTACT, f"prompt not intact: peak correlation {score:.3f} (need > {INTACT})"
    gaps = silent_frames_in_sound(heard[at : at + len(template)], template)
    assert not gaps, f"drop-outs at 20 ms frames {gaps} of {len(template) // FRAME_SAMPLES}"


DIGITS_FLOW = """
[flows.digits]
steps = ["customer-number", "queue"]

[flows.digits.customer-number]
prompt = "welcome"
timeout = 15
digit_timeout = 5
"""


async def test_rfc4733_digits_from_sipp_are_recognized(tmp_path: Path) -> None:
    vaxel = await start_vaxel(
        tmp_path,
        replace={'"100" = { queue = "support" }': '"100" = { queue = "support", flow = "digits" }'},
        extra=DIGITS_FLOW,
    )
    captures = Path(require_tool("sipp")).resolve().parents[1] / "share" / "sip-tester"
    assert (captures / "dtmf_2833_4.pcap").is_file(), f"no RFC 4733 captures in {captures}"
    workdir = tmp_path / "sipp"
    workdir.mkdir()
    (workdir / "pcap").symlink_to(captures)
    try:
        res = await Sipp(
            workdir, scenario="dtmf_pcap.xml", target=vaxel.sip_target, timeout=30
        ).run_with("-s", "100", "-key", "caller", UNKNOWN_CALLER)
        await asyncio.sleep(0.5)
        events = await vaxel.server.calllog.events()
    finally:
        await vaxel.server.stop()
    assert res.returncode == 0, res.explain()
    numbers = [e.data for e in events if e.kind == "customer_number"]
    assert numbers and numbers[0]["digits"] == "427", (numbers, [e.kind for e in events])
