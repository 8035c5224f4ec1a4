"""A quality warning needs evidence: seeded random loss through ReceiveStats + QualityMonitor.

Virtual time, 50 packets/s, the default monitor (5 s interval, 10 s window, threshold 3.1).
The rule (docs/mos.md "When a warning is raised"): the connection's MOS (G.711 rated without
listener concealment) at the one-sided 99 % Wilson lower bound of the loss rate, over the
last 10 s and over the last 30 s, must be below the threshold.
"""

from __future__ import annotations

import random

from media.quality import QualityMonitor, QualityWarning
from media.rtpstats import ReceiveStats


def first_warning(seed: int, loss: float, seconds: float) -> float | None:
    """Seconds into the call of its first warning (None: none)."""
    rng = random.Random(seed)
    stats = ReceiveStats()
    monitor = QualityMonitor(codec="PCMU-CONCEAL")
    monitor.add_leg("caller", stats, 0.0)
    deadline = monitor.next_deadline()
    assert deadline is not None
    on_packet, draw = stats.on_packet, rng.random
    for i in range(int(seconds / 0.02)):
        t = i * 0.02
        if draw() >= loss:
            on_packet(i & 0xFFFF, i * 160, t, 7)
        if t >= deadline:
            for event in monitor.update(t):
                if isinstance(event, QualityWarning):
                    return t
            deadline = monitor.next_deadline()
            assert deadline is not None
    return None


def test_one_percent_random_loss_never_warns_in_a_thousand_calls() -> None:
    warned = [seed for seed in range(1000) if first_warning(seed, 0.01, 60.0) is not None]
    assert warned == []


def test_five_percent_random_loss_warns_in_every_call_nearly_always_within_ten_seconds() -> None:
    times = [first_warning(10_000 + seed, 0.05, 30.0) for seed in range(1000)]
    assert None not in times  # every call warns (the 30 s evidence catches the rest by 20-25 s)
    within_10 = sum(1 for t in times if t is not None and t <= 10.0)
    # 10 s hold ~436 decided packets: a 5 % call shows under 3.3 % loss in about 1 call in
    # 10, which 1 % calls also reach: no rule separates all of both (docs/mos.md).
    assert within_10 >= 880, within_10
    assert max(t for t in times if t is not None) <= 25.0


def test_a_cluster_of_losses_on_a_good_call_is_not_evidence() -> None:
    stats = ReceiveStats()
    monitor = QualityMonitor(codec="PCMU-CONCEAL")
    monitor.add_leg("caller", stats, 0.0)
    events = []
    for i in range(3000):  # 60 s; 16 losses, all in one 10 s stretch (3.2 % there)
        t = i * 0.02
        if not (1000 <= i < 1500 and i % 33 == 0):
            stats.on_packet(i & 0xFFFF, i * 160, t, 7)
        if i % 250 == 0 and i:
            events += monitor.update(t)
    assert not any(isinstance(e, QualityWarning) for e in events)
