"""Validate an uploaded prompt file and convert it for the media path (SPEC S7).

Accepted: WAV (any codec libsndfile decodes: PCM, mu-law, A-law, GSM 06.10 ...; any rate and
channel count), Sun AU (``.au``/``.snd``) and raw GSM 06.10 (``.gsm``: 33-byte frames at
8 kHz). The format is detected from the content (magic bytes); a file name only adds a hint
to the error message. Output: 8 kHz mono 16-bit PCM WAV. Levels are left as they are (no
normalization): the operator decides how loud a prompt is; resampling overshoot is clipped.

Everything here is pure (bytes in, bytes out) so it runs in a worker thread.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from math import gcd

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

__all__ = [
    "MAX_PROMPT_BYTES",
    "MAX_PROMPT_SECONDS",
    "TARGET_RATE",
    "ConvertedPrompt",
    "PromptFileError",
    "PromptTooLarge",
    "convert_prompt",
    "detect_format",
]

MAX_PROMPT_BYTES = 5 * 1024 * 1024
MAX_PROMPT_SECONDS = 600.0
TARGET_RATE = 8000
_GSM_FRAME = 33  # bytes per 20 ms frame of raw GSM 06.10; each starts with the 0xD nibble

# Common non-audio or not-accepted audio formats, named in the refusal.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or office document)"),
    (b"ID3", "MP3 audio"),
    (b"OggS", "Ogg audio"),
    (b"fLaC", "FLAC audio"),
    (b"FORM", "AIFF audio"),
    (b"caff", "CAF audio"),
    (b"\x1aE\xdf\xa3", "a Matroska/WebM file"),
)


class PromptFileError(ValueError):
    """The upload cannot become a prompt; the message says why and what is accepted."""


class PromptTooLarge(PromptFileError):
    """More bytes than `MAX_PROMPT_BYTES` (checked before anything is decoded)."""


@dataclass(frozen=True, slots=True)
class ConvertedPrompt:
    wav: bytes  # 8 kHz mono PCM_16 WAV
    duration: float  # seconds
    source_format: str  # "wav", "au" or "gsm"
    source_rate: int
    source_channels: int


_ACCEPTED = "accepted formats: WAV, Sun AU (.au/.snd), raw GSM 06.10 (.gsm)"


def detect_format(data: bytes, filename: str | None = None) -> str:
    """ "wav", "au" or "gsm" from the content; raises `PromptFileError` naming what it is."""
    if not data:
        raise PromptFileError("the file is empty")
    if data[:4] in (b"RIFF", b"RF64") and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b".snd":
        return "au"
    if len(data) % _GSM_FRAME == 0 and all(
        data[i] >> 4 == 0xD for i in range(0, len(data), _GSM_FRAME)
    ):
        return "gsm"
    hint = f" (file name {filename!r})" if filename else ""
    for magic, what in _OTHER_MAGIC:
        if data.startswith(magic):
            raise PromptFileError(f"the file is {what}{hint}, not an accepted prompt; {_ACCEPTED}")
    if data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        raise PromptFileError(f"the file is MP3 audio{hint}; {_ACCEPTED}")
    if data[:4] == b"RIFF":
        raise PromptFileError(f"RIFF file that is not WAVE audio{hint}; {_ACCEPTED}")
    ext = (filename or "").rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if ext == "gsm":
        raise PromptFileError(
            f"not raw GSM 06.10 audio{hint}: the size must be a multiple of 33-byte frames "
            "that each start with the GSM signature (file truncated or not GSM)"
        )
    if ext in ("wav", "au", "snd"):
        raise PromptFileError(f"not a valid .{ext} file{hint}: header missing or damaged")
    raise PromptFileError(f"unrecognized file content{hint}; {_ACCEPTED}")


def _check_declared_size(data: bytes, fmt: str) -> None:
    """Refuse truncated files: the header's data size must fit in what was uploaded."""
    if fmt == "au":
        if len(data) < 24:
            raise PromptFileError("truncated AU file: header shorter than 24 bytes")
        offset, size = struct.unpack(">II", data[4:12])
        if size != 0xFFFFFFFF and offset + size > len(data):
            raise PromptFileError(
                f"truncated AU file: header declares {size} bytes of audio, "
                f"{max(0, len(data) - offset)} present"
            )
        return
    if fmt != "wav" or data[:4] != b"RIFF":
        return
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk == b"data":
            # 0 / 0xFFFFFFFF: written by a streaming recorder that never came back to patch it.
            if size not in (0, 0xFFFFFFFF) and pos + 8 + size > len(data):
                raise PromptFileError(
                    f"truncated WAV file: data chunk declares {size} bytes, "
                    f"{len(data) - pos - 8} present"
                )
            return
        pos += 8 + size + (size & 1)
    raise PromptFileError("damaged WAV file: no data chunk")


def convert_prompt(data: bytes, filename: str | None = None) -> ConvertedPrompt:
    """Validate ``data`` and convert it to 8 kHz mono 16-bit PCM WAV."""
    if len(data) > MAX_PROMPT_BYTES:
        raise PromptTooLarge(
            f"the file is {len(data)} bytes; prompts may be at most 5 MB ({MAX_PROMPT_BYTES} bytes)"
        )
    fmt = detect_format(data, filename)
    _check_declared_size(data, fmt)
    try:
        if fmt == "gsm":
            f = sf.SoundFile(
                io.BytesIO(data), format="RAW", subtype="GSM610", samplerate=8000, channels=1
            )
        else:
            f = sf.SoundFile(io.BytesIO(data))
        with f:
            rate, channels, frames = f.samplerate, f.channels, f.frames
            if fmt == "gsm":  # libsndfile cannot seek in raw GSM: count the frames ourselves
                frames = len(data) // _GSM_FRAME * 160
            if frames <= 0 or rate <= 0:
                raise PromptFileError(f"the {fmt.upper()} file contains no audio (0 samples)")
            if frames / rate > MAX_PROMPT_SECONDS:
                raise PromptFileError(
                    f"the audio is {frames / rate:.0f} s long; prompts may be at most "
                    f"{MAX_PROMPT_SECONDS / 60:.0f} minutes"
                )
            audio = f.read(frames, dtype="float32", always_2d=True)
    except PromptFileError:
        raise
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise PromptFileError(f"cannot decode the {fmt.upper()} file: {exc}") from None
    if audio.shape[0] == 0:
        raise PromptFileError(f"the {fmt.upper()} file contains no audio (0 samples)")
    mono = np.nan_to_num(audio.mean(axis=1, dtype=np.float64))
    if rate != TARGET_RATE:
        g = gcd(TARGET_RATE, rate)
        mono = resample_poly(mono, TARGET_RATE // g, rate // g)
    pcm = np.clip(np.round(mono * 32767.0), -32768, 32767).astype(np.int16)
    if pcm.size == 0:
        raise PromptFileError("the audio is too short to play (under one sample at 8 kHz)")
    out = io.BytesIO()
    sf.write(out, pcm, TARGET_RATE, format="WAV", subtype="PCM_16")
    return ConvertedPrompt(out.getvalue(), pcm.size / TARGET_RATE, fmt, rate, channels)
