"""The agent page as a phone: one WebRTC peer connection per agent, rung by the ACD.

``BrowserPhones`` holds, per agent, the page's signalling socket (``attach``) and its peer
connection (``connect``: the page's SDP offer in, Vaxel's answer out; aiortc does ICE with
host candidates on the media address, DTLS-SRTP, Opus or PCMU). The connection stays up
while the agent is logged in on the browser, so a call rings without any ICE delay.

A call offered to device ``browser:<agent>`` (``AgentDialer``) opens an ordinary engine
leg and hands it to ``BrowserPhone.offer``: the page is told ``ringing`` (queue, caller);
``answer-call`` from the page is the agent answering, ``hang-up`` a decline or the agent
hanging up. A page whose socket closes, or whose connection fails, is a phone that went
away: the offer fails or the call ends (``CallHooks.gone``).

Messages on the socket are JSON objects with a ``type``: from Vaxel ``hello``, ``ringing``,
``connected``, ``ended``, ``error``; from the page ``answer-call``, ``hang-up``, ``ping``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtcpRrPacket, RtcpSrPacket

from media import MediaLeg, ReceiveStats, RemoteStats
from vaxel.logs import log_event

from .webrtc_media import BridgeTrack, LegGateway, Uplink

log = logging.getLogger("vaxel.webrtc")

BROWSER_DEVICE = "browser:"  # "browser:1001": agent 1001's page (this module)
CODECS = ("opus", "PCMU")  # what Vaxel answers with, in the page's order of preference
MAX_SDP = 32 * 1024  # a browser offer is a few kB


class OfferError(ValueError):
    """An SDP offer Vaxel cannot answer; the message names the problem."""


_original_host_addresses = aioice.ice.get_host_addresses


def use_media_address(host: str) -> None:
    """Gather ICE host candidates on the configured media address only.

    aioice offers every interface's address except 127.0.0.1; Vaxel's media belongs on
    ``[rtp] host`` (which is 127.0.0.1 on a one-machine setup and in the tests). An
    unspecified address (0.0.0.0) keeps aioice's own choice. Process-wide: aioice reads
    this function at each gathering.
    """
    if host in ("", "0.0.0.0", "::"):
        aioice.ice.get_host_addresses = _original_host_addresses
        return

    def media_address(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [host]

    aioice.ice.get_host_addresses = media_address


def check_offer(sdp: object) -> str:
    """The offer's SDP text, or OfferError saying what is wrong with it."""
    if not isinstance(sdp, str) or not sdp.strip():
        raise OfferError("field 'sdp': expected the SDP offer as a string")
    if len(sdp) > MAX_SDP:
        raise OfferError(f"field 'sdp': {len(sdp)} characters, at most {MAX_SDP}")
    lines = [line.strip() for line in sdp.strip().splitlines()]
    if lines[0] != "v=0":
        raise OfferError("field 'sdp': not an SDP session description (must start with v=0)")
    audio = [line for line in lines if line.startswith("m=audio ")]
    if not audio:
        raise OfferError("field 'sdp': no audio stream (m=audio) in the offer")
    if not any(line.startswith("a=fingerprint:") for line in lines):
        raise OfferError("field 'sdp': no DTLS fingerprint (a=fingerprint): DTLS-SRTP is required")
    if not any(line.startswith("a=ice-ufrag:") for line in lines):
        raise OfferError("field 'sdp': no ICE credentials (a=ice-ufrag): ICE is required")
    names = {m.group(1).lower() for m in re.finditer(r"a=rtpmap:\d+ ([^/\s]+)/", sdp)}
    if not names & {c.lower() for c in CODECS}:
        raise OfferError(
            f"field 'sdp': no codec Vaxel speaks in the audio stream (offered "
            f"{sorted(names) or 'none'}; Vaxel needs one of {', '.join(CODECS)})"
        )
    return sdp


@dataclass
class CallHooks:
    """What the page's answers mean for the call (the dialer feeds them to the call core)."""

    answered: Callable[[], None]
    declined: Callable[[], None]
    gone: Callable[[str, bool], None]  # (reason, was answered)


@dataclass
class BrowserCall:
    key: str
    leg: MediaLeg
    gateway: LegGateway
    hooks: CallHooks
    queue: str | None
    caller: str | None
    # The browser's RTP as it arrives (before aiortc's jitter buffer and decoder): the
    # statistics the call's quality watch rates the browser leg with.
    rx_stats: ReceiveStats = field(default_factory=ReceiveStats)
    # What the browser's RTCP receiver reports say of the audio Vaxel sends it (loss,
    # jitter, and the round trip aiortc measures from them): the leg's far end and RTT.
    remote_stats: RemoteStats = field(default_factory=RemoteStats)
    answered: bool = False


Send = Callable[[dict[str, Any]], None]


