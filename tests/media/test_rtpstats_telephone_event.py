"""RFC 4733 telephone-event packets are not late audio (RFC 4733 2.5).

They share the audio's SSRC and sequence numbers, but every packet of an event repeats the
event's start timestamp and the end packet is sent three times: judged as audio, 100 ms
into a digit they look 100 ms late. They must advance the sequence bookkeeping only.
"""

from __future__ import annotations

import random

import pytest
from aiortc.rtp import RtpPacket

from media.quality import QualityMonitor, QualityWarning
from media.rfc4733 import Rfc4733Sender
from media.rtp import RtpSession
from media.rtpstats import PurePythonReceiveStats, ReceiveStats

AUDIO_PT, EVENT_PT = 0, 101
PEER = ("192.0.2.7", 4000)


def perfect_call(seconds: float, digits: dict[int, str]) -> list[tuple[float, bytes]]:
    """A phone's packets on a perfect link: (arrival, datagram), 20 ms audio frames, and at
    frame ``i`` of ``digits`` a 100 ms RFC 4733 digit in place of the audio."""
    out: list[tuple[float, bytes]] = []
    seq, frame = 4000, 0
    sender: Rfc4733Sender | None = None
    event_ts = 0
    while frame < seconds * 50:
        t, ts = frame * 0.02, (90000 + frame * 160) & 0xFFFFFFFF
        if sender is None and frame in digits:
            sender, event_ts = Rfc4733Sender(digits[frame], 0.1), ts
        if sender is not None:
            step = sender.step()
            if step is not None:
                pkt = RtpPacket(EVENT_PT, step[1], seq, event_ts, 0x5EED, payload=step[0])
                out.append((t, pkt.serialize()))
                seq += 1
            if sender.done:
                sender = None
        else:
            pkt = RtpPacket(AUDIO_PT, frame == 0, seq, ts, 0x5EED, payload=b"\xff" * 160)
            out.append((t, pkt.serialize()))
            seq += 1
        frame += 1
    return out


def receive(cls: type, packets: list[tuple[float, bytes]]) -> tuple[RtpSession, list]:
    session = RtpSession(rng=random.Random(3))
    session.stats = cls()
    session.accepted_payload_types = {AUDIO_PT, EVENT_PT}
    session.telephone_event_pt = EVENT_PT
    monitor = QualityMonitor(codec="PCMU", interval=5.0)
    monitor.add_leg("caller", session.stats, now=0.0)
    events = []
    for arrival, data in packets:
        assert session.receive(data, PEER, arrival) is not None
        events += monitor.update(arrival)
    return session, [monitor.summary().legs["caller"], events]


@pytest.mark.parametrize("cls", [ReceiveStats, PurePythonReceiveStats])
def test_digits_keyed_on_a_perfect_link_give_no_loss_no_late_packets_and_a_perfect_mos(cls):
    digits = {100: "1", 400: "2", 420: "#", 700: "5", 1200: "9"}
    session, (keyed, events) = receive(cls, perfect_call(30.0, digits))
    _, (clean, _) = receive(cls, perfect_call(30.0, {}))
    figures = session.stats.snapshot()
    assert figures.packets_lost == 0 and figures.lost_decided == 0
    assert figures.discarded == 0
    assert figures.max_jitter_ms == pytest.approx(0.0, abs=1e-6)  # float arrival times
    assert figures.packet_ms == pytest.approx(20.0)  # the E-model's packetization delay
    assert keyed.mos == clean.mos and keyed.mos > 4.3
    assert keyed.loss_pct == 0.0 and keyed.packets_discarded == 0
    assert not any(isinstance(e, QualityWarning) for e in events)
    block = session.stats.report_block(31.0)
    assert block is not None and block.cumulative_lost == 0 and block.jitter == 0


def test_a_digit_among_the_first_packets_does_not_anchor_the_playout_clock():
    session, (keyed, _) = receive(ReceiveStats, perfect_call(10.0, {1: "4"}))
    figures = session.stats.snapshot()
    assert figures.discarded == 0 and keyed.loss_pct == 0.0
    assert figures.max_jitter_ms == pytest.approx(0.0, abs=1e-6)
