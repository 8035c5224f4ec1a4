"""G.711 mu-law (PCMU) and A-law (PCMA) codecs as vectorized numpy lookup tables.

Encoding indexes a 65536-entry table with the int16 samples viewed as uint16; decoding indexes
a 256-entry table with the payload bytes. The tables are built from the segment/quantisation
rules of the ITU-T G.711 reference implementation (the same rules as CPython's ``audioop``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_MU_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)
_A_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF], dtype=np.int32)

CODECS: tuple[str, ...] = ("PCMU", "PCMA")
STATIC_PAYLOAD_TYPES: dict[str, int] = {"PCMU": 0, "PCMA": 8}


def _all_int16() -> npt.NDArray[np.int32]:
    # Index i of the encode table is the uint16 view of the sample.
    return np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32)


def _build_ulaw_encode() -> npt.NDArray[np.uint8]:
    pcm = _all_int16() >> 2  # 14-bit magnitude domain
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(pcm), 8159) + (0x84 >> 2)
    seg = np.searchsorted(_MU_SEG_END, mag, side="left")
    uval = (np.minimum(seg, 7) << 4) | ((mag >> (np.minimum(seg, 7) + 1)) & 0xF)
    uval = np.where(seg >= 8, 0x7F, uval)
    return (uval ^ mask).astype(np.uint8)


def _build_alaw_encode() -> npt.NDArray[np.uint8]:
    pcm = _all_int16() >> 3  # 13-bit domain
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    mag = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = np.searchsorted(_A_SEG_END, mag, side="left")
    s = np.minimum(seg, 7)
    low = np.where(s < 2, (mag >> 1) & 0xF, (mag >> np.maximum(s, 1)) & 0xF)
    aval = np.where(seg >= 8, 0x7F, (s << 4) | low)
    return (aval ^ mask).astype(np.uint8)


def _build_ulaw_decode() -> npt.NDArray[np.int16]:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


def _build_alaw_decode() -> npt.NDArray[np.int16]:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t = np.where(
        seg == 0, t + 8, np.where(seg == 1, t + 0x108, (t + 0x108) << np.maximum(seg - 1, 0))
    )
    return np.where(a & 0x80, t, -t).astype(np.int16)


_ENCODE = {"PCMU": _build_ulaw_encode(), "PCMA": _build_alaw_encode()}
_DECODE = {"PCMU": _build_ulaw_decode(), "PCMA": _build_alaw_decode()}

SILENCE_BYTE: dict[str, int] = {c: int(_ENCODE[c][0]) for c in CODECS}


def _check_codec(codec: str) -> str:
    if codec not in _ENCODE:
        raise ValueError(f"unsupported codec {codec!r}: expected one of {', '.join(CODECS)}")
    return codec


def encode(samples: npt.ArrayLike, codec: str) -> bytes:
    """Encode int16 linear PCM samples to G.711 bytes (one byte per sample)."""
    table = _ENCODE[_check_codec(codec)]
    pcm = np.asarray(samples)
    if pcm.dtype != np.int16:
        raise TypeError(f"G.711 encode expects int16 samples, got {pcm.dtype}")
    return table[pcm.view(np.uint16)].tobytes()


def decode(payload: bytes | bytearray | memoryview, codec: str) -> npt.NDArray[np.int16]:
    """Decode G.711 bytes to int16 linear PCM samples."""
    table = _DECODE[_check_codec(codec)]
    return table[np.frombuffer(payload, dtype=np.uint8)]


def transcode_table(src: str, dst: str) -> bytes:
    """A 256-byte table for ``bytes.translate`` converting G.711 ``src`` payload to ``dst``."""
    lin = _DECODE[_check_codec(src)]
    return _ENCODE[_check_codec(dst)][lin.view(np.uint16)].tobytes()


def silence_frame(codec: str, samples: int = 160) -> bytes:
    """An encoded frame of digital silence."""
    return bytes([SILENCE_BYTE[_check_codec(codec)]]) * samples
