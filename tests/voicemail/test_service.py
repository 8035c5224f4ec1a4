"""Voicemail storage and mailing: stored first, mailed after; failures retried, never lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from config.schema import SmtpConfig
from ivr.recording import Recording
from vaxel.mail import MailError, voicemail_message
from vaxel.storage import create_engine, migrate
from vaxel.storage.database import sessionmaker
from vaxel.voicemail import Mailbox, VoicemailService, next_retry

SUPPORT = Mailbox("Support", "support@example.test", queue="support")


class FakeSmtp:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[EmailMessage] = []
        self.attempts = 0

    async def __call__(self, smtp: SmtpConfig, msg: EmailMessage) -> None:
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise MailError(f"SMTP {smtp.host}:{smtp.port}: connection refused")
        self.sent.append(msg)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[object]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'vm.db'}")
    await migrate(engine)
    yield sessionmaker(engine)
    await engine.dispose()


def message_file(service: VoicemailService, seconds: float = 2.0) -> Recording:
    path = service.new_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(8000 * seconds)) / 8000
    sf.write(path, (0.3 * np.sin(2 * np.pi * 500 * t) * 32767).astype(np.int16), 8000)
    return Recording(path, seconds, "hash")


def service_with(sessions, tmp_path: Path, smtp: FakeSmtp, **kw) -> VoicemailService:  # noqa: ANN001
    return VoicemailService(
        sessions, tmp_path / "voicemail", SmtpConfig(port=2525), send=smtp, **kw
    )


async def test_a_stored_message_is_mailed_with_the_wav_attached(sessions, tmp_path) -> None:
    smtp = FakeSmtp()
    service = service_with(sessions, tmp_path, smtp)
    rec = message_file(service)
    vid = await service.store(
        rec, call_id="c1", mailbox=SUPPORT, a_number="0701234567", b_number="192"
    )
    await service.idle()
    (msg,) = smtp.sent
    assert msg["To"] == "support@example.test" and "0701234567" in msg["Subject"]
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_content_type() == "audio/wav"
    assert attachment.get_content() == rec.path.read_bytes()
    info = await service.get(vid)
    assert info is not None
    assert (info.mail_status, info.mail_attempts, info.mail_error) == ("sent", 1, None)
    assert info.mailed_at is not None and info.queue == "support" and info.b_number == "192"


async def test_mail_failures_are_retried_and_the_message_is_kept(sessions, tmp_path) -> None:
    smtp = FakeSmtp(failures=2)
    service = service_with(sessions, tmp_path, smtp, retry_delays=(0.01, 0.01, 0.01))
    rec = message_file(service)
    vid = await service.store(rec, call_id="c1", mailbox=SUPPORT, a_number=None, b_number="192")
    await service.idle()
    info = await service.get(vid)
    assert info is not None and info.mail_status == "sent" and info.mail_attempts == 3
    assert smtp.attempts == 3 and len(smtp.sent) == 1


async def test_giving_up_leaves_the_message_listed_as_failed(sessions, tmp_path) -> None:
    smtp = FakeSmtp(failures=99)
    service = service_with(sessions, tmp_path, smtp, retry_delays=(0.01,))
    rec = message_file(service)
    vid = await service.store(rec, call_id="c1", mailbox=SUPPORT, a_number=None, b_number="192")
    await service.idle()
    (info,) = await service.list()
    assert info.id == vid and info.mail_status == "failed" and info.mail_attempts == 2
    assert "connection refused" in (info.mail_error or "")
    assert info.path.is_file()  # the audio is still there
    smtp.failures = 0
    await service.resend(vid)
    await service.idle()
    info2 = await service.get(vid)
    assert info2 is not None and info2.mail_status == "sent" and len(smtp.sent) == 1


async def test_pending_mail_is_sent_after_a_restart(sessions, tmp_path) -> None:
    down = FakeSmtp(failures=99)
    first = service_with(sessions, tmp_path, down, retry_delays=(3600.0,))
    rec = message_file(first)
    vid = await first.store(rec, call_id="c1", mailbox=SUPPORT, a_number=None, b_number="192")
    for _ in range(200):  # the first attempt fails; the retry is an hour away
        info = await first.get(vid)
        if info is not None and info.mail_attempts == 1:
            break
        await asyncio.sleep(0.01)
    await first.close()  # the server stops with the mail still pending
    up = FakeSmtp()
    second = service_with(sessions, tmp_path, up)
    await second.start()
    await second.idle()
    assert len(up.sent) == 1
    info = await second.get(vid)
    assert info is not None and info.mail_status == "sent" and info.mail_attempts == 2


async def test_a_mailbox_without_address_keeps_the_message_unmailed(sessions, tmp_path) -> None:
    smtp = FakeSmtp()
    service = service_with(sessions, tmp_path, smtp)
    rec = message_file(service)
    vid = await service.store(
        rec,
        call_id="c1",
        mailbox=Mailbox("Nobody", None, agent="1001"),
        a_number=None,
        b_number=None,
    )
    await service.idle()
    info = await service.get(vid)
    assert info is not None and info.mail_status == "none" and not smtp.sent


def test_retry_schedule() -> None:
    assert [next_retry(n, (30.0, 120.0)) for n in (1, 2, 3)] == [30.0, 120.0, None]


def test_the_message_is_readable_by_a_mail_client() -> None:
    msg = voicemail_message(
        sender="vaxel@example.test",
        recipient="agent1001@example.test",
        mailbox="Agent One",
        caller=None,
        dialled="193",
        received_at=datetime(2026, 11, 23, 14, 5, tzinfo=UTC),
        seconds=12.4,
        wav=b"RIFF....WAVE",
        voicemail_id=5,
    )
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Voicemail from unknown caller (12 s) for Agent One"
    body = parsed.get_body(("plain",)).get_content()
    assert "Number called: 193" in body and "Voicemail id: 5" in body
    (att,) = list(parsed.iter_attachments())
    assert att.get_filename() == "voicemail-5-20261123-140500.wav"
    assert att.get_content() == b"RIFF....WAVE"
