"""Receive statistics: RFC 3550 A.1/A.3/A.8 counters, playout discards, RFC 3611 bursts."""

import pytest

from media.rtpstats import (
    GMIN,
    LOSS_DECISION_LAG,
    ReceiveStats,
    ReportBlock,
    ntp_middle32,
    ntp_timestamp,
    rtt_from_report_block,
)

PTIME = 0.020
STEP = 160  # 20 ms at 8 kHz


def feed(
    stats: ReceiveStats,
    seqs: list[int],
    *,
    first_seq: int = 0,
    ssrc: int = 1,
    ts0: int = 0,
    delay: dict[int, float] | None = None,
) -> None:
    """Send packets by sequence index; timestamps and arrivals follow the index."""
    delay = delay or {}
    for i in seqs:
        stats.on_packet(
            (first_seq + i) & 0xFFFF,
            (ts0 + i * STEP) & 0xFFFFFFFF,
            i * PTIME + delay.get(i, 0),
            ssrc,
        )


def test_first_packet_of_a_source_is_consumed_by_probation() -> None:
    # RFC 3550 A.1: the source is valid on the MIN_SEQUENTIAL-th in-order packet and
    # init_seq() then sets base_seq to that packet, so the first one is not counted.
    stats = ReceiveStats()
    feed(stats, [0])
    assert stats.snapshot().packets_expected == 0
    assert stats.report_block(0.0) is None
    feed(stats, range(1, 10))
    snap = stats.snapshot()
    assert (snap.packets_expected, snap.packets_received, snap.packets_lost) == (9, 9, 0)


def test_out_of_order_packet_during_probation_restarts_it() -> None:
    stats = ReceiveStats()
    feed(stats, [0, 5, 6, 7])
    snap = stats.snapshot()
    assert (snap.packets_expected, snap.packets_received) == (2, 2)


def test_missing_packets_are_counted_as_lost() -> None:
    stats = ReceiveStats()
    feed(stats, [i for i in range(200) if i not in (50, 51, 120)])
    snap = stats.snapshot()
    assert snap.packets_expected == 199
    assert snap.packets_lost == 3
    assert snap.fraction_lost == pytest.approx(3 / 199)
    # Decisions lag LOSS_DECISION_LAG packets behind the highest sequence.
    assert snap.decided == 199 - LOSS_DECISION_LAG
    assert snap.lost_decided == 3


def test_sequence_wrap_at_65535_extends_the_sequence_number() -> None:
    stats = ReceiveStats()
    feed(stats, range(40), first_seq=65520)
    snap = stats.snapshot()
    assert snap.packets_expected == 39
    assert snap.packets_lost == 0
    block = stats.report_block(1.0)
    assert block is not None
    assert block.highest_seq == 65536 + (65520 + 39 - 65536)


def test_duplicates_count_as_received_per_rfc3550_and_are_reported() -> None:
    stats = ReceiveStats()
    feed(stats, [*range(30), 29, 10, 10])
    snap = stats.snapshot()
    assert snap.duplicates == 3
    assert snap.packets_received == 29 + 3
    assert snap.packets_lost == -3  # RFC 3550: lost = expected - received, may go negative
    assert snap.lost_decided == 0


def test_reordered_packet_is_not_a_loss() -> None:
    stats = ReceiveStats()
    order = list(range(100))
    order[50], order[52] = order[52], order[50]
    feed(stats, order)
    snap = stats.snapshot()
    assert snap.reordered == 2  # 51 and 50 arrive after 52
    assert snap.packets_lost == 0
    assert snap.lost_decided == 0


def test_packet_later_than_the_playout_time_is_discarded() -> None:
    stats = ReceiveStats(playout_delay=0.060)
    # Packet 40 is 80 ms late (discarded), packet 41 is 50 ms late (played).
    feed(stats, range(200), delay={40: 0.080, 41: 0.050})
    snap = stats.snapshot()
    assert snap.packets_lost == 0
    assert snap.discarded == 1
    assert snap.effective_loss == pytest.approx(1 / snap.decided)


def test_ssrc_change_restarts_rfc3550_counters_and_keeps_call_totals() -> None:
    stats = ReceiveStats()
    feed(stats, [i for i in range(100) if i != 10], ssrc=1)
    feed(stats, range(100, 200), first_seq=40000, ssrc=2)
    block = stats.report_block(5.0)
    assert block is not None
    assert block.ssrc == 2
    assert block.cumulative_lost == 0
    snap = stats.snapshot()
    assert snap.ssrc == 2
    # 99 expected from source 1 (first consumed by probation), 99 from source 2.
    assert snap.packets_expected == 99 + 99
    assert snap.packets_lost == 1


def test_single_large_jump_is_ignored_and_a_confirmed_one_resynchronises() -> None:
    stats = ReceiveStats()
    feed(stats, range(50))
    stats.on_packet(20000, 50 * STEP, 1.0, 1)  # one stray packet: not counted
    assert stats.snapshot().packets_received == 49
    feed(stats, range(51, 60))
    assert stats.snapshot().packets_lost == 1  # seq 50 was never received
    stats.on_packet(30000, 0, 1.3, 1)
    stats.on_packet(30001, STEP, 1.32, 1)  # second in sequence: sender restarted
    snap = stats.snapshot()
    assert snap.packets_expected == 59 + 1
    assert snap.packets_received == 58 + 1


