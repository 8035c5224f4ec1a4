import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from media import g711
from media.dtmf_detect import DtmfDetector, dbm0_to_amplitude, dtmf_tone

KEYS = "0123456789*#ABCD"
SPEECH_TEXT = (
    "Thank you for calling. All our agents are busy at the moment. Your call is important to "
    "us, please hold the line and you will be connected to the next available agent. "
    "You are number three in the queue, the estimated waiting time is four minutes. "
    "Press one for sales, two for support, or stay on the line. "
)


def detect(pcm: np.ndarray, **kw) -> list[str]:
    det = DtmfDetector(**kw)
    out = []
    for i in range(0, len(pcm), 160):  # fed frame by frame, as from RTP
        out += det.feed(pcm[i : i + 160])
    return [e.digit for e in out + det.flush()]


def with_noise(pcm: np.ndarray, noise_dbm0: float, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sigma = dbm0_to_amplitude(noise_dbm0) / np.sqrt(2)  # same power as a sine at that level
    noisy = pcm.astype(np.float64) + rng.normal(0, sigma, len(pcm))
    return np.clip(noisy, -32768, 32767).astype(np.int16)


def test_all_digits_at_minus_20_dbm0_with_noise_through_g711_are_recognized():
    gap = np.zeros(400, dtype=np.int16)
    pcm = np.concatenate([x for k in KEYS for x in (dtmf_tone(k, 0.06, level_dbm0=-20), gap)])
    noisy = with_noise(pcm, -45)  # 25 dB below each tone
    for codec in g711.CODECS:
        heard = g711.decode(g711.encode(noisy, codec), codec)
        assert "".join(detect(heard)) == KEYS


def test_tone_shorter_than_minimum_duration_is_ignored():
    pcm = np.concatenate([np.zeros(200, np.int16), dtmf_tone("5", 0.025), np.zeros(800, np.int16)])
    assert detect(pcm) == []
    assert detect(np.concatenate([dtmf_tone("5", 0.05), np.zeros(800, np.int16)])) == ["5"]


def test_excess_twist_is_rejected():
    t = np.arange(800) / 8000
    row = dbm0_to_amplitude(-10) * np.sin(2 * np.pi * 697 * t)
    col = dbm0_to_amplitude(-25) * np.sin(2 * np.pi * 1209 * t)  # 15 dB weaker
    assert detect((row + col).astype(np.int16)) == []


def test_long_press_is_one_digit():
    assert detect(np.concatenate([dtmf_tone("8", 1.0), np.zeros(400, np.int16)])) == ["8"]


def speech_minute(tmp: Path) -> tuple[np.ndarray, str]:
    """A minute of speech: espeak-ng if installed, else a formant-like synthetic voice."""
    espeak = shutil.which("espeak-ng")
    if espeak:
        wav = tmp / "speech.wav"
        subprocess.run(
            [espeak, "-v", "en", "-s", "160", "-w", str(wav), SPEECH_TEXT * 6],
            check=True,
            capture_output=True,
            timeout=30,
        )
        x, rate = sf.read(str(wav), dtype="float64")
        x = resample_poly(x, 8000 // 50, rate // 50) if rate % 50 == 0 else x
        source = "espeak-ng"
    else:
        rng = np.random.default_rng(7)
        t = np.arange(60 * 8000) / 8000
        f0 = (
            120 + 40 * np.sin(2 * np.pi * 0.7 * t) + 15 * rng.standard_normal(len(t)).cumsum() / 400
        )
        phase = 2 * np.pi * np.cumsum(f0) / 8000
        x = sum(
            np.sin(k * phase) / k * (1 + np.sin(2 * np.pi * (0.3 + k / 10) * t))
            for k in range(1, 30)
        )
        source = "synthetic"
    x = x[: 60 * 8000]
    pcm = (x / np.max(np.abs(x)) * 20000).astype(np.int16)
    return pcm, source


def test_a_minute_of_speech_gives_no_digits(tmp_path):
    pcm, source = speech_minute(tmp_path)
    assert len(pcm) >= 50 * 8000, source
    assert detect(pcm) == [], source


@pytest.mark.parametrize("bad", ["x", "12", ""])
def test_tone_for_bad_digit_is_refused(bad):
    with pytest.raises(ValueError, match="DTMF"):
        dtmf_tone(bad, 0.1)


def test_detectors_share_one_goertzel_table_per_rate_and_block():
    a, b = DtmfDetector(), DtmfDetector(min_duration=0.06)
    assert a._basis is b._basis and not a._basis.flags.writeable
    assert DtmfDetector(16000)._basis is not a._basis
