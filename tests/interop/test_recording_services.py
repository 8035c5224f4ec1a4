"""End-to-end: prompt recording by phone (191) and voicemail (192) with a real softphone.

baresip calls with a known noise signal as its microphone (``aufile``) and keys DTMF over
RFC 4733 (``sndcode``). The test waits for the server to start recording (it watches the
caller's media leg in the server it runs), lets some audio through and presses ``#``. What
was stored (the new prompt, the mailed WAV) must be a stretch of what baresip sent:
normalized cross-correlation above ``MATCH`` after the one G.711 pass. Unrelated audio
scores near 0 against band-limited noise; the G.711 pass alone keeps it above 0.99.

Voicemail mail goes to a real SMTP server (aiosmtpd) on 127.0.0.1 started by the test.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import aiohttp
import numpy as np
import soundfile as sf
from aiosmtpd.controller import Controller
from scipy.signal import butter, fftconvolve, sosfilt

from media.g711 import decode, encode
from tests.peers.baresip import Baresip
from tests.peers.sipp import Sipp
from tests.support import free_port

from .conftest import RunningVaxel, start_vaxel

AUTH = {"Authorization": "Bearer demo-admin-token"}
ADMIN = "0700000190"  # the demo admin's caller id (PIN 1919)
CALLER = "0701234567"
MATCH = 0.9


def noise_source(path: Path, seconds: float = 90.0, seed: int = 7) -> np.ndarray:
    """Band-limited (300-3000 Hz) noise written as baresip's microphone; returns what a
    G.711 receiver decodes of it."""
    rng = np.random.default_rng(seed)
    sos = butter(6, [300, 3000], btype="band", fs=8000, output="sos")
    x = sosfilt(sos, rng.standard_normal(int(8000 * seconds)))
    pcm = (0.25 * x / np.max(np.abs(x)) * 32767 * 2).clip(-20000, 20000).astype(np.int16)
    sf.write(path, pcm, 8000, subtype="PCM_16")
    return decode(encode(pcm, "PCMU"), "PCMU").astype(np.float64)


def locate(haystack: np.ndarray, needle: np.ndarray) -> float:
    """Best normalized correlation of ``needle`` anywhere in ``haystack``."""
    if len(needle) == 0 or len(haystack) < len(needle):
        return 0.0
    dot = fftconvolve(haystack, needle[::-1], mode="valid")
    energy = np.cumsum(np.concatenate(([0.0], haystack**2)))
    window = energy[len(needle) :] - energy[: -len(needle)]
    score = dot / (np.linalg.norm(needle) * np.sqrt(np.maximum(window, 1e-9)))
    return float(np.max(score))


def wav_samples(data: bytes) -> np.ndarray:
    samples, rate = sf.read(io.BytesIO(data), dtype="int16")
    assert rate == 8000
    return samples.astype(np.float64)


async def until(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def recording(vaxel: RunningVaxel) -> bool:
    """Is a caller's leg recording right now (the dialogue is past the tone)?"""
    return any(c.leg._recorder is not None for c in vaxel.stack.controller.calls.values())  # noqa: SLF001


class Phone:
    def __init__(self, workdir: Path, caller: str) -> None:
        account = (
            f"<sip:{caller}@127.0.0.1:{{listen}}>;regint=0;answermode=manual;audio_codecs=PCMU"
        )
        self.baresip = Baresip(workdir, account)
        self.sent = noise_source(workdir / "source.wav")  # replaces the default tone
        self.output = ""

    async def dial(self, vaxel: RunningVaxel, number: str) -> None:
        await self.baresip.start()
        self.baresip.command("dial", f"sip:{number}@127.0.0.1:{vaxel.sip_port}")
        await self.baresip.wait_for("CALL_ESTABLISHED", 15)

    async def keys(self, keys: str) -> None:
        for key in keys:
            self.baresip.command("sndcode", key)
            await asyncio.sleep(0.3)

    async def wait_closed(self, timeout: float) -> None:
        await self.baresip.wait_for("CALL_CLOSED", timeout)

    def heard(self) -> np.ndarray:
        dec = list((self.baresip.dir / "snd").glob("*-dec.wav"))
        assert dec, "baresip wrote no *-dec.wav"
        return wav_samples(dec[0].read_bytes())

    async def stop(self) -> None:
        self.output = await self.baresip.stop()


