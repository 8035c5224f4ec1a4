"""Prompts: WAV files decoded once and cached as encoded 20 ms frames per codec."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
from scipy.signal import resample_poly

from . import g711
from .numbers import FALLBACKS, duration_words, number_words

RATE = 8000
FRAME_SAMPLES = 160


class PromptError(ValueError):
    """A prompt file that is missing or cannot be decoded."""


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt to play: an audio file (any rate/channels soundfile reads)."""

    path: Path

    @classmethod
    def of(cls, item: Prompt | str | Path) -> Prompt:
        return item if isinstance(item, Prompt) else cls(Path(item))


@dataclass(frozen=True, slots=True)
class EncodedPrompt:
    """A prompt as ready-to-send G.711 payloads of one frame each."""

    codec: str
    frames: tuple[bytes, ...]

    @property
    def duration(self) -> float:
        return len(self.frames) * FRAME_SAMPLES / RATE


def load_pcm(path: Path) -> npt.NDArray[np.int16]:
    """Read an audio file as 8 kHz mono int16, resampling and downmixing as needed."""
    try:
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise PromptError(f"prompt {path}: cannot read audio file ({exc})") from exc
    mono = data.mean(axis=1)
    if rate != RATE:
        g = math.gcd(int(rate), RATE)
        mono = resample_poly(mono, RATE // g, int(rate) // g)
    return np.clip(np.round(mono * 32768.0), -32768, 32767).astype(np.int16)


def encode_frames(pcm: npt.NDArray[np.int16], codec: str) -> tuple[bytes, ...]:
    """Split into 20 ms frames (the last padded with silence) and encode each."""
    pad = (-len(pcm)) % FRAME_SAMPLES
    if pad:
        pcm = np.concatenate((pcm, np.zeros(pad, dtype=np.int16)))
    enc = g711.encode(pcm, codec)
    return tuple(enc[i : i + FRAME_SAMPLES] for i in range(0, len(enc), FRAME_SAMPLES))


class PromptCache:
    """Encoded prompts keyed by (resolved path, mtime, codec): a changed file is re-read."""

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._cache: dict[tuple[str, int, str], EncodedPrompt] = {}
        self.loads = 0  # files decoded (for tests and metrics)

    def get(self, prompt: Prompt | str | Path, codec: str) -> EncodedPrompt:
        path = Prompt.of(prompt).path
        try:
            st = path.stat()
        except OSError as exc:
            raise PromptError(f"prompt {path}: file not found or unreadable ({exc})") from exc
        key = (str(path.resolve()), st.st_mtime_ns, codec)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        encoded = EncodedPrompt(codec, encode_frames(load_pcm(path), codec))
        self.loads += 1
        if len(self._cache) >= self.max_entries:
            self._cache.pop(next(iter(self._cache)))  # oldest insertion first
        self._cache[key] = encoded
        return encoded


class PromptLibrary:
    """Finds standard prompts by name: ``<prompt_dir>/<lang>/<name>.wav``."""

    def __init__(self, prompt_dir: Path) -> None:
        self.prompt_dir = Path(prompt_dir)

    def path(self, name: str, lang: str) -> Path:
        p = self.prompt_dir / lang / f"{name}.wav"
        if not p.exists() and name in FALLBACKS:
            return self.path(FALLBACKS[name], lang)
        if not p.exists():
            raise PromptError(f"standard prompt {name!r} for language {lang!r} missing: {p}")
        return p

    def number(self, n: int, lang: str) -> list[Prompt]:
        return [Prompt(self.path(w, lang)) for w in number_words(n, lang)]

    def duration(self, seconds: float, lang: str) -> list[Prompt]:
        return [Prompt(self.path(w, lang)) for w in duration_words(seconds, lang)]
