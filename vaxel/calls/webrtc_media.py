"""Audio between a browser's WebRTC peer connection (aiortc) and one engine ``MediaLeg``.

The browser's call leg is an ordinary leg of the media engine: bridged, played to and rated
like a phone's. What reaches it comes from this adapter over a UDP socket on the media
address, as 20 ms PCMU packets at 8 kHz, so nothing in ``media/`` knows about WebRTC:

- browser -> engine (``Uplink``): the decoded frames of the browser's track (Opus: 48 kHz
  stereo; PCMU: 8 kHz mono) are resampled to 8 kHz mono by libswresample (PyAV, with its
  low-pass filter) and cut into 20 ms PCMU packets. Their sequence numbers and timestamps
  follow the browser's own RTP timestamps: a packet lost between the browser and the server
  is a gap that the leg's receive statistics count, so the MOS of the browser leg is
  measured by the same code as every other leg's.
- engine -> browser (``BridgeTrack``): the leg's packets, paced by the engine's one media
  clock, are decoded and become the frames of an outgoing aiortc ``MediaStreamTrack``
  (aiortc's encoder resamples them to 48 kHz for Opus). Between calls, or when the engine
  sends nothing, the track paces silence itself at 20 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import secrets
from collections import deque
from collections.abc import Callable

import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RtpPacket

from media import MediaLeg, g711

log = logging.getLogger("vaxel.webrtc")

RATE = 8000
FRAME = 160  # samples in 20 ms at 8 kHz
FRAME_SECONDS = FRAME / RATE
MAX_QUEUED = 5  # 100 ms: frames the browser has not taken yet are dropped beyond this
_SILENCE = np.zeros(FRAME, dtype=np.int16)
_TIME_BASE = fractions.Fraction(1, RATE)


class BridgeTrack(MediaStreamTrack):
    """What the browser hears: the engine's frames when a call is on, silence otherwise."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._frames: deque[npt.NDArray[np.int16]] = deque(maxlen=MAX_QUEUED)
        self._arrived = asyncio.Event()
        self._pts = 0
        self._due: float | None = None
        self.frames_sent = 0  # frames that came from the engine (not silence)

    def push(self, pcm: npt.NDArray[np.int16]) -> None:
        """One 20 ms frame from the engine (the oldest is dropped if the browser lags)."""
        self._frames.append(pcm)
        self._arrived.set()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._due is None:
            self._due = loop.time()
        if not self._frames:
            # Wait for the engine's next frame up to half a frame after it was due.
            self._arrived.clear()
            wait = self._due + FRAME_SECONDS / 2 - loop.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), max(wait, 0.0))
        now = loop.time()
        if self._frames:
            pcm = self._frames.popleft()
            self.frames_sent += 1
            self._due = now + FRAME_SECONDS  # the engine's clock paces the stream
        else:
            pcm = _SILENCE
            # A stall (a busy loop) does not turn into a burst of catching-up frames.
            self._due = max(self._due + FRAME_SECONDS, now - 5 * FRAME_SECONDS)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = _TIME_BASE
        self._pts += FRAME
        return frame


class Uplink:
    """The browser's decoded audio as 20 ms PCMU RTP packets for the engine leg."""

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        self._pending = np.zeros(0, dtype=np.int16)
        self._seq = secrets.randbelow(1 << 16)
        self._ts = secrets.randbelow(1 << 32)
        self._ssrc = secrets.randbelow(1 << 32)
        self._next_pts: int | None = None
        self.frames_in = 0
        self.packets_lost = 0  # 20 ms packets missing in the browser's stream

    def packets(self, frame: av.AudioFrame) -> list[bytes]:
        """RTP packets (PCMU, 20 ms) for one decoded frame of the browser's track."""
        self.frames_in += 1
        rate = frame.sample_rate or RATE
        if frame.pts is not None:
            if self._next_pts is not None and frame.pts > self._next_pts:
                # The browser's timestamps jumped: packets were lost on the way (or the
                # browser paused sending). Skip as many 20 ms packets in our numbering.
                gap = round((frame.pts - self._next_pts) * RATE / rate)
                log.debug(
                    "uplink gap pts %s expected %s samples %s rate %s",
                    frame.pts,
                    self._next_pts,
                    frame.samples,
                    rate,
                )
                if 0 < gap < 10 * RATE:
                    skipped = round(gap / FRAME)
                    self.packets_lost += skipped
                    self._seq = (self._seq + skipped) & 0xFFFF
                    self._ts = (self._ts + skipped * FRAME) & 0xFFFFFFFF
            self._next_pts = frame.pts + frame.samples
        pcm = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        if pcm:
            self._pending = np.concatenate([self._pending, *pcm]).astype(np.int16)
        out: list[bytes] = []
        while len(self._pending) >= FRAME:
            chunk, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            pkt = RtpPacket(
                payload_type=0,
                sequence_number=self._seq,
                timestamp=self._ts,
                ssrc=self._ssrc,
                payload=g711.encode(chunk, "PCMU"),
            )
            out.append(pkt.serialize())
            self._seq = (self._seq + 1) & 0xFFFF
            self._ts = (self._ts + FRAME) & 0xFFFFFFFF
        return out


class _GatewayProtocol(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes], None]) -> None:
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.on_datagram(data)

    def error_received(self, exc: Exception) -> None:
        log.debug("webrtc gateway socket error: %s", exc)


class LegGateway:
    """The UDP socket between the adapter and one engine leg (for one call)."""

    def __init__(self, leg: MediaLeg, track: BridgeTrack) -> None:
        self.leg = leg
        self.track = track
        self._transport: asyncio.DatagramTransport | None = None
        self.packets_to_leg = 0
        self.packets_from_leg = 0

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        host = self.leg.engine.host
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _GatewayProtocol(self._from_leg), local_addr=(host, 0)
        )
        self._transport = transport
        port = transport.get_extra_info("sockname")[1]
        # PCMU both ways, no telephone-event (the page has no keypad) and no in-band
        # detection: the leg's own RTCP comes here too and is ignored.
        self.leg.set_remote(host, port, "PCMU", 0, None, rtcp_port=port, inband_dtmf=False)

    def _from_leg(self, data: bytes) -> None:
        if len(data) < 12 or 200 <= data[1] <= 204:  # RTCP from the leg
            return
        try:
            pkt = RtpPacket.parse(data)
        except ValueError:
            return
        if pkt.payload_type != 0:
            return
        self.packets_from_leg += 1
        self.track.push(g711.decode(pkt.payload, "PCMU"))

    def send(self, packets: list[bytes]) -> None:
        transport = self._transport
        if transport is None or self.leg.closed:
            return
        dest = (self.leg.engine.host, self.leg.local_port)
        for pkt in packets:
            transport.sendto(pkt, dest)
            self.packets_to_leg += 1

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
