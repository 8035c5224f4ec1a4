import random

from aiortc.rtp import RtpPacket

from media import g711
from media.clock import MediaClock
from media.prompts import EncodedPrompt
from media.rtp import RtpSession
from media.stream import OutboundStream, Player

FRAME = b"\x11" * 160


def stream(te_pt=None) -> OutboundStream:
    s = RtpSession(rng=random.Random(5))
    s.set_remote("192.0.2.1", 5000)
    return OutboundStream(s, "PCMU", telephone_event_pt=te_pt)


def prompt(n: int, byte: int = 0x11) -> EncodedPrompt:
    return EncodedPrompt("PCMU", tuple(bytes([byte]) * 160 for _ in range(n)))


def test_every_stream_gets_one_packet_per_20ms_from_one_clock():
    clock = MediaClock(0.0, phases=4)
    streams = [stream() for _ in range(8)]
    for s in streams:
        clock.add(s)
    sent = []
    t = 0.0
    while t < 1.0:
        sent += [(t, s) for s, _ in clock.tick(t)]
        t = clock.next_deadline()
    for s in streams:
        times = [t for t, x in sent if x is s]
        assert len(times) == 50
        assert all(abs((b - a) - 0.02) < 1e-9 for a, b in zip(times, times[1:], strict=False))
    # Streams are spread over 4 phases of 5 ms, two per phase.
    assert sorted({round(t * 1000) % 20 for t, _ in sent}) == [0, 5, 10, 15]


def test_late_tick_catches_up_only_a_bounded_number_of_frames():
    clock = MediaClock(0.0, phases=1, max_catch_up=3)
    s = stream()
    clock.add(s)
    assert len(clock.tick(0.0)) == 1
    burst = clock.tick(1.0)  # the loop stalled for a second: 50 frames due
    assert len(burst) == 3
    ts = [RtpPacket.parse(p).timestamp for _, p in burst]
    assert ts[-1] - ts[0] == 320  # the newest frames, not the stale ones
    assert s.session.counters.frames_skipped == 47
    assert RtpPacket.parse(burst[0][1]).marker  # a gap: new talkspurt
    assert clock.next_deadline() == 1.02


def test_prompt_then_bridge_keeps_sequence_and_timestamps_continuous():
    s = stream()
    done = []
    s.play(Player([prompt(3)], on_done=lambda p, r: done.append(r)))
    s.start_bridge()
    s.push_bridge_audio(b"\x22" * 320)  # two frames from the other leg
    pkts = [RtpPacket.parse(p) for p in (s.next_packet() for _ in range(6)) if p]
    assert done == ["done"]
    assert [p.payload[0] for p in pkts] == [0x11, 0x11, 0x11, 0x22, 0x22]
    assert [p.marker for p in pkts] == [1, 0, 0, 1, 0]
    seqs = [p.sequence_number for p in pkts]
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:], strict=False))
    ts = [p.timestamp for p in pkts]
    assert all((b - a) & 0xFFFFFFFF == 160 for a, b in zip(ts, ts[1:], strict=False))


def test_bridged_stream_with_nothing_to_relay_sends_nothing_then_marks_talkspurt():
    s = stream()
    s.start_bridge()
    assert s.next_packet() is None
    s.push_bridge_audio(FRAME)
    p = RtpPacket.parse(s.next_packet())
    assert p.marker and p.payload == FRAME


def test_idle_stream_sends_silence_to_keep_nat_open():
    p = RtpPacket.parse(stream().next_packet())
    assert p.payload == g711.silence_frame("PCMU")


def test_looping_player_repeats_until_stopped():
    s = stream()
    reasons = []
    s.play(Player([prompt(2, 1), prompt(1, 2)], loop=True, on_done=lambda p, r: reasons.append(r)))
    got = [RtpPacket.parse(s.next_packet()).payload[0] for _ in range(7)]
    assert got == [1, 1, 2, 1, 1, 2, 1]
    s.stop_playback()
    assert reasons == ["stopped"]


def test_dtmf_events_share_a_timestamp_and_pause_the_prompt():
    s = stream(te_pt=101)
    s.play(Player([prompt(20)]))
    s.next_packet()
    s.send_dtmf("3", 0.1)
    pkts = [RtpPacket.parse(p) for p in (s.next_packet() for _ in range(12)) if p]
    events = [p for p in pkts if p.payload_type == 101]
    audio_after = [p for p in pkts if p.payload_type == 0]
    assert len({p.timestamp for p in events}) == 1
    assert events[0].marker and sum(p.payload[1] >> 7 for p in events) == 3
    assert audio_after and audio_after[0].timestamp > events[0].timestamp


def test_dtmf_without_telephone_event_is_sent_as_in_band_tone():
    from media.dtmf_detect import DtmfDetector

    s = stream(te_pt=None)
    s.send_dtmf("9", 0.1)
    pcm = b"".join(RtpPacket.parse(s.next_packet()).payload for _ in range(10))
    det = DtmfDetector()
    assert [e.digit for e in det.feed(g711.decode(pcm, "PCMU")) + det.flush()] == ["9"]