async def get(vaxel: RunningVaxel, path: str) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(vaxel.http + path, headers=AUTH) as resp,
    ):
        return resp.status, await resp.read()


async def get_json(vaxel: RunningVaxel, path: str):  # noqa: ANN201
    status, body = await get(vaxel, path)
    assert status == 200, body
    return json.loads(body)


async def call_events(vaxel: RunningVaxel, prefix: str) -> list:
    await asyncio.sleep(0.3)
    return [e for e in await vaxel.server.calllog.events() if e.kind.startswith(prefix)]


# ------------------------------------------------------------------ prompt recording


async def test_admin_records_a_prompt_by_phone_and_it_is_listed(
    vaxel: RunningVaxel, tmp_path: Path
) -> None:
    phone = Phone(tmp_path / "admin", ADMIN)
    try:
        await phone.dial(vaxel, "191")
        await phone.keys("1919#")  # typed ahead over "enter your PIN"
        await until(lambda: recording(vaxel), 30, "the recording to start")
        await asyncio.sleep(3.0)
        await phone.keys("#")
        await until(lambda: not recording(vaxel), 10, "# to end the recording")
        await phone.keys("1")  # listen ...
        await asyncio.sleep(4.5)
        await phone.keys("3")  # ... then save
        await phone.wait_closed(40)  # Vaxel reads the number out and hangs up
        heard = phone.heard()
    finally:
        await phone.stop()

    listing = await get_json(vaxel, "/api/prompts?stored=true")
    (prompt,) = listing["prompts"]
    assert prompt["name"] == "rec-1001" and prompt["source"] == "phone", prompt
    assert prompt["language"] == "sv" and prompt["duration"] > 2.0
    assert "rec-1001" in [p["name"] for p in (await get_json(vaxel, "/api/prompts"))["prompts"]]
    status, audio = await get(vaxel, "/api/prompts/rec-1001/audio")
    assert status == 200
    stored = wav_samples(audio)
    score = locate(phone.sent, stored)
    print(f"prompt by phone: stored {len(stored) / 8000:.2f} s, NCC {score:.4f}")
    assert score > MATCH, f"stored prompt does not match what the phone sent ({score:.3f})"
    # '1' played the take back to the phone: its first 2 s are in what baresip heard.
    played_back = locate(heard, stored[: 2 * 8000])
    assert played_back > 0.8, f"the take was not played back ({played_back:.3f})"
    (saved,) = await call_events(vaxel, "prompt_recording_saved")
    assert saved.data["number"] == 1001 and saved.data["admin"] == "demo"


async def test_wrong_pin_stores_nothing(vaxel: RunningVaxel, tmp_path: Path) -> None:
    phone = Phone(tmp_path / "admin", ADMIN)
    try:
        await phone.dial(vaxel, "191")
        await phone.keys("0000#1111#2222#")  # three wrong PINs, typed ahead
        await phone.wait_closed(60)  # refused: Vaxel hangs up
    finally:
        await phone.stop()
    assert (await get_json(vaxel, "/api/prompts?stored=true"))["prompts"] == []
    prompt_dir = vaxel.server.data_dir / "prompts"
    assert not prompt_dir.exists() or not list(prompt_dir.iterdir())
    wrong = await call_events(vaxel, "prompt_recording_pin_wrong")
    assert [e.data["attempt"] for e in wrong] == [1, 2, 3]
    (refused,) = await call_events(vaxel, "prompt_recording_refused")
    assert refused.data["reason"] == "wrong PIN"
    assert not await call_events(vaxel, "prompt_recording_admin")


