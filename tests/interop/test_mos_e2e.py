"""MOS end to end over real UDP: three callers send RTP with 0 %, 3 % and 10 % random loss plus
jitter to a real Vaxel; each call is bridged to a SIPp agent (RTP echo). The stored MOS falls
in the band the E-model gives for that loss, Vaxel's RTCP reports the loss back, and the
10 % call raises the quality warning on the /api/events WebSocket.

Bands: Vaxel rates G.711 legs without packet-loss concealment (its bridge relays a lost
packet as silence), i.e. ITU-T G.113 Appendix I Ie = 0, Bpl = 4.3, random loss BurstR = 1,
and Ta = 60 ms playout buffer + 20 ms packet (no RTCP from this sender, so no RTT): the
E-model gives MOS 4.36 at 0 %, 2.68 at 3 % and 1.40 at 10 % loss. The band of each call is
the E-model MOS from (loss + 2 points, BurstR 1.25) to (loss - 1 point, BurstR 0.8): the
measured window samples the drops (a few hundred packets: loss +-1 point, BurstR 0.8..1.25
for random drops). Bands: 0 % -> 3.04..4.36, 3 % -> 1.78..3.26, 10 % -> 1.02..1.88. Packets
a stalled event loop takes in after their playout time are discarded (a real loss to the
listener); their share and burstiness widen the low end of the band for that call. The
warning threshold is the default 3.1; the interval is 1 s instead of 5 s to keep it short.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import struct
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from media.emodel import codec_impairment, mos_from_r, one_way_delay_ms, r_factor_details
from tests.peers.sipp import Sipp
from tests.support import free_port

from .conftest import RunningVaxel, sipp_register, start_vaxel

TOKEN = "demo-admin-token"
AGENTS = ("1001", "1002", "1004")  # the demo's agents in the support queue
SECONDS = 8.0  # RTP per call
JITTER = 0.020  # each packet sent up to 20 ms after its time (no reordering)


def expected_mos(loss_pct: float, burst_r: float = 1.0) -> float:
    g711 = codec_impairment("PCMU-NOPLC")
    ta = one_way_delay_ms(rtt_ms=None, jitter_buffer_ms=60.0, codec=g711, packet_ms=20.0)
    details = r_factor_details(
        ie=g711.ie, bpl=g711.bpl, ppl=max(0.0, loss_pct), burst_r=burst_r, ta=ta
    )
    return mos_from_r(details.r)


class _Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait(data)


def _header(msg: str, name: str) -> str:
    head = msg.split("\r\n\r\n", 1)[0]
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    raise AssertionError(f"no {name} header in:\n{msg}")


@dataclass
class Caller:
    """A minimal SIP UAC over UDP plus a crafted RTP stream with loss and jitter."""

    vaxel: RunningVaxel
    number: str
    loss: float
    seed: int
    call_id: str = field(default_factory=lambda: f"mos-{secrets.token_hex(6)}@127.0.0.1")
    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    reports: list[bytes] = field(default_factory=list)

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self.sip, self.inbox = await loop.create_datagram_endpoint(
            _Inbox, local_addr=("127.0.0.1", 0)
        )
        self.port = self.sip.get_extra_info("sockname")[1]
        # RTP on an even port, RTCP (Vaxel's reports to us) on the next one.
        for _ in range(50):
            rtp_port = free_port(both=False) & ~1
            try:
                self.rtp, _ = await loop.create_datagram_endpoint(
                    asyncio.DatagramProtocol, local_addr=("127.0.0.1", rtp_port)
                )
                self.rtcp, self.rtcp_inbox = await loop.create_datagram_endpoint(
                    _Inbox, local_addr=("127.0.0.1", rtp_port + 1)
                )
            except OSError:
                continue
            break
        self.rtp_port = rtp_port
        self.tag = secrets.token_hex(4)

    def _send(self, text: str) -> None:
        self.sip.sendto(text.replace("\n", "\r\n").encode(), ("127.0.0.1", self.vaxel.sip_port))

    def _common(self, method: str, cseq: int, to_tag: str = "") -> str:
        branch = f"z9hG4bK{secrets.token_hex(6)}"
        to = f"<sip:100@127.0.0.1:{self.vaxel.sip_port}>{to_tag}"
        return (
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch};rport\n"
            f"From: <sip:{self.number}@127.0.0.1:{self.port}>;tag={self.tag}\n"
            f"To: {to}\nCall-ID: {self.call_id}\nCSeq: {cseq} {method}\n"
            f"Contact: <sip:{self.number}@127.0.0.1:{self.port}>\nMax-Forwards: 70\n"
        )

    async def _final(self, method: str) -> str:
        """The final response to our request; answers Vaxel's own requests meanwhile."""
        async with asyncio.timeout(30):
            while True:
                msg = (await self.inbox.queue.get()).decode()
                if not msg.startswith("SIP/2.0"):
                    self._answer(msg)
                    continue
                status = int(msg.split()[1])
                if status >= 200 and _header(msg, "CSeq").endswith(method):
                    return msg

    def _answer(self, request: str) -> None:
        copied = "".join(f"{h}: {_header(request, h)}\n" for h in ("Via", "From", "To", "Call-ID"))
        self._send(
            f"SIP/2.0 200 OK\n{copied}CSeq: {_header(request, 'CSeq')}\nContent-Length: 0\n\n"
        )

    async def invite(self) -> None:
        sdp = (
            f"v=0\no=caller 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
            f"m=audio {self.rtp_port} RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\n"
            "a=rtpmap:101 telephone-event/8000\n"
        ).replace("\n", "\r\n")
        self._send(
            f"INVITE sip:100@127.0.0.1:{self.vaxel.sip_port} SIP/2.0\n"
            + self._common("INVITE", 1)
            + f"Content-Type: application/sdp\nContent-Length: {len(sdp)}\n\n"
            + sdp.replace("\r\n", "\n")
        )
        ok = await self._final("INVITE")
        assert ok.startswith("SIP/2.0 200"), ok
        self.to_tag = ";tag=" + _header(ok, "To").split(";tag=")[1].split(";")[0]
        self.contact = _header(ok, "Contact").strip("<>").split(">")[0]
        body = ok.split("\r\n\r\n", 1)[1]
        media = next(line for line in body.split("\r\n") if line.startswith("m=audio"))
        self.remote_rtp = ("127.0.0.1", int(media.split()[1]))
        self._send(f"ACK {self.contact} SIP/2.0\n" + self._common("ACK", 1, self.to_tag) + "\n")

    async def send_rtp(self) -> int:
        """SECONDS of 20 ms PCMU packets; exactly ``loss`` of them (not the first two) dropped."""
        loop = asyncio.get_running_loop()
        rng = random.Random(self.seed)
        n = int(SECONDS / 0.02)
        dropped = set(rng.sample(range(2, n), round(self.loss * (n - 2))))
        payload = bytes([0xFF]) * 160  # mu-law silence
        start = loop.time() + 0.05
        for i in range(n):
            if i in dropped:
                continue
            pkt = struct.pack("!BBHII", 0x80, 0, (1000 + i) & 0xFFFF, i * 160, self.ssrc) + payload
            when = start + i * 0.02 + rng.uniform(0.0, JITTER)
            loop.call_at(when, self.rtp.sendto, pkt, self.remote_rtp)
        await asyncio.sleep(start + n * 0.02 + JITTER + 0.2 - loop.time())
        return len(dropped)

    async def bye(self) -> None:
        self._send(f"BYE {self.contact} SIP/2.0\n" + self._common("BYE", 2, self.to_tag) + "\n")
        ok = await self._final("BYE")
        assert ok.startswith("SIP/2.0 200"), ok
        while not self.rtcp_inbox.queue.empty():
            self.reports.append(self.rtcp_inbox.queue.get_nowait())

    def close(self) -> None:
        for t in (self.sip, self.rtp, self.rtcp):
            t.close()


