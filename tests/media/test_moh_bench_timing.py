"""The MOH load bench's send-time analysis, on synthetic arrivals with known errors."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

_spec = importlib.util.spec_from_file_location(
    "moh_load", Path(__file__).resolve().parents[2] / "bench" / "moh_load.py"
)
assert _spec is not None and _spec.loader is not None
moh_load = importlib.util.module_from_spec(_spec)
sys.modules["moh_load"] = moh_load  # dataclasses look their module up there
_spec.loader.exec_module(moh_load)


def _stream(ssrc: int, phase: float, late: dict[int, float], frames: int = 500) -> list:
    """Packets of one stream: frame i due at phase + i * 20 ms, ``late[i]`` seconds late."""
    ts0, seq0 = 4_294_960_000, 65_500  # both wrap inside the window
    t0 = 1_800_000_000.0
    return [
        (
            ssrc,
            (seq0 + i) % 65536,
            (ts0 + 160 * i) % (1 << 32),
            t0 + phase + i * 0.02 + late.get(i, 0),
        )
        for i in range(frames)
    ]


def _errors(packets: list):  # noqa: ANN202 - Timing
    a = np.array(packets, dtype=object)
    at_ns = np.array([round(t * 1e9) for t in a[:, 3]], dtype=np.int64)
    return moh_load.send_time_errors(
        a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2].astype(np.int64), at_ns
    )


def test_on_grid_streams_with_different_phases_have_no_error() -> None:
    t = _errors(_stream(1, 0.0, {}) + _stream(2, 0.0125, {}))
    assert t.streams == 2 and t.packets == 1000
    assert t.p99_ms < 0.001 and t.max_ms < 0.001
    assert t.skipped_frames == 0 and t.lost_packets == 0


def test_late_packets_are_measured_against_the_stream_grid() -> None:
    late = {i: 0.005 for i in range(100, 110)}  # 10 of 500 packets 5 ms late
    t = _errors(_stream(7, 0.003, late))
    assert abs(t.max_ms - 5.0) < 0.01
    assert t.p50_ms < 0.001
    assert abs(t.p99_ms - 5.0) < 0.01  # 2 % of the packets are late


def test_skipped_frames_and_lost_packets_are_told_apart() -> None:
    packets = _stream(3, 0.0, {})
    # The clock skipped frames 200-202: no packets, sequence numbers continue.
    skipped = [
        (s, (q - 3 * (i >= 203)) % 65536, ts, at)
        for i, (s, q, ts, at) in enumerate(packets)
        if not 200 <= i <= 202
    ]
    lost = [p for i, p in enumerate(skipped) if i not in (300, 301)]  # gone on the way
    t = _errors(lost)
    assert t.skipped_frames == 3 and t.lost_packets == 2
    assert t.max_ms < 0.001
