"""Events a leg puts on its queue and the result objects of media operations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True, slots=True)
class DigitEvent:
    """A DTMF digit the caller keyed, reported once, when it ended."""

    digit: str
    duration: float  # seconds
    source: Literal["rfc4733", "inband"]


@dataclass(frozen=True, slots=True)
class RtpTimeout:
    """No RTP arrived on the leg for ``seconds`` (the configured no-RTP timeout)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class RtpResumed:
    """RTP arrived again after an RtpTimeout."""


@dataclass(frozen=True, slots=True)
class LegClosed:
    """The leg was closed; no further events follow."""


LegEvent = DigitEvent | RtpTimeout | RtpResumed | LegClosed


@dataclass(frozen=True, slots=True)
class PlayResult:
    reason: Literal["done", "digit", "stopped", "hangup"]
    frames: int  # frames actually sent
    digit: str | None = None


@dataclass(frozen=True, slots=True)
class DigitResult:
    digits: str
    reason: Literal["max", "terminator", "timeout", "hangup"]


@dataclass(frozen=True, slots=True)
class RecordResult:
    path: Path
    duration: float  # seconds of audio written
    reason: Literal["max", "hash", "silence", "stopped", "hangup"]


@dataclass(frozen=True, slots=True)
class BridgeResult:
    reason: Literal["stopped", "hangup"]
    duration: float