def _report_blocks_about(datagrams: list[bytes], ssrc: int) -> list[tuple[int, int]]:
    """(fraction lost, cumulative lost) of every RTCP report block about ``ssrc``."""
    out = []
    for data in datagrams:
        pos = 0
        while pos + 8 <= len(data):
            first, pt, length = struct.unpack_from("!BBH", data, pos)
            if pt in (200, 201):
                blocks = pos + 8 + (20 if pt == 200 else 0)
                for k in range(first & 0x1F):
                    b = blocks + 24 * k
                    block_ssrc, word = struct.unpack_from("!II", data, b)
                    if block_ssrc == ssrc:
                        out.append((word >> 24, word & 0xFFFFFF))
            pos += 4 * (length + 1)
    return out


async def _collect_events(ws: aiohttp.ClientWebSocketResponse, into: list[dict]) -> None:
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            into.append(json.loads(msg.data))


async def _answered(events: list[dict], call_id: str) -> str:
    """The agent the ACD connected the call to (from the event stream)."""
    try:
        async with asyncio.timeout(30):
            while True:
                for e in events:
                    if (e.get("type"), e.get("kind"), e.get("call_id")) == (
                        "call_event",
                        "answered",
                        call_id,
                    ):
                        return e["agent"]
                await asyncio.sleep(0.05)
    except TimeoutError:
        seen = [{k: v for k, v in e.items() if k != "agents"} for e in events]
        raise AssertionError(f"call {call_id} not answered; events: {seen}") from None


async def _run_call(caller: Caller, events: list[dict]) -> tuple[str, int]:
    await caller.invite()
    agent = await _answered(events, caller.call_id)
    dropped = await caller.send_rtp()
    await caller.bye()
    return agent, dropped


