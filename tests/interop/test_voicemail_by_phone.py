"""End-to-end voicemail by phone: agent 1001 calls the voicemail-listen number (193) from its
remote number with a real SIPp caller, hears the count, when the message came and the
message, keys an RFC 4733
"7" and the message is deleted from the database.

The SIPp scenario's SDP names a port where the test itself receives the RTP Vaxel plays:
the stored message (a chirp) must be found in it by normalized cross-correlation after the
one G.711 pass, as the prompt tests do with baresip's recording. SIPp sends the DTMF from
its own media port later (Vaxel then latches to it), after the message has been heard.
"""

from __future__ import annotations

import asyncio
import struct
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select

from ivr import Recording
from media.g711 import decode
from prompts import STANDARD_DIR, received_prompts
from tests.peers.sipp import Sipp
from vaxel.storage.models import VoicemailRow
from vaxel.voicemail import Mailbox

from .conftest import RunningVaxel, start_vaxel
from .test_ivr_prompts import HEARD, chirp_wav, locate, over_g711

pytestmark = pytest.mark.interop
LISTEN = "193"
AGENT_REMOTE = "0701001001"  # agent 1001's remote_number in the demo
EDIT = {
    '"191" = { service = "prompt-recording" }': (
        '"191" = { service = "prompt-recording" }\n"193" = { service = "voicemail-listen" }'
    )
}


class RtpSink(asyncio.DatagramProtocol):
    """Keeps the PCMU payload of every RTP packet, by timestamp."""

    def __init__(self) -> None:
        self.frames: dict[int, bytes] = {}

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < 12 or data[1] & 0x7F != 0:
            return  # not PCMU (telephone-event, RTCP)
        ts = struct.unpack("!I", data[4:8])[0]
        self.frames[ts] = data[12:]

    def audio(self) -> np.ndarray:
        if not self.frames:
            return np.zeros(0)
        first = min(self.frames)
        out = np.zeros(max(self.frames) - first + 160)
        for ts, payload in self.frames.items():
            pcm = decode(np.frombuffer(payload, dtype=np.uint8), "PCMU").astype(np.float64)
            out[ts - first : ts - first + len(pcm)] = pcm
        return out


def seconds_of(*prompts: str) -> float:
    return sum(sf.info(str(STANDARD_DIR / "sv" / f"{p}.wav")).duration for p in prompts)


async def test_agent_listens_by_phone_and_deletes_the_message(tmp_path: Path) -> None:
    vaxel: RunningVaxel = await start_vaxel(tmp_path, replace=EDIT)
    transport = None
    try:
        vm_dir = vaxel.server.data_dir / "voicemail"
        vm_dir.mkdir(parents=True, exist_ok=True)
        audio = vm_dir / "message.wav"
        audio.write_bytes(chirp_wav(600, 2400, seconds=1.5))
        expected = over_g711(audio)  # read now: deleting the message removes the file
        service = vaxel.stack.voicemail
        vid = await service.store(
            Recording(audio, 1.5, "hash"),
            call_id="earlier-call",
            mailbox=Mailbox("Support", None, queue="support"),  # 1001 answers support
            a_number="0705550000",
            b_number="192",
        )
        loop = asyncio.get_running_loop()
        transport, sink = await loop.create_datagram_endpoint(RtpSink, local_addr=("127.0.0.1", 0))
        audio_port = transport.get_extra_info("sockname")[1]
        # Key "7" well into the menu after the message: count, "message 1", the message.
        count = ("vm-you-have", "digit-1", "vm-new-messages", "and", "digit-0", "vm-old-messages")
        # Then "Message one. Received today at HH MM" in the support queue's calendar's zone.
        stored = await service.get(vid)
        assert stored is not None
        zone = ZoneInfo(service.mailbox_locales[("support", None)][1])
        when = received_prompts(stored.created_at, datetime.now(UTC), zone, "sv")
        before_menu = seconds_of(*count, "vm-message", "digit-1", *when) + 1.5
        key_at_ms = int((before_menu + 3.0) * 1000)
        workdir = tmp_path / "sipp"
        workdir.mkdir()
        (workdir / "pcap").symlink_to("/usr/share/sip-tester")
        caller = Sipp(workdir, scenario="voicemail_listener.xml", target=vaxel.sip_target,
                      timeout=60)  # fmt: skip
        res = await caller.run_with(
            "-s", LISTEN, "-key", "caller", AGENT_REMOTE, "-key", "audio_port",
            str(audio_port), "-d", str(key_at_ms),
        )  # fmt: skip
        assert res.returncode == 0, res.explain()

        heard = sink.audio()
        score, at = locate(heard, expected)
        print(f"voicemail by phone: heard {len(heard) / 8000:.1f} s, message NCC {score:.3f} "
              f"at {at:.2f} s")  # fmt: skip
        assert score > HEARD, f"the message was not heard ({score:.3f})"
        count, _ = locate(heard, over_g711(STANDARD_DIR / "sv" / "vm-you-have.wav"))
        assert count > HEARD, f"the count was not announced ({count:.3f})"
        # When it came, said before the message: "Mottaget i dag klockan ...".
        received, received_at = locate(heard, over_g711(STANDARD_DIR / "sv" / "vm-received.wav"))
        assert received > HEARD, f"when the message came was not said ({received:.3f})"
        today, today_at = locate(heard, over_g711(STANDARD_DIR / "sv" / "today.wav"))
        assert today > HEARD, f"'today' was not said ({today:.3f})"
        assert received_at < today_at < at, (received_at, today_at, at)

        # Deleted in the database (row and file), and logged.
        assert await service.get(vid) is None
        async with vaxel.stack._sessions() as session:  # noqa: SLF001
            rows = (await session.execute(select(VoicemailRow.id))).scalars().all()
        assert vid not in rows and not audio.exists()
        await asyncio.sleep(0.5)
        events = await vaxel.server.calllog.events()
        (login,) = [e for e in events if e.kind == "voicemail_listen_login"]
        assert login.agent == "1001" and login.data == {"by": "caller id"}
        (deleted,) = [e for e in events if e.kind == "voicemail_deleted"]
        assert deleted.data["voicemail_id"] == vid and deleted.call_id == login.call_id
        calls = await vaxel.server.calllog.calls()
        assert [c.outcome for c in calls if c.call_id == login.call_id] == ["voicemail_listen"]
    finally:
        if transport is not None:
            transport.close()
        await vaxel.server.stop()
