"""Voicemail: the caller leaves a message after the tone; it is kept and handed on.

``#``, silence or the maximum length ends the message; so does hanging up, which is how
most callers finish: the message recorded so far is stored all the same. What happens to
a stored message (a database row, an email with the WAV) is the mailbox's business,
passed in as ``VoicemailBox``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .recording import Recording, RecordingChannel, finish_even_if_cancelled


@dataclass(frozen=True)
class VoicemailSettings:
    max_seconds: float = 180.0
    silence_seconds: float | None = 6.0
    # Shorter than this is a caller who hung up at the tone: nothing to send.
    min_seconds: float = 1.0


@dataclass(frozen=True, slots=True)
class VoicemailResult:
    outcome: str  # "stored", "empty", "hangup" (stored, caller gone), "failed"
    voicemail_id: int | None = None
    seconds: float = 0.0


class VoicemailBox(Protocol):
    async def store(self, recording: Recording) -> int:
        """Keep the message (file + row) and arrange delivery; returns its id."""

    def discard(self, path: Path) -> None:
        """Remove a recording that is not kept."""


async def leave_voicemail(
    ch: RecordingChannel,
    box: VoicemailBox,
    path: Path,
    greeting: str = "voicemail-prompt",
    settings: VoicemailSettings = VoicemailSettings(),
) -> VoicemailResult:
    await ch.play([greeting, "beep"])
    ch.flush_digits()
    try:
        rec = await ch.record_to(path, settings.max_seconds, settings.silence_seconds)
    except asyncio.CancelledError:
        # The caller hung up (the controller cancels the call's task on BYE); the file is
        # complete by now. Keep the message, then let the cancellation go on.
        rec = Recording(path, ch.recorded_seconds(path), "hangup")
        await finish_even_if_cancelled(_keep(ch, box, rec, settings))
        raise
    # A BYE right after '#': the message is kept all the same.
    result = await finish_even_if_cancelled(_keep(ch, box, rec, settings))
    if rec.reason != "hangup":
        await ch.play(["voicemail-saved" if result.outcome == "stored" else "goodbye"])
    return result


async def _keep(
    ch: RecordingChannel, box: VoicemailBox, rec: Recording, settings: VoicemailSettings
) -> VoicemailResult:
    if rec.seconds < settings.min_seconds:
        box.discard(rec.path)
        await ch.log("voicemail_empty", seconds=round(rec.seconds, 2), reason=rec.reason)
        return VoicemailResult("empty", seconds=rec.seconds)
    voicemail_id = await box.store(rec)
    await ch.log(
        "voicemail_stored", voicemail_id=voicemail_id, seconds=round(rec.seconds, 2), end=rec.reason
    )
    outcome = "hangup" if rec.reason == "hangup" else "stored"
    return VoicemailResult(outcome, voicemail_id, rec.seconds)