class BrowserPhone:
    """One agent's page: its peer connection, its audio both ways and its current call."""

    def __init__(self, agent: str, send: Send) -> None:
        self.agent = agent
        self.send = send
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.track = BridgeTrack()
        self.uplink = Uplink()
        self.call: BrowserCall | None = None
        self.closed = False
        self._pump: asyncio.Task[None] | None = None
        self._clock_rates: dict[int, int] = {}  # payload type -> RTP clock rate (answer)
        self._send_rate = 8000  # clock rate of the codec Vaxel sends (the answer's first)
        self.on_lost: Callable[[BrowserPhone, str], None] = lambda phone, reason: None
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    @property
    def connected(self) -> bool:
        return not self.closed and self.pc.connectionState == "connected"

    async def answer_offer(self, offer: str) -> str:
        """Vaxel's SDP answer to the page's offer (after ICE gathering, no trickle)."""
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise OfferError(f"field 'sdp': the offer cannot be used: {exc}") from None
        audio = [t for t in self.pc.getTransceivers() if t.kind == "audio"]
        if not audio:
            raise OfferError("field 'sdp': no audio stream (m=audio) in the offer")
        audio[0].sender.replaceTrack(self.track)
        audio[0].direction = "sendrecv"
        try:
            await self.pc.setLocalDescription(await self.pc.createAnswer())
        except (ValueError, RuntimeError) as exc:
            raise OfferError(f"field 'sdp': no answer possible to this offer: {exc}") from None
        local = self.pc.localDescription
        assert local is not None
        for pt, rate in re.findall(r"a=rtpmap:(\d+) [^/\s]+/(\d+)", local.sdp):
            self._clock_rates[int(pt)] = int(rate)
        first = re.search(r"^m=audio \S+ \S+ (\d+)", local.sdp, re.MULTILINE)
        if first is not None:
            self._send_rate = self._clock_rates.get(int(first.group(1)), 8000)
        self._tap_reports(audio[0].sender)
        return local.sdp

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio" and self._pump is None:
            self._pump = asyncio.create_task(self._read(track), name=f"webrtc-in-{self.agent}")
            for transceiver in self.pc.getTransceivers():
                if transceiver.receiver.track is track:
                    self._tap(transceiver.receiver)

    def _tap(self, receiver: Any) -> None:
        """Account each RTP packet of the browser as it arrives, in the current call's
        statistics (aiortc's ``RTCRtpReceiver._handle_rtp_packet``, aiortc 1.16: the one
        place every decrypted packet passes; its own statistics have no playout model)."""
        handle = receiver._handle_rtp_packet
        loop = asyncio.get_running_loop()

        async def tapped(packet: Any, arrival_time_ms: int) -> None:
            call = self.call
            rate = self._clock_rates.get(packet.payload_type)
            if call is not None and rate is not None:
                call.rx_stats.on_packet(
                    packet.sequence_number, packet.timestamp, loop.time(), packet.ssrc, rate
                )
            await handle(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = tapped

    def _tap_reports(self, sender: Any) -> None:
        """The browser's receiver reports about our stream, into the call's RemoteStats
        (aiortc 1.16 ``RTCRtpSender._handle_rtcp_packet``, which also measures the RTT)."""
        handle = sender._handle_rtcp_packet
        loop = asyncio.get_running_loop()

        async def tapped(packet: Any) -> None:
            await handle(packet)
            call = self.call
            if call is None or not isinstance(packet, RtcpRrPacket | RtcpSrPacket):
                return
            for report in packet.reports:
                if report.ssrc != sender._ssrc:
                    continue
                remote = call.remote_stats
                rtt = getattr(sender, "_RTCRtpSender__rtt", None)
                if rtt is not None and rtt >= 0:
                    remote.rtt = rtt
                remote.fraction_lost = report.fraction_lost / 256.0
                remote.cumulative_lost = report.packets_lost
                remote.jitter_ms = report.jitter * 1000.0 / self._send_rate
                remote.updated_at = loop.time()

        sender._handle_rtcp_packet = tapped

    async def _read(self, track: MediaStreamTrack) -> None:
        """The browser's audio, always consumed (aiortc queues it without bound)."""
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            try:
                packets = self.uplink.packets(frame)  # type: ignore[arg-type]
            except (ValueError, av.FFmpegError) as exc:  # one bad frame, not a dead line
                log_event(
                    log, "webrtc.bad_frame", level=logging.WARNING, agent=self.agent, error=str(exc)
                )
                continue
            call = self.call
            if call is not None:
                call.gateway.send(packets)

    def _on_state(self) -> None:
        state = self.pc.connectionState
        log_event(log, "webrtc.connection", agent=self.agent, state=state)
        if state in ("failed", "closed") and not self.closed:
            self.on_lost(self, f"browser connection {state}")

    # --- calls ----------------------------------------------------------------------------
    async def offer(
        self, key: str, leg: MediaLeg, *, queue: str | None, caller: str | None, hooks: CallHooks
    ) -> None:
        """Ring the page for call ``key`` on engine leg ``leg``."""
        if self.call is not None:
            raise RuntimeError(f"agent {self.agent}'s browser already has call {self.call.key}")
        gateway = LegGateway(leg, self.track)
        await gateway.open()
        self.call = BrowserCall(key, leg, gateway, hooks, queue, caller)
        self.send({"type": "ringing", "call_id": key, "queue": queue, "caller": caller})

    def command(self, msg: dict[str, Any]) -> str | None:
        """A message from the page; an error text for the page, or None."""
        kind = msg.get("type")
        call = self.call
        if kind in ("answer-call", "hang-up"):
            if call is None or msg.get("call_id") not in (None, call.key):
                return f"{kind}: no such call ringing or connected on this browser"
            if kind == "answer-call":
                if not call.answered:
                    call.answered = True
                    call.hooks.answered()
                    self.send({"type": "connected", "call_id": call.key})
                return None
            answered = call.answered
            self.end(call.key, "hung up in the browser")
            if answered:
                call.hooks.gone("hangup", True)
            else:
                call.hooks.declined()
            return None
        return f"unknown message type {kind!r} (expected answer-call or hang-up)"

    def end(self, key: str, reason: str) -> None:
        """The call is over on this browser (either side, or the ring time passed)."""
        call = self.call
        if call is None or call.key != key:
            return
        self.call = None
        log_event(
            log,
            "webrtc.call_ended",
            agent=self.agent,
            call=key,
            **self.stats(),
            to_leg=call.gateway.packets_to_leg,
            from_leg=call.gateway.packets_from_leg,
        )
        call.gateway.close()
        self.send({"type": "ended", "call_id": key, "reason": reason})

    async def close(self, reason: str) -> None:
        """The page went away: its call fails or ends, the connection closes."""
        if self.closed:
            return
        self.closed = True
        call = self.call
        if call is not None:
            self.end(call.key, reason)
            call.hooks.gone(reason, call.answered)
        if self._pump is not None:
            self._pump.cancel()
        self.track.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()

    def stats(self) -> dict[str, Any]:
        """Counters of the adapter (logged when a call ends)."""
        return {
            "connection": self.pc.connectionState,
            "frames_from_browser": self.uplink.frames_in,
            "lost_from_browser": self.uplink.packets_lost,
            "frames_to_browser": self.track.frames_sent,
        }


class BrowserPhones:
    """Every agent's page that is open as a phone, by agent id."""

    def __init__(self, media_host: str) -> None:
        use_media_address(media_host)
        self._sockets: dict[str, Send] = {}
        self._phones: dict[str, BrowserPhone] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def attach(self, agent: str, send: Send) -> Send:
        """The page's signalling socket opened (a newer page replaces an older one)."""
        old = self._sockets.get(agent)
        self._sockets[agent] = send
        if old is not None:
            old({"type": "error", "message": "this agent's softphone was opened elsewhere"})
            self._drop_phone(agent, "the softphone was opened in another page")
        send({"type": "hello", "agent": agent})
        return send

    def detach(self, agent: str, send: Send) -> None:
        """The page's signalling socket closed: the browser is no longer a phone."""
        if self._sockets.get(agent) is send:
            del self._sockets[agent]
            self._drop_phone(agent, "browser disconnected")

    async def connect(self, agent: str, offer: object) -> str:
        """The page's SDP offer in, Vaxel's answer out (replaces an earlier connection)."""
        sdp = check_offer(offer)
        send = self._sockets.get(agent)
        if send is None:
            raise OfferError(
                f"open the softphone socket first (GET /api/agents/{agent}/softphone): "
                "it carries the calls"
            )
        self._drop_phone(agent, "replaced by a new browser connection")
        phone = BrowserPhone(agent, send)
        phone.on_lost = self._lost
        try:
            answer = await phone.answer_offer(sdp)
        except OfferError:
            await phone.close("bad offer")
            raise
        self._phones[agent] = phone
        log_event(log, "webrtc.offer_answered", agent=agent)
        return answer

    def phone(self, agent: str) -> BrowserPhone | None:
        """The agent's page if it can take a call now (socket open, media connected)."""
        phone = self._phones.get(agent)
        return phone if phone is not None and phone.connected else None

    def command(self, agent: str, msg: dict[str, Any]) -> str | None:
        phone = self._phones.get(agent)
        if phone is None:
            return "no browser connection: send the SDP offer first"
        return phone.command(msg)

    def end_leg(self, agent: str, leg: MediaLeg | None, reason: str = "call ended") -> None:
        """The call on engine leg ``leg`` is over for the agent's page (if it still has it)."""
        phone = self._phones.get(agent)
        call = phone.call if phone is not None else None
        if call is not None and leg is not None and call.leg is leg:
            call.hooks = CallHooks(lambda: None, lambda: None, lambda reason, answered: None)
            phone.end(call.key, reason)  # type: ignore[union-attr]

    def _lost(self, phone: BrowserPhone, reason: str) -> None:
        if self._phones.get(phone.agent) is phone:
            self._drop_phone(phone.agent, reason)

    def _drop_phone(self, agent: str, reason: str) -> None:
        phone = self._phones.pop(agent, None)
        if phone is not None:
            task = asyncio.ensure_future(phone.close(reason))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        for agent in list(self._phones):
            self._drop_phone(agent, "server stopping")
        if self._closing:
            await asyncio.wait(list(self._closing), timeout=5)
