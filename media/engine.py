"""The asyncio shell around the media cores: UDP sockets, the one clock task, operations.

``MediaEngine`` owns the port allocator, the prompt cache and the single clock task that
paces every outgoing stream. ``MediaLeg`` is one RTP session (an even RTP port and RTCP on
port + 1) with the operations the IVR and ACD call: play, collect_digits, record, bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import math
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

from . import g711
from .clock import MediaClock
from .dtmf_detect import DtmfDetector
from .events import (
    BridgeResult,
    DigitEvent,
    DigitResult,
    LegClosed,
    LegEvent,
    PlayResult,
    RecordResult,
    RtpResumed,
    RtpTimeout,
)
from .prompts import FRAME_SAMPLES, RATE, Prompt, PromptCache, PromptLibrary
from .rfc4733 import Rfc4733Receiver
from .rtcp import build_xr_packet, voip_metrics_from_figures
from .rtp import RtpSession, SessionCounters
from .rtpstats import ReceiveStats, RemoteStats
from .srtp import SrtpContext
from .stream import OutboundStream, Player
from .timer import PreciseWake

log = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL = 0.2  # RTCP, no-RTP and lost-DTMF-end checks


class MediaError(RuntimeError):
    """A media operation that cannot be done (no free port, closed leg, bad arguments)."""


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, tuple[str, int]], None]) -> None:
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a peer that went away: RTP timeout handles it.
        log.debug("media socket error: %s", exc)


class PortAllocator:
    """Hands out even RTP ports of a range round-robin (RTCP uses port + 1)."""

    def __init__(self, port_min: int, port_max: int) -> None:
        first = port_min + (port_min % 2)
        if not 0 < first < port_max <= 65535:
            raise ValueError(
                f"RTP port range {port_min}-{port_max}: needs an even port and port + 1 inside"
            )
        self._ports = list(range(first, port_max, 2))
        self._next = 0
        self.in_use: set[int] = set()
        # Port pressure: how often a leg found no free pair (docs/security.md, /api/health).
        self.failures = 0

    @property
    def pairs(self) -> int:
        """RTP/RTCP port pairs in the range."""
        return len(self._ports)

    def candidates(self) -> Iterable[int]:
        n = len(self._ports)
        for i in range(n):
            port = self._ports[(self._next + i) % n]
            if port not in self.in_use:
                self._next = (self._next + i + 1) % n
                yield port

    def release(self, port: int) -> None:
        self.in_use.discard(port)


class _Recorder:
    def __init__(
        self, max_samples: int, silence_frames: int | None, silence_level: float, stop_on_hash: bool
    ) -> None:
        self.chunks: list[npt.NDArray[np.int16]] = []
        self.samples = 0
        self.max_samples = max_samples
        self.silence_frames = silence_frames
        self.silence_level = silence_level
        self.quiet_run = 0
        self.stop_on_hash = stop_on_hash
        self.last_ts: int | None = None
        self.done: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def feed(self, pcm: npt.NDArray[np.int16], timestamp: int) -> None:
        if self.done.done():
            return
        if self.last_ts is not None:
            gap = (timestamp - self.last_ts) & 0xFFFFFFFF
            if 0 < gap < RATE:  # lost packets: keep the timeline with silence
                self.chunks.append(np.zeros(gap, dtype=np.int16))
                self.samples += gap
        self.last_ts = (timestamp + len(pcm)) & 0xFFFFFFFF
        self.chunks.append(pcm)
        self.samples += len(pcm)
        if self.silence_frames is not None:
            rms = math.sqrt(float(np.mean(pcm.astype(np.float64) ** 2))) if len(pcm) else 0.0
            self.quiet_run = self.quiet_run + 1 if rms < self.silence_level else 0
            if self.quiet_run >= self.silence_frames:
                self.finish("silence")
                return
        if self.samples >= self.max_samples:
            self.finish("max")

    def finish(self, reason: str) -> None:
        if not self.done.done():
            self.done.set_result(reason)

    def audio(self) -> npt.NDArray[np.int16]:
        pcm = np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.int16)
        pcm = pcm[: self.max_samples]
        if self.done.done() and self.done.result() == "silence":
            pcm = pcm[: max(0, len(pcm) - self.quiet_run * FRAME_SAMPLES)]
        return pcm


# In-band detections this soon after an RFC 4733 digit are the same key's tone.
INBAND_AFTER_EVENT = 0.5


class MediaLeg:
    """One RTP session of a call: local ports, remote address, codec, counters, events."""

    def __init__(self, engine: MediaEngine, port: int, rtp_sock: socket.socket) -> None:
        self.engine = engine
        self.local_port = port
        self.local_rtcp_port = port + 1
        self._sock = rtp_sock
        self._rtp_transport: asyncio.DatagramTransport | None = None
        self._rtcp_transport: asyncio.DatagramTransport | None = None
        self._rtp_protocol: _Protocol | None = None
        self.srtp: SrtpContext | None = None  # SRTP (SDES) legs only; see set_srtp
        loop = asyncio.get_running_loop()
        self.session = RtpSession(wall_offset=time.time() - loop.time())
        self.codec = "PCMU"
        self.telephone_event_pt: int | None = None
        self.inband_dtmf = False
        self.stream = OutboundStream(self.session, "PCMU", owner=self, idle_fill=engine.idle_fill)
        self.events: asyncio.Queue[LegEvent] = asyncio.Queue()
        self.closed = False
        self._rfc4733 = Rfc4733Receiver()
        self._detector: DtmfDetector | None = None
        self._listeners = 0  # dialogues waiting for a key now
        self._last_event_at = -1.0  # when the last RFC 4733 digit came
        self._digits: deque[str] = deque(maxlen=64)
        self._digit_waiters: list[asyncio.Future[str | None]] = []
        self._recorder: _Recorder | None = None
        self._bridge: Bridge | None = None
        self._timed_out = False
        self._remote_since: float | None = None
        self.quality_hint: tuple[float, float] | None = None  # latest (R, MOS), for RTCP XR

    # --- setup ---------------------------------------------------------------------------
    @property
    def stats(self) -> SessionCounters:
        """Send/receive counters (see also ``rx_stats`` for RFC 3550 loss and jitter)."""
        return self.session.counters

    # The quality statistics live in the session (its one receiver and the one place the
    # peer's RTCP lands); read here by the call's quality watch (docs/mos.md).
    @property
    def rx_stats(self) -> ReceiveStats:
        """Statistics of the stream received here; also the source of our report blocks."""
        return self.session.stats

    @property
    def remote_stats(self) -> RemoteStats:
        """What the peer reports about the stream we send (report blocks, RTT, XR)."""
        return self.session.remote_stats

    @property
    def remote(self) -> tuple[str, int] | None:
        """Where RTP is sent now (the SDP address until latched to the packets' source)."""
        return self.session.remote_rtp

    def set_remote(
        self,
        addr: str,
        port: int,
        codec: str = "PCMU",
        payload_type: int | None = None,
        telephone_event_pt: int | None = 101,
        *,
        rtcp_port: int | None = None,
        inband_dtmf: bool | None = None,
    ) -> None:
        """Point the leg at the peer's SDP address and negotiated codec.

        In-band DTMF detection defaults to on only when the peer has no telephone-event PT
        (peers sending both would otherwise be heard twice).
        """
        if codec not in g711.CODECS:
            raise MediaError(f"codec {codec!r} not supported: expected PCMU or PCMA")
        if not 0 < port < 65536:
            raise MediaError(f"remote RTP port {port} out of range 1..65535")
        pt = g711.STATIC_PAYLOAD_TYPES[codec] if payload_type is None else payload_type
        self.codec = codec
        self.telephone_event_pt = telephone_event_pt
        self.stream.set_codec(codec, pt)
        self.stream.telephone_event_pt = telephone_event_pt
        s = self.session
        s.accepted_payload_types = {pt} | ({telephone_event_pt} if telephone_event_pt else set())
        s.telephone_event_pt = telephone_event_pt
        s.set_remote(addr, port, rtcp_port)
        self.inband_dtmf = telephone_event_pt is None if inband_dtmf is None else inband_dtmf
        listening = self.inband_dtmf or self._listeners > 0
        self._detector = (self._detector or DtmfDetector()) if listening else None
        now = asyncio.get_running_loop().time()
        self._remote_since = now
        if s.next_rtcp is None:
            s.schedule_rtcp(now)
        if self._bridge is not None:
            self._bridge.refresh()

    # --- SRTP: a transform on the datagram, only on legs that negotiated it --------------
    # Plain legs never see it: an SRTP leg gets its own send method (an instance attribute
    # shadowing ``_send``, which the media clock calls) and its own datagram callback, so
    # the plain path has no per-packet test. RTCP (a few packets a second) just checks.
    def set_srtp(self, suite: str | None, local_key: bytes = b"", remote_key: bytes = b"") -> None:
        """Protect what this leg sends and unprotect what it receives (SRTP and SRTCP,
        RFC 3711) with SDES keys; ``suite`` None: plain RTP again. The same keys again
        (a re-INVITE) keep the running context (its rollover counters)."""
        if suite is None:
            self.srtp = None
            self.__dict__.pop("_send", None)
            on_rtp = self._on_rtp
        else:
            if self.srtp is not None and self.srtp.same_keys(suite, local_key, remote_key):
                return
            self.srtp = SrtpContext(suite, local_key, remote_key)
            self._send = self._send_srtp  # type: ignore[method-assign]
            on_rtp = self._on_srtp
        if self._rtp_protocol is not None:
            self._rtp_protocol.on_datagram = on_rtp

    def _send_srtp(self, pkt: bytes) -> None:
        assert self.srtp is not None
        MediaLeg._send(self, self.srtp.protect(pkt))

    def _on_srtp(self, data: bytes, addr: tuple[str, int]) -> None:
        srtp = self.srtp
        plain = srtp.unprotect(data) if srtp is not None else data
        if plain is not None:  # a forged or replayed packet is dropped (and counted)
            self._on_rtp(plain, addr)

    # --- receive path --------------------------------------------------------------------
    def _on_rtp(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.closed:
            return
        now = self.engine.loop.time()
        pkt = self.session.receive(data, addr, now)
        if pkt is None:
            return
        if self._timed_out:
            self._timed_out = False
            self.events.put_nowait(RtpResumed())
        if pkt.payload_type == self.telephone_event_pt:
            for ev in self._rfc4733.receive(pkt.payload, pkt.timestamp, now):
                self._last_event_at = now
                self._on_digit(ev)
            return
        bridge = self._bridge
        if bridge is not None:
            bridge.relay(self, pkt.payload)
        if self._recorder is not None or self._detector is not None:
            pcm = g711.decode(pkt.payload, self.codec)
            if self._detector is not None:
                for ev in self._detector.feed(pcm):
                    # A phone that sends RFC 4733 may leave the tone in the audio too:
                    # one key, not two.
                    if now - self._last_event_at > INBAND_AFTER_EVENT:
                        self._on_digit(ev)
            if self._recorder is not None:
                self._recorder.feed(pcm, pkt.timestamp)

    def _on_rtcp(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.closed:
            return
        if self.srtp is not None:
            plain = self.srtp.unprotect_rtcp(data)
            if plain is None:
                return
            data = plain
        # One parse, in the session: SR, report blocks and XR VoIP metrics together.
        self.session.receive_rtcp(data, addr, self.engine.loop.time())

    def set_quality(self, r: float, mos: float) -> None:
        """The latest E-model estimate of the received stream, reported in our RTCP XR."""
        self.quality_hint = (r, mos)

    def _rtcp_report(self, now: float) -> bytes:
        """Our SR/RR + SDES, plus an XR VoIP metrics block about the stream we receive."""
        data = self.session.build_rtcp(now)
        snap = self.rx_stats.snapshot()
        if snap.ssrc is not None and snap.decided:
            rtt = self.remote_stats.rtt_ms
            metrics = voip_metrics_from_figures(
                snap,
                ssrc=snap.ssrc,
                round_trip_delay_ms=rtt or 0.0,
                jb_nominal_ms=self.rx_stats.playout_delay * 1000.0,
                r_factor=self.quality_hint[0] if self.quality_hint else None,
                mos_lq=self.quality_hint[1] if self.quality_hint else None,
            )
            data += build_xr_packet(self.session.ssrc, [metrics])
        return data

    def _on_digit(self, ev: DigitEvent) -> None:
        self.events.put_nowait(ev)
        self._digits.append(ev.digit)
        waiters, self._digit_waiters = self._digit_waiters, []
        for f in waiters:
            if not f.done():
                f.set_result(ev.digit)
        rec = self._recorder
        if rec is not None and rec.stop_on_hash and ev.digit == "#":
            rec.finish("hash")
        if self._bridge is not None and ev.source == "rfc4733":
            self._bridge.relay_digit(self, ev)

    def _housekeeping(self, now: float) -> None:
        for ev in self._rfc4733.poll(now):
            self._on_digit(ev)
        s = self.session
        if s.remote_rtcp is not None and s.rtcp_due(now):
            self._send_rtcp(self._rtcp_report(now))
        timeout = self.engine.no_rtp_timeout
        since = s.last_received if s.last_received is not None else self._remote_since
        if timeout and since is not None and not self._timed_out and now - since >= timeout:
            self._timed_out = True
            self.events.put_nowait(RtpTimeout(timeout))

    # --- send path (called by the engine's clock task) -----------------------------------
    def _send(self, pkt: bytes) -> None:
        try:
            self._sock.sendto(pkt, self.session.remote_rtp)  # type: ignore[arg-type]
        except BlockingIOError:
            if self._rtp_transport is not None:
                self._rtp_transport.sendto(pkt, self.session.remote_rtp)
        except OSError as exc:
            log.debug("RTP send to %s failed: %s", self.session.remote_rtp, exc)

    def _send_rtcp(self, data: bytes) -> None:
        if self._rtcp_transport is not None and self.session.remote_rtcp is not None:
            if self.srtp is not None:
                data = self.srtp.protect_rtcp(data)
            self._rtcp_transport.sendto(data, self.session.remote_rtcp)

    # --- digits --------------------------------------------------------------------------
    def flush_digits(self) -> None:
        """Forget digits keyed ahead (before a menu that must not use type-ahead)."""
        self._digits.clear()

    def _listen(self, on: bool) -> None:
        """In-band detection runs where the leg has no telephone-event, and on every leg
        while a dialogue waits for a key (a phone may send in-band tones all the same)."""
        self._listeners += 1 if on else -1
        if on and self._detector is None:
            self._detector = DtmfDetector()
        elif not on and self._listeners == 0 and not self.inband_dtmf:
            self._detector = None

    async def _wait_digit(self, timeout: float | None, *, consume: bool = True) -> str | None:
        """The next digit (type-ahead first); None on timeout; raises _Hangup when closed."""
        if self.closed:
            raise _Hangup
        if self._digits:
            return self._digits.popleft() if consume else self._digits[0]
        fut: asyncio.Future[str | None] = self.engine.loop.create_future()
        self._digit_waiters.append(fut)
        self._listen(True)
        try:
            got = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return None
        finally:
            self._listen(False)
        if got is None:
            raise _Hangup
        if consume and self._digits:
            return self._digits.popleft()
        return got

    async def collect_digits(
        self,
        max_digits: int,
        first_timeout: float,
        inter_timeout: float,
        terminator: str | None = "#",
    ) -> DigitResult:
        """Collect up to ``max_digits`` digits (RFC 4733 or in-band, type-ahead included)."""
        if max_digits < 1:
            raise MediaError(f"collect_digits: max_digits must be >= 1, got {max_digits}")
        digits = ""
        timeout = first_timeout
        try:
            while True:
                d = await self._wait_digit(timeout)
                if d is None:
                    return DigitResult(digits, "timeout")
                if terminator and d == terminator:
                    return DigitResult(digits, "terminator")
                digits += d
                if len(digits) >= max_digits:
                    return DigitResult(digits, "max")
                timeout = inter_timeout
        except _Hangup:
            return DigitResult(digits, "hangup")

    async def send_dtmf(self, digits: str, duration: float = 0.1) -> None:
        """Send digits to the peer: RFC 4733 if negotiated, else as in-band tones."""
        for d in digits:
            self._require_open()
            fut: asyncio.Future[None] = self.engine.loop.create_future()

            def on_done(f: asyncio.Future[None] = fut) -> None:
                if not f.done():
                    f.set_result(None)

            self.stream.send_dtmf(d, duration, on_done=on_done)
            await fut

    # --- playback ------------------------------------------------------------------------
    async def play(
        self,
        prompts: Sequence[Prompt | str | Path],
        loop: bool = False,
        *,
        interrupt_digits: str = "",
    ) -> PlayResult:
        """Play prompts in order (``loop=True``: music on hold until stopped or cancelled).

        A digit in ``interrupt_digits`` stops playback; the digit stays for collect_digits.
        """
        self._require_open()
        encoded = [self.engine.prompt_cache.get(p, self.codec) for p in prompts]
        done: asyncio.Future[str] = self.engine.loop.create_future()

        def on_done(_p: Player, reason: str) -> None:
            if not done.done():
                done.set_result(reason)

        player = Player(encoded, loop=loop, on_done=on_done)
        self.stream.play(player)
        digit_task: asyncio.Task[str | None] | None = None
        try:
            if interrupt_digits:
                digit_task = asyncio.ensure_future(self._interrupt(interrupt_digits))
                pending: set[asyncio.Future[Any]] = {done, digit_task}
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if not done.done() and digit_task.done() and digit_task.result() is not None:
                    self._stop_player(player, "digit")
                    return PlayResult("digit", player.frames_sent, digit_task.result())
            reason = await done
        finally:
            if digit_task is not None:
                digit_task.cancel()
            self._stop_player(player, "stopped")  # cancelled: stop sending this prompt
        return PlayResult(reason, player.frames_sent)  # type: ignore[arg-type]

    async def _interrupt(self, accept: str) -> str | None:
        while True:
            try:
                d = await self._wait_digit(None, consume=False)
            except _Hangup:
                return None
            if d is not None and d in accept:
                return d
            if d is not None and self._digits and self._digits[0] == d:
                self._digits.popleft()  # not a barge-in digit: drop it so we do not spin

    def _stop_player(self, player: Player, reason: str) -> None:
        if self.stream.player is player:
            self.stream.stop_playback(reason)
        else:
            player.finish(reason)

    def stop_playback(self) -> None:
        self.stream.stop_playback("stopped")

    async def say_number(self, n: int, lang: str) -> PlayResult:
        return await self.play(self.engine.prompts.number(n, lang))

    async def say_duration(self, seconds: float, lang: str) -> PlayResult:
        return await self.play(self.engine.prompts.duration(seconds, lang))

    # --- recording -----------------------------------------------------------------------
    async def record(
        self,
        path: Path | str,
        max_seconds: float,
        stop_on_hash: bool = True,
        silence_seconds: float | None = None,
        *,
        silence_level_dbfs: float = -45.0,
    ) -> RecordResult:
        """Record what the peer sends to an 8 kHz mono 16-bit WAV file."""
        self._require_open()
        if max_seconds <= 0:
            raise MediaError(f"record: max_seconds must be positive, got {max_seconds}")
        if self._recorder is not None:
            raise MediaError("record: this leg is already recording")
        path = Path(path)
        level = 32768.0 * 10 ** (silence_level_dbfs / 20)
        sil = None if not silence_seconds else max(1, int(silence_seconds * RATE / FRAME_SAMPLES))
        rec = _Recorder(int(max_seconds * RATE), sil, level, stop_on_hash)
        self._recorder = rec
        reason = "stopped"
        try:
            # Wall-clock guard: a peer that stops sending still ends the recording.
            reason = await asyncio.wait_for(asyncio.shield(rec.done), max_seconds + 2.0)
        except TimeoutError:
            reason = "max"
        finally:
            self._recorder = None
            rec.finish(reason)
            if reason == "hash" and self._digits and self._digits[-1] == "#":
                self._digits.pop()  # the '#' ended the recording; it is not type-ahead
            pcm = rec.audio()
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(path), pcm, RATE, subtype="PCM_16")
        if self.closed:
            reason = "hangup"
        return RecordResult(path, len(pcm) / RATE, reason)  # type: ignore[arg-type]

    # --- lifecycle -----------------------------------------------------------------------
    def _require_open(self) -> None:
        if self.closed:
            raise MediaError(f"media leg on port {self.local_port} is closed")

    async def close(self) -> None:
        """Stop everything on the leg (operations end with reason "hangup") and free ports."""
        if self.closed:
            return
        self.closed = True
        now = self.engine.loop.time()
        if self.session.remote_rtcp is not None and self.session.counters.packets_sent:
            with contextlib.suppress(OSError):
                self._send_rtcp(self.session.build_rtcp(now, bye=True))
        if self._bridge is not None:
            self._bridge._end("hangup")
        self.stream.stop_playback("hangup")
        self.engine._detach(self)
        waiters, self._digit_waiters = self._digit_waiters, []
        for f in waiters:
            if not f.done():
                f.set_result(None)
        if self._recorder is not None:
            self._recorder.finish("hangup")
        for t in (self._rtp_transport, self._rtcp_transport):
            if t is not None:
                t.close()
        self.events.put_nowait(LegClosed())


class _Hangup(Exception):
    pass


class Bridge:
    """Relays audio and RFC 4733 digits between two legs, each into its own RTP stream."""

    def __init__(self, a: MediaLeg, b: MediaLeg) -> None:
        if a is b:
            raise MediaError("cannot bridge a leg to itself")
        for leg in (a, b):
            leg._require_open()
            if leg._bridge is not None:
                raise MediaError(f"leg on port {leg.local_port} is already bridged")
        self.a, self.b = a, b
        self._loop = a.engine.loop
        self.started = self._loop.time()
        self._result: asyncio.Future[BridgeResult] = self._loop.create_future()
        self._tables: dict[MediaLeg, bytes | None] = {}
        a._bridge = b._bridge = self
        self.refresh()
        a.stream.start_bridge()
        b.stream.start_bridge()

    def refresh(self) -> None:
        """Recompute transcoding after a codec change (re-INVITE)."""
        a, b = self.a, self.b
        same = a.codec == b.codec
        self._tables[a] = None if same else g711.transcode_table(a.codec, b.codec)
        self._tables[b] = None if same else g711.transcode_table(b.codec, a.codec)

    def relay(self, src: MediaLeg, payload: bytes) -> None:
        dst = self.b if src is self.a else self.a
        table = self._tables[src]
        dst.stream.push_bridge_audio(payload if table is None else payload.translate(table))

    def relay_digit(self, src: MediaLeg, ev: DigitEvent) -> None:
        dst = self.b if src is self.a else self.a
        dst.stream.send_dtmf(ev.digit, max(ev.duration, 0.04))

    def stop(self) -> None:
        """Unbridge; both legs go back to idle (silence) and can play prompts again."""
        self._end("stopped")

    def _end(self, reason: str) -> None:
        if self._result.done():
            return
        for leg in (self.a, self.b):
            if leg._bridge is self:
                leg._bridge = None
                leg.stream.stop_bridge()
        self._result.set_result(BridgeResult(reason, self._loop.time() - self.started))  # type: ignore[arg-type]

    async def wait(self) -> BridgeResult:
        return await asyncio.shield(self._result)


_heap_frozen = False


def _freeze_startup_heap() -> None:
    """Once per process: what exists at the first engine start (imported modules,
    configuration) lives as long as the process. Out of the collector's sight, a full
    collection takes ~6 ms with 1,000 legs instead of 200-300 ms, a pause that every
    outgoing stream would feel. Garbage is collected first so that none is frozen with it."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()


class MediaEngine:
    """Owns the RTP port range, the one media clock task and the prompt cache."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port_min: int = 20000,
        port_max: int = 20999,
        prompt_dir: Path | str = Path("prompts/standard"),
        no_rtp_timeout: float | None = 30.0,
        *,
        phases: int = 8,
        max_catch_up: int = 3,
        send_lead: float = 0.0008,
        idle_fill: bool = True,
        socket_buffer: int = 1 << 18,
    ) -> None:
        self.host = host
        self.ports = PortAllocator(port_min, port_max)
        self.prompt_cache = PromptCache()
        self.prompts = PromptLibrary(Path(prompt_dir))
        self.no_rtp_timeout = no_rtp_timeout
        self.idle_fill = idle_fill
        self.socket_buffer = socket_buffer
        self._phases = phases
        # Without a precise timer (media/timer.py) the event loop's timers fire up to ~1 ms late
        # (epoll's millisecond timeout is rounded up); running each sub-tick this much early
        # centres send times on the grid. With it the lead adapts to the batches' duration.
        self.send_lead = send_lead
        self._max_catch_up = max_catch_up
        self.legs: set[MediaLeg] = set()
        self.clock: MediaClock | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Optional measurement hook, called per sub-tick batch with (grid time, time before
        # the first packet, time after the last packet, packet count); used by the benchmark.
        self.send_probe: Callable[[float, float, float, int], None] | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise MediaError("MediaEngine not started: await engine.start() first")
        return self._loop

    async def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        _freeze_startup_heap()
        self.clock = MediaClock(
            self._loop.time(), phases=self._phases, max_catch_up=self._max_catch_up
        )
        self._task = asyncio.create_task(self._run_clock(), name="media-clock")

    async def close(self) -> None:
        for leg in list(self.legs):
            await leg.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run_clock(self) -> None:
        clock = self.clock
        assert clock is not None
        loop = self.loop
        wake = PreciseWake(loop)  # asyncio timers wake up to 1 ms late; a timerfd does not
        precise = wake.precise
        lead = 0.0 if precise else self.send_lead
        max_lead = clock.step / 2
        # RTCP, no-RTP and lost-DTMF-end checks: a slice of the legs per sub-tick, so that a
        # thousand legs' checks (a few ms) never hold up one sub-tick's sends.
        pending: list[MediaLeg] = []
        per_subtick = 1
        next_housekeeping = loop.time()
        try:
            while True:
                target = clock.next_deadline() - lead
                if target > loop.time():
                    await wake.until(target)
                else:
                    # Behind (overload): still let sockets and signalling run once per round,
                    # or a clock that never catches up starves the whole loop.
                    await asyncio.sleep(0)
                now = loop.time()
                probe = self.send_probe
                for grid, packets in clock.tick_batches(now + lead):
                    first = loop.time()
                    for leg_stream, pkt in packets:
                        leg_stream.owner._send(pkt)  # type: ignore[attr-defined]
                    if not packets:
                        continue
                    last = loop.time()
                    if probe is not None:
                        probe(grid, first, last, len(packets))
                    if precise:
                        # Centre each batch on its grid time: lead follows half its duration
                        # plus the wake-up latency (bounded, so a stall does not swing it).
                        off = min(max((first + last) / 2 - grid, -0.001), 0.001)
                        lead = min(max(lead + 0.05 * off, 0.0), max_lead)
                if not pending and now >= next_housekeeping:
                    next_housekeeping = now + HOUSEKEEPING_INTERVAL
                    pending = list(self.legs)
                    rounds = max(1, int(HOUSEKEEPING_INTERVAL / clock.step) - 1)
                    per_subtick = -(-len(pending) // rounds)
                for _ in range(min(per_subtick, len(pending))):
                    leg = pending.pop()
                    if leg.closed:
                        continue
                    try:
                        leg._housekeeping(now)
                    except Exception:
                        log.exception("media housekeeping failed on port %s", leg.local_port)
        finally:
            wake.close()

    async def open_leg(self) -> MediaLeg:
        """Bind an even RTP port (and port + 1 for RTCP) from the range."""
        loop = self.loop
        if self.clock is None:
            raise MediaError("MediaEngine not started: await engine.start() first")
        for port in self.ports.candidates():
            rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtp.bind((self.host, port))
                rtcp.bind((self.host, port + 1))
            except OSError:
                rtp.close()
                rtcp.close()
                continue
            for s in (rtp, rtcp):
                s.setblocking(False)
            with contextlib.suppress(OSError):
                rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.socket_buffer)
            self.ports.in_use.add(port)
            leg = MediaLeg(self, port, rtp)
            leg._rtp_transport, leg._rtp_protocol = await loop.create_datagram_endpoint(
                functools.partial(_Protocol, leg._on_rtp), sock=rtp
            )
            leg._rtcp_transport, _ = await loop.create_datagram_endpoint(
                functools.partial(_Protocol, leg._on_rtcp), sock=rtcp
            )
            self.legs.add(leg)
            self.clock.add(leg.stream)
            return leg
        self.ports.failures += 1
        raise MediaError(
            f"no free RTP port pair in {self.ports._ports[0]}-{self.ports._ports[-1] + 1}"
            f" ({len(self.ports.in_use)} in use): widen the configured RTP port range"
        )

    def bridge(self, leg_a: MediaLeg, leg_b: MediaLeg) -> Bridge:
        """Connect two legs both ways until ``stop()`` or a hangup."""
        return Bridge(leg_a, leg_b)

    def _detach(self, leg: MediaLeg) -> None:
        self.legs.discard(leg)
        if self.clock is not None:
            self.clock.remove(leg.stream)
        self.ports.release(leg.local_port)