def test_interarrival_jitter_matches_a_hand_computation() -> None:
    stats = ReceiveStats()
    # Transit deviations D(i-1, i) in timestamp units after the validating packet 1:
    # packet 2 is 10 ms late (D = 80), packet 3 on time (D = 80), packet 4 5 ms late (D = 40).
    feed(stats, range(5), delay={2: 0.010, 4: 0.005})
    j = 0.0
    for d in (80.0, 80.0, 40.0):
        j += (d - j) / 16.0
    snap = stats.snapshot()
    assert snap.jitter_ts == pytest.approx(j)  # 11.58203125
    assert snap.jitter_ms == pytest.approx(j / 8.0)
    assert stats.report_block(1.0).jitter == int(j)  # type: ignore[union-attr]


def test_rtp_timestamp_wrap_does_not_create_jitter() -> None:
    stats = ReceiveStats()
    feed(stats, range(100), ts0=(1 << 32) - 50 * STEP)
    assert stats.snapshot().jitter_ts == pytest.approx(0.0, abs=1e-6)


def test_isolated_losses_are_gap_losses_and_random() -> None:
    stats = ReceiveStats()
    lost = set(range(40, 2000, 40))  # one loss every 40 packets: > Gmin apart
    feed(stats, [i for i in range(2100) if i not in lost])
    burst = stats.snapshot().burst
    assert burst.burst_density == 0.0
    assert burst.burst_duration_ms == 0.0
    assert burst.gap_density == pytest.approx(len(lost) / 2000, rel=0.05)
    assert burst.burst_ratio == pytest.approx(1.0, abs=0.05)


def test_clustered_losses_form_bursts_and_raise_the_burst_ratio() -> None:
    stats = ReceiveStats()
    lost = {b + k for b in range(100, 3000, 100) for k in range(3)}  # bursts of 3
    feed(stats, [i for i in range(3100) if i not in lost])
    snap = stats.snapshot()
    burst = snap.burst
    assert burst.burst_density == pytest.approx(1.0)
    assert burst.burst_duration_ms == pytest.approx(3 * 20.0)
    assert burst.gap_density == 0.0
    # Markov: p = bursts / received, q = burst ends / lost = 1/3.
    assert burst.q == pytest.approx(1 / 3)
    assert burst.p == pytest.approx(29 / (snap.decided - len(lost)))
    assert burst.burst_ratio == pytest.approx(1 / (burst.p + burst.q))
    assert GMIN == 16


def test_interval_reports_only_what_happened_since_the_previous_interval() -> None:
    stats = ReceiveStats()
    feed(stats, [i for i in range(300) if i not in (100, 101)])
    first = stats.interval()
    feed(stats, range(300, 600))
    second = stats.interval()
    assert first.packets_lost == 2
    assert second.packets_lost == 0
    assert second.packets_expected == 300
    assert stats.snapshot().packets_lost == 2


def test_report_block_fraction_lost_is_per_report_interval() -> None:
    stats = ReceiveStats()
    # Probation consumes packet 1; 2..101 are expected, 10, 20, ..., 100 are missing.
    feed(stats, [i for i in range(1, 102) if i % 10 != 0])
    first = stats.report_block(2.0)
    feed(stats, range(102, 201))
    second = stats.report_block(4.0)
    assert first is not None and second is not None
    assert first.fraction_lost == (10 << 8) // 100
    assert first.cumulative_lost == 10
    assert second.fraction_lost == 0
    assert second.cumulative_lost == 10


def test_report_block_wire_format_round_trips_with_negative_cumulative_loss() -> None:
    block = ReportBlock(0xDEADBEEF, 12, -3, 70000, 55, 0x12345678, 65536)
    data = block.to_bytes()
    assert len(data) == 24
    assert ReportBlock.from_bytes(data) == block
    with pytest.raises(ValueError, match="24 bytes"):
        ReportBlock.from_bytes(data[:10])


def test_lsr_and_dlsr_give_the_round_trip_time() -> None:
    stats = ReceiveStats()
    feed(stats, range(10))
    sr_ntp = ntp_timestamp(1_700_000_000.0)
    stats.on_sender_report(sr_ntp, now=100.0)
    block = stats.report_block(now=100.25)
    assert block is not None
    assert block.lsr == ntp_middle32(sr_ntp)
    assert block.dlsr == int(0.25 * 65536)
    # The SR's sender receives this RR 0.25 s hold + 0.080 s network round trip later.
    arrival = ntp_timestamp(1_700_000_000.0 + 0.25 + 0.080)
    assert rtt_from_report_block(block, arrival) == pytest.approx(0.080, abs=1e-4)


def test_rtt_is_unknown_without_a_sender_report() -> None:
    block = ReportBlock(1, 0, 0, 0, 0, 0, 0)
    assert rtt_from_report_block(block, ntp_timestamp(1_700_000_000.0)) is None


def test_bad_clock_rate_is_rejected() -> None:
    with pytest.raises(ValueError, match="clock rate"):
        ReceiveStats().on_packet(1, 0, 0.0, 1, clock_rate=0)
    with pytest.raises(ValueError, match="playout_delay"):
        ReceiveStats(playout_delay=-1)
