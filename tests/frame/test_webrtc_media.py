"""The adapter between aiortc and the engine: resampling, loss marking, pacing (no sockets)."""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
from aiortc.rtp import RtpPacket

from media import g711
from vaxel.calls.webrtc_media import FRAME, BridgeTrack, Uplink


def opus_frame(pts: int, freq: float = 1000.0) -> av.AudioFrame:
    """One 20 ms frame as aiortc's Opus decoder gives it: s16, stereo, 48 kHz."""
    t = (pts + np.arange(960)) / 48000
    mono = (0.5 * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(
        np.repeat(mono, 2).reshape(1, -1), format="s16", layout="stereo"
    )
    frame.sample_rate = 48000
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, 48000)
    return frame


def test_48khz_stereo_becomes_20ms_pcmu_packets_at_8khz() -> None:
    up = Uplink()
    packets = [p for i in range(50) for p in up.packets(opus_frame(i * 960))]
    assert 48 <= len(packets) <= 50  # the resampler holds back a few samples
    parsed = [RtpPacket.parse(p) for p in packets]
    assert {p.payload_type for p in parsed} == {0}
    assert all(len(p.payload) == FRAME for p in parsed)
    seqs = [p.sequence_number for p in parsed]
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:], strict=False))
    stamps = [p.timestamp for p in parsed]
    assert all((b - a) & 0xFFFFFFFF == FRAME for a, b in zip(stamps, stamps[1:], strict=False))
    # The tone survives at its level (the 8 kHz stream is the same sound).
    pcm = g711.decode(b"".join(p.payload for p in parsed[10:]), "PCMU").astype(np.float64)
    assert 0.3 < np.sqrt(np.mean(pcm**2)) / 32767 / (0.5 / np.sqrt(2)) < 1.1
    spectrum = np.abs(np.fft.rfft(pcm))
    assert abs(np.argmax(spectrum) * 8000 / len(pcm) - 1000) < 20


def test_a_gap_in_the_browsers_timestamps_is_a_gap_in_the_sequence_numbers() -> None:
    up = Uplink()
    before = [RtpPacket.parse(p) for i in range(10) for p in up.packets(opus_frame(i * 960))]
    # Three 20 ms frames never came (lost before aiortc's jitter buffer let go).
    after = [RtpPacket.parse(p) for p in up.packets(opus_frame(13 * 960))]
    assert up.packets_lost == 3
    assert after and (after[0].sequence_number - before[-1].sequence_number) & 0xFFFF == 4
    assert (after[0].timestamp - before[-1].timestamp) & 0xFFFFFFFF == 4 * FRAME


async def test_the_track_paces_silence_and_passes_the_engines_frames() -> None:
    track = BridgeTrack()
    loop = asyncio.get_running_loop()
    start = loop.time()
    silent = [await track.recv() for _ in range(10)]
    took = loop.time() - start
    assert 0.15 <= took <= 0.5, took  # 20 ms a frame, not as fast as asked
    assert all(not f.to_ndarray().any() for f in silent)
    assert [f.pts for f in silent] == [i * FRAME for i in range(10)]

    tone = np.full(FRAME, 1000, dtype=np.int16)
    track.push(tone)
    got = await track.recv()
    assert got.sample_rate == 8000 and got.samples == FRAME
    assert (got.to_ndarray().reshape(-1) == tone).all()
    assert got.pts == 10 * FRAME and track.frames_sent == 1
    track.stop()
