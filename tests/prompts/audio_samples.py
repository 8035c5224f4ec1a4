"""Small audio files in the accepted upload formats, made with soundfile for the tests."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf


def tone(seconds: float, rate: int, channels: int = 1, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = amplitude * np.sin(2 * np.pi * 440 * t)
    return np.repeat(mono[:, None], channels, axis=1)


def encode(audio: np.ndarray, rate: int, fmt: str, subtype: str) -> bytes:
    out = io.BytesIO()
    sf.write(out, audio, rate, format=fmt, subtype=subtype)
    return out.getvalue()


def wav(
    seconds: float = 1.0, rate: int = 16000, channels: int = 2, subtype: str = "PCM_16"
) -> bytes:
    return encode(tone(seconds, rate, channels), rate, "WAV", subtype)


def au(seconds: float = 1.0, rate: int = 8000, subtype: str = "ULAW") -> bytes:
    return encode(tone(seconds, rate), rate, "AU", subtype)


def raw_gsm(seconds: float = 1.0) -> bytes:
    """Header-less GSM 06.10: 33-byte frames of 160 samples at 8 kHz."""
    return encode(tone(seconds, 8000)[:, 0], 8000, "RAW", "GSM610")


PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