async def test_stored_mos_follows_the_loss_and_bad_calls_raise_a_warning(tmp_path: Path) -> None:
    vaxel = await start_vaxel(
        tmp_path,
        replace={'[rtp]\nhost = "127.0.0.1"': '[rtp]\nmos_interval = 1.0\nhost = "127.0.0.1"'},
    )
    agents: list[Sipp] = []
    callers: list[Caller] = []
    session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        for agent in AGENTS:
            port = free_port()
            uas = Sipp(
                tmp_path / f"agent{agent}",
                "-rtp_echo",
                builtin="uas",
                port=port,
                timeout=60,
                media_port=free_port(both=False),
            )
            await uas.start()
            agents.append(uas)
            await asyncio.sleep(0.2)
            if uas.proc is not None and uas.proc.returncode is not None:
                raise AssertionError(f"SIPp agent {agent} exited:\n{(await uas.wait()).explain()}")
            reg = await sipp_register(
                vaxel, tmp_path / f"reg{agent}", agent, f"secret{agent}", port
            )
            assert reg.returncode == 0, reg.explain()
            async with session.post(
                f"{vaxel.http}/api/agents/{agent}/login",
                json={"device": "sip", "groups": ["support"]},
            ) as resp:
                assert resp.status == 200, await resp.text()

        events: list[dict] = []
        ws = await session.ws_connect(f"{vaxel.http}/api/events")
        reader = asyncio.create_task(_collect_events(ws, events))
        losses = {"0700000000": 0.0, "0700000003": 0.03, "0700000010": 0.10}
        callers = [
            Caller(vaxel, num, loss, seed) for seed, (num, loss) in enumerate(losses.items())
        ]
        for c in callers:
            await c.open()
        results = await asyncio.gather(*(_run_call(c, events) for c in callers))

        rows: dict[str, dict] = {}
        async with asyncio.timeout(15):
            while len(rows) < len(callers):
                async with session.get(f"{vaxel.http}/api/calllog/calls") as resp:
                    assert resp.status == 200
                    rows = {r["call_id"]: r for r in (await resp.json())["calls"]}
                rows = {k: v for k, v in rows.items() if k in {c.call_id for c in callers}}
                await asyncio.sleep(0.2)
        await asyncio.sleep(0.3)  # let the last events reach the WebSocket
        reader.cancel()
        await ws.close()

        warnings = [e for e in events if e["type"] == "call_quality_warning"]
        for c, (agent, dropped) in zip(callers, results, strict=True):
            row = rows[c.call_id]
            leg = row["quality"]["legs"]["caller"]
            nominal = c.loss * 100.0
            # A stall of the event loop (this 2-core machine is shared) delivers packets
            # after their playout time: Vaxel rightly counts them as discarded, in a burst.
            # The band's low end takes those measured discards and their burstiness in.
            late = 100.0 * leg["packets_discarded"] / max(1, leg["packets_expected"])
            on_time = late == 0.0
            low = expected_mos(nominal + 2.0 + late, max(1.25, leg["burst_ratio"]))
            high = expected_mos(nominal - 1.0, 0.8)
            where = f"{c.loss:.0%} loss: {leg}"
            assert row["agent"] == agent and row["outcome"] == "answered", row
            assert low - 0.005 <= leg["mos"] <= high + 0.005, (low, high, where)  # stored rounded
            assert row["mos"] is not None and row["mos"] <= leg["mos"], row
            assert nominal - 1.0 <= leg["rfc3550_loss_pct"] <= nominal + 1.0, where
            assert nominal - 1.0 <= leg["loss_pct"] <= nominal + 2.0 + late, where
            assert leg["avg_jitter_ms"] > 1.0, where
            if on_time:
                assert (0.8 if dropped else 1.0) <= leg["burst_ratio"] <= 1.25, where
            assert leg["intervals"] >= 5 and leg["interval_mos"], where
            assert row["quality"]["legs"]["agent"]["mos"] is not None, row  # the echoed leg
            # Vaxel's RTCP told this sender what it lost.
            blocks = _report_blocks_about(c.reports, c.ssrc)
            assert blocks, f"no RTCP report block about our stream ({len(c.reports)} datagrams)"
            if dropped:
                assert max(lost for _, lost in blocks) > 0, blocks
            mine = [w for w in warnings if w["call_id"] == c.call_id]
            if c.loss == 0.10:
                assert mine, f"no warning for the 10 % call; events: {warnings}"
                w = mine[0]
                assert (w["agent"], w["leg"]) == (agent, "caller"), w
                assert w["mos"] < 3.1 and w["loss_pct"] > 5.0 and "jitter_ms" in w, w
            elif c.loss == 0.0 and on_time:
                assert not mine, mine  # (late packets would be a real 1-2 % loss)
    finally:
        for c in callers:
            c.close()
        await session.close()
        for uas in agents:
            await uas.stop()
        await vaxel.server.stop()
