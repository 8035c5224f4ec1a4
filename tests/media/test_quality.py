"""QualityMonitor: interval MOS, warning hysteresis, whole-call summary (virtual time)."""

import json
import random

import pytest

from media.quality import IntervalMos, QualityMonitor, QualityRecovered, QualityWarning
from media.rtpstats import ReceiveStats, RemoteStats


def run(
    monitor: QualityMonitor,
    stats: ReceiveStats,
    seconds: float,
    *,
    start: int = 0,
    lose=lambda i: False,
) -> list:
    events = []
    n = int(seconds / 0.02)
    for i in range(start, start + n):
        t = i * 0.02
        if not lose(i):
            stats.on_packet(i & 0xFFFF, i * 160, t, 42)
        events += monitor.update(t)
    return events


def test_clean_stream_reports_high_mos_every_interval() -> None:
    stats = ReceiveStats()
    monitor = QualityMonitor(codec="PCMU", interval=5.0)
    monitor.add_leg("caller", stats, now=0.0)
    events = run(monitor, stats, 30.0)
    mos_events = [e for e in events if isinstance(e, IntervalMos)]
    assert [e.at for e in mos_events] == pytest.approx([5.0, 10.0, 15.0, 20.0, 25.0])
    assert all(e.mos > 4.3 and e.loss == 0.0 and e.leg == "caller" for e in mos_events)
    assert not any(isinstance(e, QualityWarning) for e in events)


def test_heavy_loss_warns_once_and_recovery_is_reported() -> None:
    stats = ReceiveStats()
    monitor = QualityMonitor(interval=5.0, warn_below=3.1)
    monitor.add_leg("agent", stats, now=0.0)
    rng = random.Random(7)
    bad = lambda i: 500 <= i < 2000 and rng.random() < 0.25  # noqa: E731  25 % loss, 10..40 s
    events = run(monitor, stats, 70.0, lose=bad)
    warnings = [e for e in events if isinstance(e, QualityWarning)]
    recovered = [e for e in events if isinstance(e, QualityRecovered)]
    assert len(warnings) == 1
    assert warnings[0].mos < 3.1
    assert len(recovered) == 1
    assert recovered[0].mos >= 3.2
    assert recovered[0].at > warnings[0].at
    summary = monitor.summary().legs["agent"]
    assert summary.warnings == 1
    assert summary.min_interval_mos is not None and summary.min_interval_mos < 3.1


def test_mos_just_above_threshold_does_not_count_as_recovered() -> None:
    monitor = QualityMonitor(interval=5.0, warn_below=3.1)
    stats = ReceiveStats()
    monitor.add_leg("caller", stats, now=0.0)
    leg = monitor._legs["caller"]
    leg.warned = True
    # A warned leg needs warn_below + 0.1: feed an interval whose MOS is 3.1..3.2.
    from media.quality import _Estimate

    monitor._estimate = lambda *_, **__: _Estimate(r=60.0, mos=3.15)  # type: ignore[method-assign]
    events = run(monitor, stats, 6.0)
    assert not any(isinstance(e, QualityRecovered) for e in events)
    monitor._estimate = lambda *_, **__: _Estimate(r=62.0, mos=3.25)  # type: ignore[method-assign]
    events = run(monitor, stats, 6.0, start=300)
    assert any(isinstance(e, QualityRecovered) for e in events)


def test_round_trip_time_from_rtcp_lowers_the_estimate() -> None:
    results = {}
    for rtt in (None, 0.6):
        stats, remote = ReceiveStats(), RemoteStats()
        remote.rtt = rtt
        monitor = QualityMonitor()
        monitor.add_leg("caller", stats, now=0.0, remote=remote)
        events = run(monitor, stats, 6.0)
        results[rtt] = [e for e in events if isinstance(e, IntervalMos)][0]
    assert results[0.6].rtt_ms == pytest.approx(600.0)
    assert results[0.6].mos < results[None].mos - 0.2


def test_silent_leg_produces_no_interval_mos() -> None:
    monitor = QualityMonitor()
    monitor.add_leg("caller", ReceiveStats(), now=0.0)
    assert monitor.update(5.0) == []
    assert monitor.next_deadline() == pytest.approx(10.0)
    assert monitor.summary().legs["caller"].mos is None


def test_summary_is_a_plain_serialisable_record_per_leg() -> None:
    caller, agent = ReceiveStats(), ReceiveStats()
    monitor = QualityMonitor(codec="PCMA")
    monitor.add_leg("caller", caller, now=0.0)
    monitor.add_leg("agent", agent, now=0.0, codec="G729")
    for i in range(1000):
        t = i * 0.02
        if i % 50 != 0:
            caller.on_packet(i, i * 160, t, 1)
        agent.on_packet(i, i * 160, t, 2)
        monitor.update(t)
    record = monitor.summary().to_dict()
    json.dumps(record)
    assert set(record) == {"caller", "agent"}
    assert record["caller"]["loss_pct"] > 1.5
    assert record["agent"]["codec"] == "G729"
    # G.729A has Ie = 11: lower than clean G.711 even without loss.
    assert record["agent"]["r"] < record["caller"]["r"] + 11


def test_configuration_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="OPUS"):
        QualityMonitor(codec="OPUS")
    with pytest.raises(ValueError, match="window"):
        QualityMonitor(interval=5.0, window=2.0)
    monitor = QualityMonitor()
    monitor.add_leg("caller", ReceiveStats(), now=0.0)
    with pytest.raises(ValueError, match="already"):
        monitor.add_leg("caller", ReceiveStats(), now=0.0)
    with pytest.raises(ValueError, match="no leg"):
        monitor.set_codec("agent", "PCMA")
