"""The compiled per-packet core of ``ReceiveStats`` (``media/_rtpstats_core.c``).

Its figures are proven equal to the pure Python twin and the frozen reference in
``test_rtpstats_equivalence.py``; here: that it is built where it must be, and that odd
arguments and field writes behave as they do in Python.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest

from media import rtpstats
from media.rtpstats import PurePythonReceiveStats, ReceiveStats

needs_core = pytest.mark.skipif(
    not rtpstats.COMPILED and not os.environ.get("CI"),
    reason="media._rtpstats_core not built (no C compiler?): pure Python statistics in use",
)


@needs_core
def test_ci_uses_the_compiled_core() -> None:
    # In CI a missing build fails here instead of silently costing 2x the CPU per packet.
    assert rtpstats.COMPILED, "media._rtpstats_core did not build: see `make test` output"
    assert ReceiveStats is not PurePythonReceiveStats


def test_the_environment_switch_selects_pure_python() -> None:
    code = "import media.rtpstats as r; print(r.COMPILED, r.ReceiveStats.__name__)"
    env = {**os.environ, "VAXEL_NO_EXTENSIONS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "PurePythonReceiveStats"]


class _Seq(int):
    """An int subclass, as numpy or an enum might hand over."""


def _fed(cls: type) -> ReceiveStats:
    stats = cls()
    for i in range(10):
        stats.on_packet(100 + i, 160 * i, 0.02 * i, 7)
    return stats


@pytest.mark.parametrize("cls", [ReceiveStats, PurePythonReceiveStats])
def test_clock_rate_by_keyword_and_odd_number_types_take_the_python_path(cls: type) -> None:
    stats = _fed(cls)
    # keyword clock rate, an int arrival, an int subclass: all accounted alike
    assert stats.on_packet(110, 1600, 0.2, 7, clock_rate=8000) is True
    assert stats.on_packet(111, 1760, 1, 7) is True  # int arrival (1 s: late for playout)
    assert stats.on_packet(_Seq(112), 1920, 0.24, 7) is True
    assert stats.on_packet(112, 1920, 0.24, 7) is False  # duplicate of 112
    snap = stats.snapshot()
    # the first packet of a source is on probation (RFC 3550 A.1), so 9 + 4 received
    assert (snap.packets_received, snap.duplicates) == (13, 1)


def test_both_give_the_same_figures_for_odd_arguments() -> None:
    results = []
    for cls in (ReceiveStats, PurePythonReceiveStats):
        stats = _fed(cls)
        stats.on_packet(110, 1600, 0.2, 7, clock_rate=8000)
        stats.on_packet(111, 1760, 1, 7)
        stats.on_packet(113, 2080, 0.26, 7)
        results.append(stats.snapshot())
    assert results[0] == results[1]


def test_wrong_arguments_are_refused_with_a_clear_error() -> None:
    stats = ReceiveStats()
    with pytest.raises(TypeError, match="on_packet"):
        stats.on_packet(1, 2, 0.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="on_packet"):
        stats.on_packet(1, 2, 0.0, 7, rate=8000)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        stats.on_packet("1", 2, 0.0, 7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="clock rate"):
        stats.on_packet(1, 0, 0.0, 1, clock_rate=0)
    # nothing was accounted by the refused calls
    assert stats.snapshot().packets_received == 0


@needs_core
def test_fields_keep_python_semantics() -> None:
    stats = _fed(ReceiveStats)
    assert stats._vssrc == 7
    stats._vssrc = None
    assert stats._vssrc is None
    with pytest.raises(ValueError, match="_vssrc"):
        stats._vssrc = 1 << 32
    with pytest.raises(AttributeError):
        stats._ring = bytearray(64)  # type: ignore[misc]
    with pytest.raises(TypeError):
        stats._prev_lost = 1  # type: ignore[assignment]


def test_instances_are_freed() -> None:
    before = len(gc.get_objects())
    for _ in range(2000):
        _fed(ReceiveStats)
    gc.collect()
    assert len(gc.get_objects()) - before < 100
