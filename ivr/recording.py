"""What the recording services (prompt recording by phone, voicemail) need from a call.

``RecordingChannel`` extends the flow steps' ``CallerChannel`` idea with recording to a
file and playing a file back. The call controller implements it over a media leg; tests
use a scripted fake, so the dialogues run without sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from .flow import DigitResult

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Recording:
    path: Path
    seconds: float
    reason: str  # "hash", "silence", "max", "hangup", "stopped"


class RecordingChannel(Protocol):
    call_id: str
    a_number: str | None
    b_number: str
    language: str

    async def play(self, prompts: Sequence[str], *, barge_in: bool = False) -> str | None:
        """Play prompt names; with ``barge_in`` a key stops playback and is returned (it
        also stays queued for the next ``collect_digits``)."""

    async def play_file(self, path: Path, *, barge_in: bool = False) -> str | None:
        """Play an audio file (a recording being reviewed), same rules as ``play``."""

    async def collect_digits(
        self, max_digits: int, first_timeout: float, inter_timeout: float, terminator: str = "#"
    ) -> DigitResult: ...

    def flush_digits(self) -> None:
        """Forget keys pressed ahead (a stray '#' must not end the next recording)."""

    async def record_to(
        self, path: Path, max_seconds: float, silence_seconds: float | None
    ) -> Recording:
        """Record until '#', silence or ``max_seconds`` (the file is written even when the
        caller hangs up: then the task is cancelled after the file is complete)."""

    def recorded_seconds(self, path: Path) -> float:
        """Length of a recording file (0 when it is missing)."""

    async def log(self, kind: str, **data: object) -> None: ...


async def finish_even_if_cancelled(work: Awaitable[T]) -> T:
    """Await ``work`` shielded from a hang-up: when the call's task is cancelled meanwhile,
    ``work`` still runs to its end (the file it uses may be removed after) before the
    cancellation goes on."""
    running = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await asyncio.shield(running)
        raise
