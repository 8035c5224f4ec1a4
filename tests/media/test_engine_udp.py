"""The media engine over real UDP sockets on 127.0.0.1 with a small in-test RTP peer."""

import asyncio
import socket
import struct

import numpy as np
import pytest
import soundfile as sf
from aiortc.rtp import RtcpPacket, RtcpSrPacket, RtpPacket
from scipy.signal import correlate

from media import DigitEvent, MediaEngine, RtpTimeout, dtmf_tone, g711
from media.rfc4733 import Rfc4733Sender


class Peer:
    """A bare RTP endpoint: records what arrives, sends what the test tells it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.got: list[RtpPacket] = []
        self.seq, self.ts, self.ssrc = 1000, 5000, 0xABCDEF

    def drain(self) -> list[RtpPacket]:
        while True:
            try:
                data, _ = self.sock.recvfrom(2048)
            except BlockingIOError:
                return self.got
            self.got.append(RtpPacket.parse(data))

    def send(self, dest: int, payload: bytes, pt: int = 0, ts: int | None = None, marker=0):
        pkt = RtpPacket(
            payload_type=pt,
            marker=marker,
            sequence_number=self.seq & 0xFFFF,
            timestamp=self.ts if ts is None else ts,
            ssrc=self.ssrc,
            payload=payload,
        )
        self.sock.sendto(pkt.serialize(), ("127.0.0.1", dest))
        self.seq += 1

    async def stream_audio(self, dest: int, pcm: np.ndarray, codec: str = "PCMU", pt: int = 0):
        enc = g711.encode(pcm, codec)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(0, len(enc), 160):
            self.send(dest, enc[i : i + 160], pt)
            self.ts += 160
            await asyncio.sleep(max(0.0, start + (i // 160 + 1) * 0.02 - loop.time()))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
async def engine(tmp_path):
    eng = MediaEngine(
        "127.0.0.1", 31000, 31999, prompt_dir=tmp_path / "prompts", no_rtp_timeout=None
    )
    await eng.start()
    yield eng
    await eng.close()


@pytest.fixture
def peer():
    p = Peer()
    yield p
    p.close()


def speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 8000)) / 8000
    x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in (220, 440, 660, 1320, 2100))
    x *= 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    return (x / np.max(np.abs(x)) * 12000).astype(np.int16)


def best_correlation(src: np.ndarray, heard: np.ndarray) -> float:
    """Correlation coefficient of ``src`` with the part of ``heard`` it best lines up with."""
    a = src.astype(np.float64)
    b = heard.astype(np.float64)
    xc = correlate(b, a, mode="valid") if len(b) >= len(a) else correlate(a, b, mode="valid")
    lag = int(np.argmax(xc))
    if len(b) >= len(a):
        return float(np.corrcoef(a, b[lag : lag + len(a)])[0, 1])
    return float(np.corrcoef(a[lag : lag + len(b)], b)[0, 1])


async def test_even_rtp_port_with_rtcp_on_the_next(engine):
    legs = [await engine.open_leg() for _ in range(3)]
    assert all(leg.local_port % 2 == 0 for leg in legs)
    assert len({leg.local_port for leg in legs}) == 3
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, pytest.raises(OSError):
        s.bind(("127.0.0.1", legs[0].local_port + 1))


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
async def test_prompt_arrives_intact_at_a_real_socket_peer(engine, peer, tmp_path, codec):
    src = speechlike(1.0)
    wav = tmp_path / "hello.wav"
    sf.write(str(wav), src, 8000, subtype="PCM_16")
    leg = await engine.open_leg()
    leg.set_remote("127.0.0.1", peer.port, codec=codec)
    res = await leg.play([wav])
    await asyncio.sleep(0.05)
    pkts = peer.drain()
    pt = g711.STATIC_PAYLOAD_TYPES[codec]
    assert res.reason == "done" and res.frames == 50
    assert all(p.ssrc == pkts[0].ssrc and p.payload_type == pt for p in pkts)
    seqs = [p.sequence_number for p in pkts]
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:], strict=False))
    ts = [p.timestamp for p in pkts]
    assert all((b - a) & 0xFFFFFFFF == 160 for a, b in zip(ts, ts[1:], strict=False))
    heard = g711.decode(b"".join(p.payload for p in pkts), codec)
    assert best_correlation(src, heard) > 0.99
    assert engine.prompt_cache.loads == 1
    await leg.play([wav])
    assert engine.prompt_cache.loads == 1  # decoded once, reused


async def test_symmetric_rtp_latches_to_where_the_peer_sends_from(engine, peer):
    leg = await engine.open_leg()
    other = Peer()
    try:
        leg.set_remote("127.0.0.1", other.port)  # the SDP address
        await asyncio.sleep(0.06)
        assert other.drain()
        peer.send(leg.local_port, b"\x00\x01")  # garbage: not latched
        peer.send(leg.local_port, g711.silence_frame("PCMU"))
        await asyncio.sleep(0.1)
        assert leg.remote == ("127.0.0.1", peer.port)
        assert peer.drain()
        assert leg.stats.packets_received == 2  # the short payload is a valid RTP packet
        peer.sock.sendto(b"\x12\x34", ("127.0.0.1", leg.local_port))
        await asyncio.sleep(0.03)
        assert leg.stats.malformed == 1
    finally:
        other.close()


async def test_rfc4733_digits_from_the_peer_become_one_event_each(engine, peer):
    leg = await engine.open_leg()
    leg.set_remote("127.0.0.1", peer.port, telephone_event_pt=101)
    task = asyncio.create_task(leg.collect_digits(3, first_timeout=2, inter_timeout=1))
    for i, digit in enumerate("42#"):
        sender = Rfc4733Sender(digit, 0.06)
        while not sender.done:
            step = sender.step()
            if step:
                peer.send(leg.local_port, step[0], pt=101, ts=9000 + i * 4000, marker=int(step[1]))
            await asyncio.sleep(0.005)
    res = await task
    assert (res.digits, res.reason) == ("42", "terminator")
    events = [leg.events.get_nowait() for _ in range(leg.events.qsize())]
    assert [e.digit for e in events if isinstance(e, DigitEvent)] == ["4", "2", "#"]


async def test_in_band_digits_with_noise_are_collected(engine, peer):
    leg = await engine.open_leg()
    leg.set_remote("127.0.0.1", peer.port, telephone_event_pt=None)
    rng = np.random.default_rng(2)
    gap = np.zeros(480, dtype=np.int16)
    pcm = np.concatenate([x for d in "739" for x in (dtmf_tone(d, 0.07, level_dbm0=-20), gap)])
    pcm = np.clip(pcm + rng.normal(0, 60, len(pcm)), -32768, 32767).astype(np.int16)
    task = asyncio.create_task(leg.collect_digits(3, first_timeout=2, inter_timeout=1))
    await peer.stream_audio(leg.local_port, pcm)
    res = await task
    assert (res.digits, res.reason) == ("739", "max")


async def test_collect_digits_times_out_and_reports_hangup(engine):
    leg = await engine.open_leg()
    res = await leg.collect_digits(4, first_timeout=0.05, inter_timeout=0.05)
    assert (res.digits, res.reason) == ("", "timeout")
    task = asyncio.create_task(leg.collect_digits(4, first_timeout=5, inter_timeout=5))
    await asyncio.sleep(0.01)
    await leg.close()
    assert (await task).reason == "hangup"


async def test_recording_of_known_audio_matches_it(engine, peer, tmp_path):
    leg = await engine.open_leg()
    leg.set_remote("127.0.0.1", peer.port)
    src = speechlike(1.0, seed=4)
    rec = asyncio.create_task(leg.record(tmp_path / "rec.wav", max_seconds=5))
    await asyncio.sleep(0.01)
    await peer.stream_audio(leg.local_port, src)
    sender = Rfc4733Sender("#", 0.06)
    while not sender.done:
        step = sender.step()
        if step:
            peer.send(leg.local_port, step[0], pt=101, ts=peer.ts, marker=int(step[1]))
    res = await rec
    assert res.reason == "hash"
    written, rate = sf.read(str(res.path), dtype="int16")
    info = sf.info(str(res.path))
    assert (rate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    assert abs(res.duration - 1.0) < 0.05
    assert best_correlation(src, written) > 0.99


async def test_bridge_relays_both_ways_without_loss_and_keeps_timestamps_monotonic(
    engine, tmp_path
):
    caller, agent = Peer(), Peer()
    try:
        leg_a, leg_b = await engine.open_leg(), await engine.open_leg()
        leg_a.set_remote("127.0.0.1", caller.port, codec="PCMU")
        leg_b.set_remote("127.0.0.1", agent.port, codec="PCMA")  # transcoded
        wav = tmp_path / "p.wav"
        sf.write(str(wav), speechlike(0.3), 8000)
        await leg_a.play([wav])  # prompt first, then the bridge on the same stream
        bridge = engine.bridge(leg_a, leg_b)
        a_src, b_src = speechlike(1.0, 1), speechlike(1.0, 2)
        await asyncio.gather(
            caller.stream_audio(leg_a.local_port, a_src),
            agent.stream_audio(leg_b.local_port, b_src, "PCMA", pt=8),
        )
        await asyncio.sleep(0.1)
        bridge.stop()
        assert (await bridge.wait()).reason == "stopped"
        to_agent, to_caller = agent.drain(), caller.drain()
        for pkts in (to_agent, to_caller):
            ts = [p.timestamp for p in pkts]
            seqs = [p.sequence_number for p in pkts]
            assert all(0 < (b - a) & 0xFFFFFFFF < 8000 for a, b in zip(ts, ts[1:], strict=False))
            assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:], strict=False))
            assert len({p.ssrc for p in pkts}) == 1
        relayed_to_agent = g711.decode(
            b"".join(p.payload for p in to_agent if p.payload_type == 8), "PCMA"
        )
        assert best_correlation(a_src, relayed_to_agent) > 0.98
        caller_audio = g711.decode(b"".join(p.payload for p in to_caller), "PCMU")
        assert best_correlation(b_src, caller_audio) > 0.98
        assert leg_a.stream.bridge_dropped == 0 and leg_b.stream.bridge_dropped == 0
    finally:
        caller.close()
        agent.close()


async def test_bridge_relays_rfc4733_digits(engine):
    caller, agent = Peer(), Peer()
    try:
        leg_a, leg_b = await engine.open_leg(), await engine.open_leg()
        leg_a.set_remote("127.0.0.1", caller.port, telephone_event_pt=101)
        leg_b.set_remote("127.0.0.1", agent.port, telephone_event_pt=96)
        engine.bridge(leg_a, leg_b)
        sender = Rfc4733Sender("7", 0.06)
        while not sender.done:
            step = sender.step()
            if step:
                caller.send(leg_a.local_port, step[0], pt=101, marker=int(step[1]))
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        events = [p for p in agent.drain() if p.payload_type == 96]
        assert events and {p.payload[0] for p in events} == {7}
        assert sum(p.payload[1] >> 7 for p in events) == 3
    finally:
        caller.close()
        agent.close()


async def test_no_rtp_is_reported_and_rtcp_reports_flow(tmp_path, peer):
    eng = MediaEngine("127.0.0.1", 32000, 32099, prompt_dir=tmp_path, no_rtp_timeout=0.3)
    await eng.start()
    try:
        leg = await eng.open_leg()
        leg.set_remote("127.0.0.1", peer.port)
        leg.session.next_rtcp = 0.0  # due now instead of in ~5 s
        rtcp_sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtcp_sink.bind(("127.0.0.1", peer.port + 1))
        ev = await asyncio.wait_for(leg.events.get(), 2.0)
        assert isinstance(ev, RtpTimeout)
        data = rtcp_sink.recv(2048)
        rtcp_sink.close()
        assert isinstance(RtcpPacket.parse(data)[0], RtcpSrPacket)
    finally:
        await eng.close()


async def test_playing_on_a_closed_leg_is_a_clear_error(engine):
    leg = await engine.open_leg()
    await leg.close()
    with pytest.raises(Exception, match="closed"):
        await leg.play([])


def test_telephone_event_payload_is_four_bytes():
    assert len(struct.pack("!BBH", 1, 2, 3)) == 4


async def test_a_leg_with_telephone_event_hears_in_band_keys_only_while_a_dialogue_listens(
    engine, peer
):
    leg = await engine.open_leg()
    leg.set_remote("127.0.0.1", peer.port, telephone_event_pt=101)
    gap = np.zeros(480, dtype=np.int16)
    # Nobody listens: a tone in the conversation is no key (and costs no detector).
    await peer.stream_audio(leg.local_port, np.concatenate([dtmf_tone("5", 0.08), gap]))
    assert leg._detector is None and not leg._digits  # noqa: SLF001
    task = asyncio.create_task(leg.collect_digits(1, first_timeout=2, inter_timeout=1))
    await asyncio.sleep(0.05)
    await peer.stream_audio(leg.local_port, np.concatenate([dtmf_tone("2", 0.08), gap]))
    res = await task
    assert (res.digits, res.reason) == ("2", "max")
    assert leg._detector is None  # noqa: SLF001 - off again once the dialogue has its key


async def test_a_key_sent_both_as_rfc4733_and_in_band_counts_once(engine, peer):
    leg = await engine.open_leg()
    leg.set_remote("127.0.0.1", peer.port, telephone_event_pt=101)
    task = asyncio.create_task(leg.collect_digits(2, first_timeout=2, inter_timeout=1.0))
    await asyncio.sleep(0.05)
    tone = g711.encode(dtmf_tone("7", 0.1), "PCMU")
    sender = Rfc4733Sender("7", 0.1)
    frame = 0
    while not sender.done:  # the event and the tone in the same 20 ms frames
        step = sender.step()
        if step:
            peer.send(leg.local_port, step[0], pt=101, ts=20000, marker=int(step[1]))
        if frame * 160 < len(tone):
            peer.send(leg.local_port, tone[frame * 160 : frame * 160 + 160])
            peer.ts += 160
        frame += 1
        await asyncio.sleep(0.02)
    res = await task
    assert res.digits == "7" and res.reason == "timeout"
