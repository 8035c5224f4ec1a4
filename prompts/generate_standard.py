"""Generate the shipped standard prompts from `prompts.catalog` (run by hand, commit the output).

    .venv/bin/python -m prompts.generate_standard [--only NAME ...]

Speech comes from espeak-ng (22050 Hz) and is resampled to 8 kHz mono 16-bit
PCM, trimmed, and normalized to about -16 dBFS RMS so it sits at a sensible
level through G.711. ``beep`` and ``hold-music`` are synthesized with numpy.
A manifest records the wording each file was made from, so tests can tell
when the table changed and the audio was not regenerated.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from prompts.catalog import LANGUAGES, PROMPT_KINDS, STANDARD_DIR, STANDARD_PROMPTS

RATE = 8000
SPEECH_RMS_DBFS = -16.0
MUSIC_RMS_DBFS = -18.0
MANIFEST = STANDARD_DIR / "manifest.json"
_VOICES = {"sv": "sv", "en": "en-gb"}
_WORDS_PER_MINUTE = 150  # espeak's default 175 is hurried on the phone
_PAD_S = 0.08


def _db_to_gain(db: float) -> float:
    return float(10 ** (db / 20))


def synthesize_speech(text: str, lang: str) -> np.ndarray:
    """espeak-ng -> float32 mono at 8 kHz (not yet normalized)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng not found: install it (apt-get install espeak-ng)")
    wav = subprocess.run(
        [exe, "-v", _VOICES[lang], "-s", str(_WORDS_PER_MINUTE), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    g = np.gcd(RATE, rate)
    return resample_poly(audio, RATE // g, rate // g).astype(np.float32)


def trim(audio: np.ndarray, threshold_dbfs: float = -45.0) -> np.ndarray:
    """Cut leading/trailing silence, keep a short pad so words are not clipped."""
    loud = np.flatnonzero(np.abs(audio) > _db_to_gain(threshold_dbfs))
    if loud.size == 0:
        return audio
    pad = int(_PAD_S * RATE)
    return audio[max(0, loud[0] - pad) : loud[-1] + pad + 1]


def normalize(audio: np.ndarray, rms_dbfs: float) -> np.ndarray:
    """Scale the active part to ``rms_dbfs`` RMS, then soft-limit peaks below full scale."""
    frame = RATE // 50
    usable = audio[: len(audio) // frame * frame].reshape(-1, frame)
    frame_rms = np.sqrt(np.mean(usable.astype(np.float64) ** 2, axis=1))
    active = usable[frame_rms > frame_rms.max() * _db_to_gain(-30)] if frame_rms.size else usable
    rms = float(np.sqrt(np.mean(active.astype(np.float64) ** 2))) if active.size else 0.0
    if rms == 0.0:
        return audio
    out = audio * (_db_to_gain(rms_dbfs) / rms)
    knee = 0.8  # above the knee, compress smoothly towards 1.0 instead of clipping
    mag = np.abs(out)
    over = mag > knee
    out[over] = np.sign(out[over]) * (knee + (1 - knee) * np.tanh((mag[over] - knee) / (1 - knee)))
    return out.astype(np.float32)


def _fade(n: int, total: int) -> np.ndarray:
    env = np.ones(total, dtype=np.float32)
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    env[:n] = ramp
    env[-n:] = ramp[::-1]
    return env


def make_beep() -> np.ndarray:
    """1 kHz for 300 ms with 5 ms ramps (no clicks), at -16 dBFS RMS."""
    t = np.arange(int(0.3 * RATE)) / RATE
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32) * _fade(int(0.005 * RATE), t.size)
    return tone * np.float32(_db_to_gain(SPEECH_RMS_DBFS) * np.sqrt(2))


def _midi_hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def make_hold_music(seconds: float = 20.0) -> np.ndarray:
    """Slow I-vi-IV-V chords (soft pads, 170-800 Hz) with a plucked arpeggio an octave up."""
    chords = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)]  # C Am F G
    chord_s = 2.5
    n_total = int(seconds * RATE)
    out = np.zeros(n_total, dtype=np.float64)
    n_chord = int(chord_s * RATE)
    t = np.arange(n_chord) / RATE
    pad_env = np.minimum(1.0, t / 0.4) * np.minimum(1.0, (chord_s - t) / 0.6)
    step = chord_s / 8
    n_step = int(step * RATE)
    ts = np.arange(int(1.2 * RATE)) / RATE
    pluck_env = np.exp(-ts * 4.0) * np.minimum(1.0, ts / 0.005)
    for k in range(int(np.ceil(seconds / chord_s))):
        start = k * n_chord
        chord = chords[k % len(chords)]
        seg = np.zeros(n_chord)
        for note in chord:
            f = _midi_hz(note)
            seg += np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * 2 * f * t)
        seg *= pad_env * 0.25
        end = min(n_total, start + n_chord)
        out[start:end] += seg[: end - start]
        arpeggio = [chord[0], chord[1], chord[2], chord[0] + 12, chord[2], chord[1]]
        for j in range(8):
            note = arpeggio[j % len(arpeggio)] + 12
            f = _midi_hz(note)
            s = start + j * n_step
            if s >= n_total:
                break
            tone = (np.sin(2 * np.pi * f * ts) + 0.2 * np.sin(2 * np.pi * 2 * f * ts)) * pluck_env
            e = min(n_total, s + tone.size)
            out[s:e] += 0.35 * tone[: e - s]
    out *= _fade(int(1.0 * RATE), n_total)
    return normalize(out.astype(np.float32), MUSIC_RMS_DBFS)


def render(name: str, lang: str) -> np.ndarray:
    kind = PROMPT_KINDS[name]
    if kind == "tone":
        return make_beep()
    if kind == "music":
        return make_hold_music()
    return normalize(trim(synthesize_speech(STANDARD_PROMPTS[name][lang], lang)), SPEECH_RMS_DBFS)


def write_wav(path: Path, audio: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)
    sf.write(path, pcm, RATE, subtype="PCM_16", format="WAV")


def espeak_version() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        return "unknown"
    return subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", metavar="NAME", help="regenerate just these")
    args = parser.parse_args(argv)
    names = args.only or list(STANDARD_PROMPTS)
    unknown = [n for n in names if n not in STANDARD_PROMPTS]
    if unknown:
        parser.error(f"unknown prompt name(s): {', '.join(unknown)}")

    manifest = json.loads(MANIFEST.read_text("utf-8")) if MANIFEST.exists() else {}
    manifest["format"] = {"rate": RATE, "channels": 1, "subtype": "PCM_16"}
    manifest["generator"] = {"espeak": espeak_version(), "words_per_minute": _WORDS_PER_MINUTE}
    entries = manifest.setdefault("prompts", {})
    cache: dict[str, np.ndarray] = {}  # tone and music are the same in every language
    for lang in LANGUAGES:
        for name in names:
            kind = PROMPT_KINDS[name]
            if kind != "speech" and name in cache:
                audio = cache[name]
            else:
                audio = render(name, lang)
                cache[name] = audio
            write_wav(STANDARD_DIR / lang / f"{name}.wav", audio)
            entries.setdefault(lang, {})[name] = {
                "wording": STANDARD_PROMPTS[name][lang],
                "kind": kind,
                "seconds": round(audio.size / RATE, 3),
            }
            print(f"{lang}/{name}.wav {audio.size / RATE:.2f} s", file=sys.stderr)
    # Drop entries for prompts no longer in the catalog.
    for lang in list(entries):
        entries[lang] = {n: e for n, e in sorted(entries[lang].items()) if n in STANDARD_PROMPTS}
    MANIFEST.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
