"""Voicemail mails are written in the mailbox's language, with times in its calendar's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

from vaxel.mail import voicemail_message


def _mail(**kw: str) -> tuple[str, str]:
    msg = voicemail_message(
        sender="vaxel@example.test",
        recipient="support@example.test",
        mailbox="Support",
        caller="0701234567",
        dialled="192",
        received_at=datetime(2026, 11, 23, 14, 5, tzinfo=UTC),
        seconds=12.4,
        wav=b"RIFF....WAVE",
        voicemail_id=7,
        **kw,
    )
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    return str(parsed["Subject"]), parsed.get_body(("plain",)).get_content()


def test_swedish_mail_with_stockholm_time() -> None:
    subject, body = _mail(language="sv", zone="Europe/Stockholm")
    assert subject == "Röstmeddelande från 0701234567 (12 s) till Support"
    # 14:05 UTC is 15:05 in Stockholm in November (CET).
    assert "Mottaget: 2026-11-23 15:05:00 (Europe/Stockholm)" in body, body
    assert "Längd: 12,4 s" in body and "Uppringt nummer: 192" in body


def test_english_mail_in_another_zone() -> None:
    subject, body = _mail(language="en", zone="America/New_York")
    assert subject == "Voicemail from 0701234567 (12 s) for Support"
    assert "Received: 2026-11-23 09:05:00 (America/New_York)" in body, body
