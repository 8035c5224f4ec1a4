"""RFC 4733 telephone-events (DTMF digits carried in RTP), sans-IO.

Receiver: packets of one event share an RTP timestamp; the end bit is sent (usually three
times) when the key is released. Each digit is reported exactly once, with its duration.
Sender: a start packet with the marker bit, updates every 50 ms, three end packets.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from .events import DigitEvent

EVENT_CODES = "0123456789*#ABCD"
_PAYLOAD = struct.Struct("!BBH")
_END = 0x80


def digit_code(digit: str) -> int:
    code = EVENT_CODES.find(digit.upper()) if len(digit) == 1 else -1
    if code < 0:
        raise ValueError(f"not a DTMF digit: {digit!r} (expected one of {EVENT_CODES})")
    return code


@dataclass(slots=True)
class _Current:
    timestamp: int
    code: int
    duration: int
    last_seen: float


class Rfc4733Receiver:
    """Turns telephone-event payloads into DigitEvents, one per key press."""

    def __init__(self, clock_rate: int = 8000, lost_end_timeout: float = 0.3) -> None:
        self.clock_rate = clock_rate
        self.lost_end_timeout = lost_end_timeout
        self._current: _Current | None = None
        self._finished: deque[int] = deque(maxlen=16)  # timestamps already reported
        self.malformed = 0

    def receive(self, payload: bytes, timestamp: int, now: float) -> list[DigitEvent]:
        if len(payload) < 4:
            self.malformed += 1
            return []
        code, flags, duration = _PAYLOAD.unpack_from(payload)
        if code >= len(EVENT_CODES):
            return []  # other events (flash, tones) are not digits
        if timestamp in self._finished:
            return []  # redundant end packets / retransmissions
        out: list[DigitEvent] = []
        cur = self._current
        if cur is not None and cur.timestamp != timestamp:
            out.extend(self._finish())  # a new event started before the old one's end arrived
            cur = None
        if cur is None:
            cur = self._current = _Current(timestamp, code, duration, now)
        else:
            cur.duration = max(cur.duration, duration)
            cur.last_seen = now
        if flags & _END:
            out.extend(self._finish())
        return out

    def poll(self, now: float) -> list[DigitEvent]:
        """Report a digit whose end packets were all lost once updates stop arriving."""
        cur = self._current
        if cur is not None and now - cur.last_seen >= self.lost_end_timeout:
            return self._finish()
        return []

    def _finish(self) -> list[DigitEvent]:
        cur = self._current
        self._current = None
        if cur is None:
            return []
        self._finished.append(cur.timestamp)
        return [DigitEvent(EVENT_CODES[cur.code], cur.duration / self.clock_rate, "rfc4733")]


class Rfc4733Sender:
    """Produces the telephone-event payloads of one digit, one call per 20 ms frame.

    ``step()`` returns ``(payload, marker)`` for this frame or None when nothing is to be
    sent in this frame; ``done`` turns True after the third end packet.
    """

    def __init__(
        self,
        digit: str,
        duration: float = 0.1,
        *,
        volume: int = 10,
        frame_ms: int = 20,
        update_ms: int = 50,
        clock_rate: int = 8000,
    ) -> None:
        if not 0 <= volume <= 63:
            raise ValueError(f"telephone-event volume must be 0..63 (-dBm0), got {volume}")
        if duration <= 0:
            raise ValueError(f"DTMF duration must be positive, got {duration}")
        self.code = digit_code(digit)
        self.volume = volume
        self.frame_ms = frame_ms
        self.update_ms = update_ms
        self.samples_per_ms = clock_rate // 1000
        self.total_ms = max(frame_ms, int(round(duration * 1000 / frame_ms)) * frame_ms)
        self._elapsed_ms = 0
        self._next_update_ms = 0
        self._ends_sent = 0
        self.done = False

    def _payload(self, end: bool, ms: int) -> bytes:
        dur = min(ms * self.samples_per_ms, 0xFFFF)
        return _PAYLOAD.pack(self.code, (_END if end else 0) | self.volume, dur)

    def step(self) -> tuple[bytes, bool] | None:
        if self.done:
            return None
        if self._elapsed_ms >= self.total_ms:
            self._ends_sent += 1
            self.done = self._ends_sent >= 3
            return self._payload(True, self.total_ms), False
        out = None
        if self._elapsed_ms >= self._next_update_ms:
            first = self._elapsed_ms == 0
            # Duration so far counts the frame now starting, so updates grow in frame steps.
            out = self._payload(False, self._elapsed_ms + self.frame_ms), first
            self._next_update_ms += self.update_ms
        self._elapsed_ms += self.frame_ms
        return out
