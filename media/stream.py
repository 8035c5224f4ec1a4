"""What one leg sends in each 20 ms frame: prompts, bridged audio, DTMF, or idle silence.

Sans-IO: the media clock calls ``next_packet()`` once per frame and sends what it returns.
Our RTP timestamp advances by one frame every frame whatever the source, so it stays
monotonic across prompt -> bridge -> prompt switches. The marker bit flags the first packet
of a talkspurt only (RFC 3551 4.1): after a gap (the stream's first packet, skipped frames,
an RFC 4733 event) or when a prompt, a bridge or an in-band tone starts. Idle silence is no
talkspurt: it continues the stream unmarked, so prompt -> silence -> prompt marks once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from . import g711
from .dtmf_detect import dtmf_tone
from .prompts import FRAME_SAMPLES, EncodedPrompt
from .rfc4733 import Rfc4733Sender
from .rtp import RtpSession

MAX_BRIDGE_BUFFER = 10 * FRAME_SAMPLES  # 200 ms: more means the peer is bursting; drop oldest
_IDLE = object()  # the source of idle silence frames


class Player:
    """Iterates the frames of a prompt list (once, or looping for music on hold)."""

    def __init__(
        self,
        prompts: Sequence[EncodedPrompt],
        *,
        loop: bool = False,
        on_done: Callable[[Player, str], None] | None = None,
    ) -> None:
        self._frames = [f for p in prompts for f in p.frames]
        self.loop = loop and bool(self._frames)
        self.on_done = on_done
        self._pos = 0
        self.frames_sent = 0
        self.finished: str | None = None

    def next_frame(self) -> bytes | None:
        if self._pos >= len(self._frames):
            if not self.loop:
                return None
            self._pos = 0
        f = self._frames[self._pos]
        self._pos += 1
        self.frames_sent += 1
        return f

    def finish(self, reason: str) -> None:
        if self.finished is None:
            self.finished = reason
            if self.on_done is not None:
                self.on_done(self, reason)


class _ToneSender:
    """A DTMF digit as in-band audio frames, for peers without telephone-event."""

    def __init__(self, frames: Sequence[bytes], on_done: Callable[[], None] | None) -> None:
        self._frames = deque(frames)
        self.on_done = on_done
        self.done = False

    def step(self) -> bytes | None:
        frame = self._frames.popleft() if self._frames else None
        self.done = not self._frames
        return frame


class OutboundStream:
    """The outgoing RTP stream of one leg."""

    def __init__(
        self,
        session: RtpSession,
        codec: str = "PCMU",
        *,
        telephone_event_pt: int | None = None,
        idle_fill: bool = True,
        owner: object = None,
    ) -> None:
        self.session = session
        self.owner = owner
        self.idle_fill = idle_fill
        self.telephone_event_pt = telephone_event_pt
        self.set_codec(codec, session.payload_type)
        self.player: Player | None = None
        self.bridge_buffer: bytearray | None = None
        self.bridge_dropped = 0
        self._dtmf: deque[tuple[Rfc4733Sender | _ToneSender, Callable[[], None] | None]] = deque()
        self._event_ts: int | None = None
        # Marker state: the source of the last packet (a Player, the bridge buffer, a tone,
        # _IDLE), whether a gap came since, and whether the last packet sent was marked.
        self._source: object = None
        self._after_gap = True
        self._last_marked = False

    def set_codec(self, codec: str, payload_type: int) -> None:
        self.codec = codec
        self.session.payload_type = payload_type
        self._silence = g711.silence_frame(codec, FRAME_SAMPLES)

    # --- sources -------------------------------------------------------------------------
    def play(self, player: Player) -> None:
        if self.player is not None:
            self.player.finish("stopped")
        self.player = player

    def stop_playback(self, reason: str = "stopped") -> None:
        if self.player is not None:
            p, self.player = self.player, None
            p.finish(reason)

    def start_bridge(self) -> None:
        self.bridge_buffer = bytearray()

    def stop_bridge(self) -> None:
        self.bridge_buffer = None

    def push_bridge_audio(self, payload: bytes) -> None:
        buf = self.bridge_buffer
        if buf is None:
            return
        buf += payload
        over = len(buf) - MAX_BRIDGE_BUFFER
        if over > 0:
            del buf[:over]
            self.bridge_dropped += over

    def send_dtmf(
        self,
        digit: str,
        duration: float = 0.1,
        on_done: Callable[[], None] | None = None,
        volume: int = 10,
    ) -> None:
        if self.telephone_event_pt is not None:
            self._dtmf.append((Rfc4733Sender(digit, duration, volume=volume), on_done))
        else:
            pcm = dtmf_tone(digit, duration, level_dbm0=-volume)
            enc = g711.encode(pcm, self.codec)
            frames = [enc[i : i + FRAME_SAMPLES] for i in range(0, len(enc), FRAME_SAMPLES)]
            frames[-1] = frames[-1].ljust(FRAME_SAMPLES, self._silence[:1])
            self._dtmf.append((_ToneSender(frames, None), on_done))

    # --- the clock's interface ------------------------------------------------------------
    def next_packet(self) -> bytes | None:
        s = self.session
        if s.remote_rtp is None:
            self._gap()
            s.advance(FRAME_SAMPLES)
            return None
        if self._dtmf:
            pkt = self._dtmf_packet()
            if pkt is None:
                self._last_marked = False  # a frame without a packet: no longer adjacent
            s.advance(FRAME_SAMPLES)
            return pkt
        payload: bytes | None = None
        source: object = None
        player = self.player
        if player is not None:
            payload = player.next_frame()
            if payload is None:
                self.player = None
                player.finish("done")  # may start a bridge for this very frame
            else:
                source = player
        if payload is None:
            buf = self.bridge_buffer
            if buf is not None:
                if len(buf) >= FRAME_SAMPLES:
                    payload = bytes(buf[:FRAME_SAMPLES])
                    del buf[:FRAME_SAMPLES]
                    source = buf
            elif self.idle_fill:
                payload = self._silence
                source = _IDLE
        if payload is None:
            self._gap()
            s.advance(FRAME_SAMPLES)
            return None
        pkt = s.build(payload, marker=self._marker(source))
        s.advance(FRAME_SAMPLES)
        return pkt

    def _gap(self) -> None:
        """A frame without a packet: the next packet starts a talkspurt."""
        self._after_gap = True
        self._last_marked = False

    def _marker(self, source: object) -> bool:
        """Whether this frame's packet (from ``source``) is the first of a talkspurt."""
        if self._after_gap:
            marker = True
        elif source is _IDLE or source is self._source:
            marker = False
        else:
            # A new source right after a marked packet joins that talkspurt: the receiver
            # has just re-anchored its playout, and RFC 3551 marks only the first packet.
            marker = not self._last_marked
        self._source = source
        self._after_gap = False
        self._last_marked = marker
        return marker

    def _dtmf_packet(self) -> bytes | None:
        sender, on_done = self._dtmf[0]
        # Audio of other sources is paused (prompts) or dropped (bridge) during an event.
        buf = self.bridge_buffer
        if buf is not None:
            del buf[:FRAME_SAMPLES]
        pkt: bytes | None = None
        if isinstance(sender, _ToneSender):
            frame = sender.step()
            if frame is not None:
                pkt = self.session.build(frame, marker=self._marker(sender))
        else:
            if self._event_ts is None:
                self._event_ts = self.session.timestamp  # all packets of one event share it
            step = sender.step()
            if step is not None:
                payload, marker = step
                pkt = self.session.build(
                    payload,
                    marker=marker,
                    payload_type=self.telephone_event_pt,
                    timestamp=self._event_ts,
                )
                self._last_marked = marker
        if sender.done:
            self._dtmf.popleft()
            if self._event_ts is not None:
                self._after_gap = True  # audio resumes after the event's duration
            self._event_ts = None
            if on_done is not None:
                on_done()
        return pkt

    def skip_frames(self, n: int) -> None:
        """The clock fell behind: these frames are not sent, but time (timestamps) moves on."""
        self.session.advance(FRAME_SAMPLES * n)
        self.session.counters.frames_skipped += n
        self._gap()
