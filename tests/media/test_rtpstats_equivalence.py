"""The optimised ``ReceiveStats.on_packet`` gives exactly the reference figures.

Random packet sequences (loss, bursts, reordering within and beyond the decision lag,
duplicates, late packets, sequence and RTP timestamp wrap, SSRC and clock-rate changes,
stray and confirmed sequence jumps) go into both ``ReceiveStats`` and the frozen
per-packet reference (``rtpstats_reference.py``), with every reader called at random
points; all results must be equal, floats bit for bit. Both implementations of the
per-packet part are checked: the compiled one (``media/_rtpstats_core.c``, when built) and
its pure Python twin. RFC 4733 telephone-event packets (runs repeating their first
packet's timestamp, reordered and duplicated like the audio) are unknown to the frozen
reference: with them, the compiled core is checked against the Python twin.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media.rtpstats import COMPILED, PurePythonReceiveStats, ReceiveStats

from .rtpstats_reference import ReferenceReceiveStats

Packet = tuple[int, int, float, int, int, bool]


def _with_events(rng: random.Random, packets: list[Packet]) -> list[Packet]:
    """Digits keyed in RFC 4733: runs of packets become events sharing a start timestamp."""
    out = list(packets)
    for _ in range(rng.choice((1, 2, 5, 20))):
        if not out:
            break
        start = rng.randrange(len(out))
        event_ts = out[start][1]
        for k in range(start, min(len(out), start + rng.randint(1, 12))):
            seq, _ts, arrival, ssrc, rate, _ = out[k]
            out[k] = (seq, event_ts, arrival, ssrc, rate, True)
    return out


def _feed(stats: ReceiveStats | ReferenceReceiveStats, packet: Packet) -> bool | None:
    seq, ts, arrival, ssrc, rate, event = packet
    if event:
        return stats.on_event_packet(seq, arrival, ssrc, rate)  # type: ignore[union-attr]
    return stats.on_packet(seq, ts, arrival, ssrc, rate)


def _packets(rng: random.Random) -> list[Packet]:
    """One leg's arrivals: (seq, rtp timestamp, arrival, ssrc, clock rate, event)."""
    out: list[Packet] = []
    t = 0.0
    for _source in range(rng.choice((1, 1, 1, 2, 3))):
        ssrc = rng.choice((7, 7, 8, rng.getrandbits(32)))
        rate = rng.choice((8000, 8000, 8000, 16000))
        step = rate // 50
        seq0 = rng.choice((0, 65536 - rng.randint(1, 300), rng.getrandbits(16)))
        ts0 = rng.choice((0, (1 << 32) - rng.randint(1, 400) * step, rng.getrandbits(32)))
        n = rng.randint(1, 500)
        loss = rng.choice((0.0, 0.01, 0.05, 0.3))
        burst = rng.choice((0.0, 0.0, 0.2))
        late = rng.choice((0.0, 0.02, 0.2))
        order: list[int] = []
        lost_prev = False
        for i in range(n):
            p = loss + (burst if lost_prev else 0.0)
            lost_prev = i > 1 and rng.random() < p
            if not lost_prev:
                order.append(i)
        for _ in range(rng.choice((0, 0, 3, 20))):  # reorder, sometimes past the lag
            if len(order) > 2:
                a = rng.randrange(len(order))
                b = min(len(order) - 1, a + rng.choice((1, 2, 5, 63, 64, 65, 90, 150)))
                order[a], order[b] = order[b], order[a]
        for _ in range(rng.choice((0, 0, 2, 10))):  # duplicates, near or far
            if order:
                k = rng.randrange(len(order))
                order.insert(min(len(order), k + rng.randint(0, 80)), order[k])
        base_t = t
        for i in order:
            delay = rng.uniform(0, 0.02)
            if late and rng.random() < late:
                delay += rng.uniform(0.03, 0.15)
            arrival = base_t + i * 0.02 + delay
            t = max(t, arrival)
            out.append(
                ((seq0 + i) & 0xFFFF, (ts0 + i * step) & 0xFFFFFFFF, arrival, ssrc, rate, False)
            )
        if out and rng.random() < 0.3:  # stray jump, and sometimes a confirmed restart
            seq, ts, arrival, ssrc, rate, _ = out[-1]
            jump = (seq + rng.randint(3000, 60000)) & 0xFFFF
            out.append((jump, ts, arrival + 0.01, ssrc, rate, False))
            if rng.random() < 0.5:
                for k in range(1, rng.randint(2, 120)):
                    out.append(
                        (
                            (jump + k) & 0xFFFF,
                            (ts + k * step) & 0xFFFFFFFF,
                            arrival + 0.02 * k,
                            ssrc,
                            rate,
                            False,
                        )
                    )
                t = out[-1][2]
        t += rng.uniform(0, 1.0)
    return out


def _read(stats: ReceiveStats | ReferenceReceiveStats, op: int, now: float, marks: dict) -> object:
    if op == 0:
        return stats.snapshot()
    if op == 1:
        return stats.interval()
    if op == 2:
        return stats.report_block(now)
    if op == 3:
        marks[id(stats)] = stats.mark()
        return marks[id(stats)].counters
    if op == 4:
        mark = marks.get(id(stats))
        return None if mark is None else stats.figures_since(mark)
    if op == 5:
        stats.on_sender_report(0x1234567890ABCDEF + int(now * 1000), now)
        return None
    return stats.jitter_ms


IMPLEMENTATIONS = pytest.mark.parametrize(
    "cls", [ReceiveStats, PurePythonReceiveStats], ids=["receive-stats", "pure-python"]
)


def _check(
    seed: int, cls: type = ReceiveStats, ref_cls: type = ReferenceReceiveStats, events: bool = False
) -> None:
    rng = random.Random(seed)
    packets = _packets(rng)
    if events:
        packets = _with_events(rng, packets)
    delay = rng.choice((0.0, 0.02, 0.06))
    new, ref = cls(playout_delay=delay), ref_cls(playout_delay=delay)
    marks: dict = {}
    for k, packet in enumerate(packets):
        dup_before = ref._dup
        kept = _feed(new, packet)
        _feed(ref, packet)
        # The reference returns nothing; a packet is dropped exactly when it counts as a duplicate.
        assert kept is (ref._dup == dup_before), f"seed {seed}, packet {k}"
        if rng.random() < 0.03:
            arrival = packet[2]
            op = rng.randrange(7)
            got, want = _read(new, op, arrival, marks), _read(ref, op, arrival, marks)
            assert got == want, f"seed {seed}, packet {k}, reader {op}"
    end = packets[-1][2] if packets else 0.0
    for op in range(7):
        assert _read(new, op, end, marks) == _read(ref, op, end, marks), f"seed {seed}, op {op}"
    assert new.snapshot() == ref.snapshot()


@IMPLEMENTATIONS
@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_optimised_path_equals_the_per_packet_reference(cls: type, seed: int) -> None:
    _check(seed, cls)


@IMPLEMENTATIONS
def test_fixed_seeds_equal_the_reference(cls: type) -> None:
    for seed in range(150):
        _check(seed, cls)


COMPILED_ONLY = pytest.mark.skipif(not COMPILED, reason="media/_rtpstats_core.c is not built")


@COMPILED_ONLY
@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_compiled_core_equals_its_python_twin_with_telephone_events(seed: int) -> None:
    _check(seed, ReceiveStats, PurePythonReceiveStats, events=True)


@COMPILED_ONLY
def test_fixed_seeds_with_telephone_events_equal_the_python_twin() -> None:
    for seed in range(150):
        _check(seed, ReceiveStats, PurePythonReceiveStats, events=True)
