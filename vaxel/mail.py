"""Outgoing email through the SMTP server in the configuration (``[smtp]``), with aiosmtplib.

``voicemail_message`` only builds the message (pure, testable); ``send`` is the I/O.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

import aiosmtplib

from config import SmtpConfig


class MailError(Exception):
    """Sending failed; the message says why (connection refused, rejected recipient ...)."""


# The mail's words in the mailbox's language (queue language, else server.language).
_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "unknown": "unknown caller",
        "subject": "Voicemail from {who} ({secs} s) for {mailbox}",
        "intro": "A new voicemail for {mailbox}.",
        "from": "From",
        "called": "Number called",
        "received": "Received",
        "length": "Length",
        "id": "Voicemail id",
        "attached": "The message is attached as a WAV file (8 kHz mono).",
    },
    "sv": {
        "unknown": "okänd uppringare",
        "subject": "Röstmeddelande från {who} ({secs} s) till {mailbox}",
        "intro": "Ett nytt röstmeddelande till {mailbox}.",
        "from": "Från",
        "called": "Uppringt nummer",
        "received": "Mottaget",
        "length": "Längd",
        "id": "Meddelande-id",
        "attached": "Meddelandet är bifogat som WAV-fil (8 kHz mono).",
    },
}


def voicemail_message(
    *,
    sender: str,
    recipient: str,
    mailbox: str,
    caller: str | None,
    dialled: str | None,
    received_at: datetime,
    seconds: float,
    wav: bytes,
    voicemail_id: int,
    language: str = "en",
    zone: str = "UTC",
) -> EmailMessage:
    """The mail for one message; times in ``zone`` (the mailbox calendar's time zone), the
    words in ``language`` (sv or en)."""
    t = _TEXTS.get(language, _TEXTS["en"])
    local = received_at.astimezone(ZoneInfo(zone))
    who = caller or t["unknown"]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = t["subject"].format(who=who, secs=round(seconds), mailbox=mailbox)
    msg["Date"] = format_datetime(local)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    length = f"{seconds:.1f}".replace(".", ",") if language == "sv" else f"{seconds:.1f}"
    msg.set_content(
        f"{t['intro'].format(mailbox=mailbox)}\n\n"
        f"{t['from']}: {who}\n"
        f"{t['called']}: {dialled or '-'}\n"
        f"{t['received']}: {local.strftime('%Y-%m-%d %H:%M:%S')} ({zone})\n"
        f"{t['length']}: {length} s\n"
        f"{t['id']}: {voicemail_id}\n\n"
        f"{t['attached']}\n"
    )
    stamp = local.strftime("%Y%m%d-%H%M%S")
    msg.add_attachment(
        wav, maintype="audio", subtype="wav", filename=f"voicemail-{voicemail_id}-{stamp}.wav"
    )
    return msg


def staff_message(
    *,
    sender: str,
    recipient: str,
    staff: str,
    company: str,
    caller: str | None,
    number: str | None,
    text: str,
    taken_at: datetime,
    taken_by: str | None,
    message_id: int,
) -> EmailMessage:
    """A message the answering service took for ``staff`` (in the language of the voicemail
    mail; ``taken_at`` in the server's time zone)."""
    who = caller or number or "unknown caller"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = f"Message from {who} for {staff} ({company})"
    msg["Date"] = format_datetime(taken_at)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(
        f"A message for {staff} at {company}, taken by the answering service.\n\n"
        f"From: {caller or '-'}\n"
        f"Call back: {number or '-'}\n"
        f"Taken: {taken_at.isoformat(timespec='seconds')}\n"
        f"Taken by: {taken_by or '-'}\n"
        f"Message id: {message_id}\n\n"
        f"{text}\n"
    )
    return msg


async def send(smtp: SmtpConfig, msg: EmailMessage, timeout: float | None = None) -> None:
    """Send ``msg`` through ``smtp``; ``timeout`` (default ``smtp.timeout``) bounds the send."""
    try:
        await aiosmtplib.send(
            msg,
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=smtp.password,
            # Explicit: never upgrade on our own to a TLS the operator did not ask for.
            start_tls=smtp.starttls,
            timeout=smtp.timeout if timeout is None else timeout,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise MailError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from exc