async def test_unknown_caller_id_is_refused_at_once(vaxel: RunningVaxel, tmp_path: Path) -> None:
    res = await Sipp(
        tmp_path / "sipp", scenario="call_until_bye.xml", target=vaxel.sip_target, timeout=30
    ).run_with("-s", "191", "-key", "caller", "0709999999")
    assert res.returncode == 0, res.explain()
    (refused,) = await call_events(vaxel, "prompt_recording_refused")
    assert refused.data == {"reason": "unknown caller id", "caller": "0709999999"}
    assert (await get_json(vaxel, "/api/prompts?stored=true"))["prompts"] == []


# ------------------------------------------------------------------ voicemail


class Inbox:
    """aiosmtpd handler: keeps every message it accepts (runs in the Controller's thread)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


async def test_voicemail_is_mailed_with_the_wav_attached(tmp_path: Path) -> None:
    inbox = Inbox()
    smtp_port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    vaxel = await start_vaxel(tmp_path, replace={"port = 8025": f"port = {smtp_port}"})
    phone = Phone(tmp_path / "caller", CALLER)
    try:
        await phone.dial(vaxel, "192")
        await until(lambda: recording(vaxel), 30, "the recording to start")
        await asyncio.sleep(3.0)
        await phone.keys("#")
        await phone.wait_closed(30)  # "your message has been saved", then BYE
        await until(lambda: bool(inbox.messages), 30, "the mail to arrive")
        (vm,) = (await get_json(vaxel, "/api/voicemails"))["voicemails"]
        status, audio = await get(vaxel, f"/api/voicemails/{vm['id']}/audio")
    finally:
        await phone.stop()
        await vaxel.server.stop()
        smtp.stop()

    ((sender, rcpts, content),) = inbox.messages
    assert sender == "vaxel@localhost" and rcpts == ["support@localhost"]
    msg = message_from_bytes(content, policy=policy.default)
    assert CALLER in msg["Subject"] and "Support" in msg["Subject"]
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_content_type() == "audio/wav"
    wav = attachment.get_content()
    mailed = wav_samples(wav)
    assert len(mailed) > 2 * 8000
    score = locate(phone.sent, mailed)
    print(f"voicemail mailed: {len(mailed) / 8000:.2f} s, NCC {score:.4f}")
    assert score > MATCH, f"mailed WAV does not match what the phone sent ({score:.3f})"
    assert vm["mail_status"] == "sent" and vm["recipient"] == "support@localhost"
    assert vm["queue"] == "support" and vm["a_number"] == CALLER and vm["b_number"] == "192"
    assert status == 200 and audio == wav


async def test_voicemail_left_by_hanging_up_is_kept_when_mail_fails(tmp_path: Path) -> None:
    dead_port = free_port()  # nothing listens here: every send is refused
    vaxel = await start_vaxel(tmp_path, replace={"port = 8025": f"port = {dead_port}"})
    phone = Phone(tmp_path / "caller", CALLER)
    try:
        await phone.dial(vaxel, "192")
        await until(lambda: recording(vaxel), 30, "the recording to start")
        await asyncio.sleep(3.0)
        phone.baresip.command("hangup")  # most callers end a message this way
        await phone.wait_closed(10)

        async def first_attempt_done() -> dict:
            for _ in range(200):
                items = (await get_json(vaxel, "/api/voicemails"))["voicemails"]
                if items and items[0]["mail_attempts"] >= 1:
                    return items[0]
                await asyncio.sleep(0.1)
            raise AssertionError("no mail attempt recorded")

        vm = await first_attempt_done()
        status, audio = await get(vaxel, f"/api/voicemails/{vm['id']}/audio")
    finally:
        await phone.stop()
        await vaxel.server.stop()
    assert vm["mail_status"] == "pending" and vm["mail_error"], vm  # retried later
    assert status == 200
    score = locate(phone.sent, wav_samples(audio))
    assert score > MATCH, f"kept message does not match what the phone sent ({score:.3f})"
