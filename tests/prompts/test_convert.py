"""Upload conversion: accepted formats become 8 kHz mono 16-bit WAV; others are refused."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from prompts.convert import (
    MAX_PROMPT_BYTES,
    PromptFileError,
    PromptTooLarge,
    convert_prompt,
    detect_format,
)
from tests.prompts import audio_samples as samples


def decoded(wav: bytes) -> tuple[np.ndarray, sf._SoundFileInfo]:
    return sf.read(io.BytesIO(wav), dtype="int16"), sf.info(io.BytesIO(wav))


@pytest.mark.parametrize(
    ("data", "fmt", "seconds"),
    [
        (samples.wav(1.0, 16000, 2), "wav", 1.0),
        (samples.wav(0.5, 44100, 1, "FLOAT"), "wav", 0.5),
        (samples.wav(1.0, 8000, 1, "ULAW"), "wav", 1.0),
        (samples.wav(1.0, 8000, 1, "ALAW"), "wav", 1.0),
        (samples.au(1.0, 8000, "ULAW"), "au", 1.0),
        (samples.au(0.5, 16000, "PCM_16"), "au", 0.5),
        (samples.raw_gsm(1.0), "gsm", 1.0),
    ],
)
def test_accepted_formats_become_8khz_mono_pcm16(data: bytes, fmt: str, seconds: float) -> None:
    result = convert_prompt(data)
    (pcm, _), info = decoded(result.wav)
    assert result.source_format == fmt
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    assert result.duration == pytest.approx(seconds, abs=0.03)
    assert len(pcm) / 8000 == pytest.approx(result.duration)


def test_levels_are_kept_not_normalized() -> None:
    result = convert_prompt(samples.wav(1.0, 16000, 2))
    (pcm, _), _info = decoded(result.wav)
    peak = np.abs(pcm[200:-200]).max() / 32767
    assert peak == pytest.approx(0.5, abs=0.02)


def test_format_is_detected_from_content_not_from_the_name() -> None:
    assert detect_format(samples.au(), "prompt.wav") == "au"
    with pytest.raises(PromptFileError, match="PNG image"):
        convert_prompt(samples.PNG, "welcome.wav")


def test_larger_than_5_mb_is_refused_before_decoding() -> None:
    data = samples.wav(1.0) + bytes(MAX_PROMPT_BYTES)
    with pytest.raises(PromptTooLarge, match="at most 5 MB"):
        convert_prompt(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (samples.PNG, "PNG image"),
        (b"ID3\x04" + bytes(300), "MP3"),
        (b"OggS" + bytes(300), "Ogg"),
        (samples.wav(1.0)[:20000], "truncated WAV"),
        (samples.wav(1.0)[:30], "no data chunk"),
        (samples.au(1.0)[:500], "truncated AU"),
        (samples.raw_gsm(1.0)[:-7], "unrecognized|GSM"),
        (samples.wav(0.0, 8000, 1), "no audio"),
        (bytes(range(256)) * 4, "unrecognized"),
    ],
)
def test_refusals_name_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(PromptFileError, match=reason):
        convert_prompt(data)


def test_more_than_ten_minutes_is_refused() -> None:
    # 11 minutes of 8 kHz mu-law is 5.3 MB as WAV; at 2 kHz it fits in the size limit.
    data = samples.encode(np.zeros((2000 * 660, 1)), 2000, "WAV", "ULAW")
    assert len(data) < MAX_PROMPT_BYTES
    with pytest.raises(PromptFileError, match="at most 10 minutes"):
        convert_prompt(data)
