"""A scripted caller for the recording dialogues: keys, takes and what was played."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path

from ivr import DigitResult
from ivr.recording import Recording

TIMEOUT = None  # a script token: nothing pressed before the wait ran out
HANGUP = "H"  # a script token: the caller hangs up while the dialogue waits for keys


class FakeChannel:
    """Keys are consumed by ``collect_digits`` like the media leg's type-ahead buffer; a
    barge-in ``play`` returns the next queued key without consuming it. ``takes`` are
    (seconds, reason) per recording; reason "cancel" raises CancelledError as a BYE does."""

    def __init__(
        self,
        keys: Iterable[str | None] = (),
        takes: Iterable[tuple[float, str]] = (),
        a_number: str | None = "0700000190",
        language: str = "sv",
    ) -> None:
        self.call_id = "call-1"
        self.a_number = a_number
        self.b_number = "191"
        self.language = language
        self.keys: deque[str | None] = deque()
        for token in keys:
            if token in (TIMEOUT, HANGUP):
                self.keys.append(token)
            else:
                self.keys.extend(token)  # "1919#" is five key presses
        self.takes = deque(takes)
        self.played: list[str] = []
        self.played_files: list[Path] = []
        # For each file played: the prompts of the last ``play`` before it.
        self.spoken_before_file: list[list[str]] = []
        self._last_play: list[str] = []
        self.recorded: list[Path] = []
        self.logged: list[tuple[str, dict]] = []
        self.flushes = 0
        self._last_seconds = 0.0

    def kinds(self) -> list[str]:
        return [k for k, _ in self.logged]

    async def play(self, prompts: Sequence[str], *, barge_in: bool = False) -> str | None:
        self.played.extend(prompts)
        self._last_play = list(prompts)
        return self._peek() if barge_in else None

    async def play_file(self, path: Path, *, barge_in: bool = False) -> str | None:
        self.played_files.append(path)
        self.spoken_before_file.append(self._last_play)
        return self._peek() if barge_in else None

    def _peek(self) -> str | None:
        return self.keys[0] if self.keys and self.keys[0] not in (TIMEOUT, HANGUP) else None

    async def collect_digits(self, max_digits, first_timeout, inter_timeout, terminator="#"):
        digits = ""
        while True:
            if not self.keys:
                return DigitResult(digits, "timeout")
            token = self.keys.popleft()
            if token is TIMEOUT:
                return DigitResult(digits, "timeout")
            if token == HANGUP:
                return DigitResult(digits, "hangup")
            if terminator and token == terminator:
                return DigitResult(digits, "terminator")
            digits += token
            if len(digits) >= max_digits:
                return DigitResult(digits, "max")

    def flush_digits(self) -> None:
        self.flushes += 1  # the script holds future keys: nothing typed ahead to drop

    async def record_to(self, path: Path, max_seconds: float, silence_seconds: float | None):
        seconds, reason = self.takes.popleft()
        self.recorded.append(path)
        self._last_seconds = seconds
        if reason == "cancel":
            raise asyncio.CancelledError
        return Recording(path, seconds, reason)

    def recorded_seconds(self, path: Path) -> float:
        return self._last_seconds

    async def log(self, kind: str, **data: object) -> None:
        self.logged.append((kind, data))
