"""Voicemail messages: a WAV under ``<data_dir>/voicemail`` plus a row each, then emailed.

A message is stored first and mailed afterwards, in the background: a mail server that is
down or refuses the message never loses it. A failed attempt is logged, counted on the
row and retried later (``[voicemail] mail_retry_delays``); after the last retry the row
says ``failed`` and the message stays listed in the API, where it can be fetched or sent
again. Messages still pending when the server stops are picked up at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import soundfile as sf
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from config import MAIL_RETRY_DELAYS, SmtpConfig
from ivr import Recording
from vaxel import mail
from vaxel.logs import log_event
from vaxel.storage.models import VoicemailRow, as_utc

log = logging.getLogger("vaxel.voicemail")

# Seconds to wait after the 1st, 2nd ... failed attempt; then the mail is given up. The
# server passes the configured ones; this default is the configuration's.
RETRY_DELAYS: tuple[float, ...] = MAIL_RETRY_DELAYS


def next_retry(failed_attempts: int, delays: tuple[float, ...] = RETRY_DELAYS) -> float | None:
    """Delay before the next attempt after ``failed_attempts`` failures, or None: give up."""
    i = failed_attempts - 1
    return delays[i] if 0 <= i < len(delays) else None


@dataclass(frozen=True, slots=True)
class Mailbox:
    """Whose message it is: a queue's or an agent's, and where the mail goes."""

    name: str
    email: str | None
    queue: str | None = None
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class VoicemailInfo:
    id: int
    call_id: str
    queue: str | None
    agent: str | None
    a_number: str | None
    b_number: str | None
    duration: float
    created_at: datetime
    recipient: str | None
    mail_status: str
    mail_attempts: int
    mail_error: str | None
    mailed_at: datetime | None
    path: Path
    heard_at: datetime | None = None  # first heard by phone (voicemail-listen): new until then

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("path")
        d["created_at"] = self.created_at.isoformat()
        d["mailed_at"] = self.mailed_at.isoformat() if self.mailed_at else None
        d["heard_at"] = self.heard_at.isoformat() if self.heard_at else None
        d["audio"] = f"/api/voicemails/{self.id}/audio"
        return d


def _info(row: VoicemailRow) -> VoicemailInfo:
    return VoicemailInfo(
        row.id,
        row.call_id,
        row.queue,
        row.agent,
        row.a_number,
        row.b_number,
        row.duration,
        as_utc(row.created_at),
        row.recipient,
        row.mail_status,
        row.mail_attempts,
        row.mail_error,
        as_utc(row.mailed_at),
        Path(row.path),
        as_utc(row.heard_at),
    )


Sender = Callable[[SmtpConfig, EmailMessage], Awaitable[None]]


class VoicemailService:
    def __init__(
        self,
        sessions: async_sessionmaker,
        directory: Path,
        smtp: SmtpConfig,
        *,
        mailbox_names: dict[tuple[str | None, str | None], str] | None = None,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        send: Sender = mail.send,
    ) -> None:
        self.sessions = sessions
        self.directory = Path(directory)
        self.smtp = smtp
        self.mailbox_names = mailbox_names or {}
        # (language, time zone) per mailbox, for the mail's words and times.
        self.mailbox_locales: dict[tuple[str | None, str | None], tuple[str, str]] = {}
        self.default_locale = ("en", "UTC")
        self.retry_delays = retry_delays
        self._send = send
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._closed = False

    # ------------------------------------------------------------------ storing

    def new_path(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return self.directory / f"{stamp}-{secrets.token_hex(4)}.wav"

    def discard(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    async def store(
        self,
        rec: Recording,
        *,
        call_id: str,
        mailbox: Mailbox,
        a_number: str | None,
        b_number: str | None,
    ) -> int:
        """Add the row for a recorded file and start mailing it; returns the id."""
        async with self.sessions.begin() as session:
            row = VoicemailRow(
                call_id=call_id,
                queue=mailbox.queue,
                agent=mailbox.agent,
                a_number=a_number,
                b_number=b_number,
                path=str(rec.path),
                duration=round(rec.seconds, 3),
                created_at=datetime.now(UTC),
                recipient=mailbox.email,
                mail_status="pending" if mailbox.email else "none",
                mail_attempts=0,
            )
            session.add(row)
            await session.flush()
            voicemail_id = row.id
        log_event(
            log,
            "voicemail.stored",
            voicemail_id=voicemail_id,
            call_id=call_id,
            mailbox=mailbox.name,
            seconds=round(rec.seconds, 2),
        )
        if mailbox.email:
            self._schedule(voicemail_id, 0.0)
        return voicemail_id

    # ------------------------------------------------------------------ reading

    async def list(
        self, *, queue: str | None = None, agent: str | None = None, limit: int = 1000
    ) -> list[VoicemailInfo]:
        """Newest first."""
        stmt = select(VoicemailRow).order_by(VoicemailRow.id.desc()).limit(limit)
        if queue is not None:
            stmt = stmt.where(VoicemailRow.queue == queue)
        if agent is not None:
            stmt = stmt.where(VoicemailRow.agent == agent)
        async with self.sessions() as session:
            return [_info(r) for r in (await session.execute(stmt)).scalars()]

    async def for_mailboxes(
        self, *, agent: str | None, queues: Sequence[str], limit: int = 1000
    ) -> Sequence[VoicemailInfo]:
        """The messages of an agent's own mailbox and of ``queues``' mailboxes, newest first."""
        mine: list[ColumnElement[bool]] = [VoicemailRow.queue.in_(queues)] if queues else []
        if agent is not None:
            mine.append(VoicemailRow.agent == agent)
        if not mine:
            return []
        stmt = select(VoicemailRow).where(or_(*mine)).order_by(VoicemailRow.id.desc())
        async with self.sessions() as session:
            return [_info(r) for r in (await session.execute(stmt.limit(limit))).scalars()]

    async def mark_heard(self, voicemail_id: int) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(VoicemailRow)
                .where(VoicemailRow.id == voicemail_id, VoicemailRow.heard_at.is_(None))
                .values(heard_at=datetime.now(UTC))
            )

    async def delete(self, voicemail_id: int) -> bool:
        """Remove the message: its row (so it is gone from the API too) and its audio file."""
        task = self._tasks.pop(voicemail_id, None)
        if task is not None:
            task.cancel()  # no mail of a message deleted meanwhile
        async with self.sessions.begin() as session:
            row = await session.get(VoicemailRow, voicemail_id)
            if row is None:
                return False
            path = Path(row.path)
            await session.delete(row)
        await asyncio.to_thread(path.unlink, True)
        log_event(log, "voicemail.deleted", voicemail_id=voicemail_id)
        return True

    async def get(self, voicemail_id: int) -> VoicemailInfo | None:
        async with self.sessions() as session:
            row = await session.get(VoicemailRow, voicemail_id)
            return _info(row) if row is not None else None

    # ------------------------------------------------------------------ mailing

    async def start(self) -> None:
        """Pick up messages whose mail had not gone out when the server last stopped."""
        async with self.sessions() as session:
            ids = (
                await session.execute(
                    select(VoicemailRow.id).where(VoicemailRow.mail_status == "pending")
                )
            ).scalars()
            for voicemail_id in ids:
                self._schedule(voicemail_id, 0.0)

    async def resend(self, voicemail_id: int) -> VoicemailInfo | None:
        """Send again now (after a failure, or to the current recipient once more)."""
        info = await self.get(voicemail_id)
        if info is None or not info.recipient:
            return info
        async with self.sessions.begin() as session:
            await session.execute(
                update(VoicemailRow)
                .where(VoicemailRow.id == voicemail_id)
                .values(mail_status="pending")
            )
        self._schedule(voicemail_id, 0.0, replace=True)
        return await self.get(voicemail_id)

    async def close(self) -> None:
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def idle(self) -> None:
        """Wait until no delivery is running or waiting (for tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def _schedule(self, voicemail_id: int, delay: float, *, replace: bool = False) -> None:
        if self._closed:
            return
        old = self._tasks.get(voicemail_id)
        if old is not None and not old.done():
            if not replace:
                return
            old.cancel()
        task = asyncio.create_task(self._deliver_later(voicemail_id, delay))
        self._tasks[voicemail_id] = task

        def forget(t: asyncio.Task[None], i: int = voicemail_id) -> None:
            if self._tasks.get(i) is t:
                self._tasks.pop(i, None)

        task.add_done_callback(forget)

    async def _deliver_later(self, voicemail_id: int, delay: float) -> None:
        while delay is not None:
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                delay = await self._deliver(voicemail_id)  # type: ignore[assignment]
            except Exception:  # a bug here must not stop other deliveries
                log.exception("voicemail %s: delivery failed unexpectedly", voicemail_id)
                return

    async def _deliver(self, voicemail_id: int) -> float | None:
        """One attempt; returns the delay before the next one, or None when done."""
        info = await self.get(voicemail_id)
        if info is None or info.mail_status != "pending" or not info.recipient:
            return None
        attempt = info.mail_attempts + 1
        language, zone = self.mailbox_locales.get((info.queue, info.agent), self.default_locale)
        try:
            wav = await asyncio.to_thread(info.path.read_bytes)
            msg = mail.voicemail_message(
                sender=self.smtp.sender,
                recipient=info.recipient,
                mailbox=self._mailbox_name(info),
                caller=info.a_number,
                dialled=info.b_number,
                received_at=info.created_at,
                seconds=info.duration,
                wav=wav,
                voicemail_id=info.id,
                language=language,
                zone=zone,
            )
            await self._send(self.smtp, msg)
        except (mail.MailError, OSError) as exc:
            delay = next_retry(attempt, self.retry_delays)
            status = "pending" if delay is not None else "failed"
            await self._update(
                voicemail_id, mail_status=status, mail_attempts=attempt, mail_error=str(exc)[:1000]
            )
            log_event(
                log,
                "voicemail.mail_failed",
                level=logging.WARNING,
                voicemail_id=voicemail_id,
                recipient=info.recipient,
                attempt=attempt,
                retry_in=delay if delay is not None else "never",
                error=str(exc),
            )
            return delay
        await self._update(
            voicemail_id,
            mail_status="sent",
            mail_attempts=attempt,
            mail_error=None,
            mailed_at=datetime.now(UTC),
            emailed_to=info.recipient,
        )
        log_event(
            log,
            "voicemail.mailed",
            voicemail_id=voicemail_id,
            recipient=info.recipient,
            attempt=attempt,
        )
        return None

    def _mailbox_name(self, info: VoicemailInfo) -> str:
        return self.mailbox_names.get((info.queue, info.agent)) or (
            f"queue {info.queue}" if info.queue else f"agent {info.agent}"
        )

    async def _update(self, voicemail_id: int, **values: Any) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(VoicemailRow).where(VoicemailRow.id == voicemail_id).values(**values)
            )


def wav_seconds(path: Path) -> float:
    """Length of a WAV file; 0 when it is missing or unreadable."""
    try:
        return float(sf.info(str(path)).duration)
    except (RuntimeError, OSError, sf.LibsndfileError):
        return 0.0
