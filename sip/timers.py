"""SIP timer values (RFC 3261 section 17 and table 4) and a cheap deadline queue.

All values are seconds. Timers that the RFC sets to zero on reliable transports
(D, I, J, K) take a ``reliable`` flag.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timers:
    """Base timer values; every RFC 3261 timer A-K is derived from these."""

    t1: float = 0.5  # RTT estimate
    t2: float = 4.0  # maximum retransmit interval for non-INVITE requests and INVITE responses
    t4: float = 5.0  # maximum time a message stays in the network

    def __post_init__(self) -> None:
        if not (0 < self.t1 <= self.t2) or self.t4 <= 0:
            raise ValueError(
                f"timers: expected 0 < t1 <= t2 and t4 > 0, got t1={self.t1} t2={self.t2} "
                f"t4={self.t4}"
            )

    @property
    def a(self) -> float:
        """INVITE request retransmit interval (initial; doubles), unreliable only."""
        return self.t1

    @property
    def b(self) -> float:
        """INVITE transaction timeout."""
        return 64 * self.t1

    def d(self, reliable: bool) -> float:
        """Wait time for response retransmits in the INVITE client Completed state."""
        return 0.0 if reliable else max(32.0, 64 * self.t1)

    @property
    def e(self) -> float:
        """Non-INVITE request retransmit interval (initial; doubles up to T2), unreliable only."""
        return self.t1

    @property
    def f(self) -> float:
        """Non-INVITE transaction timeout."""
        return 64 * self.t1

    @property
    def g(self) -> float:
        """INVITE response retransmit interval (initial; doubles up to T2), unreliable only."""
        return self.t1

    @property
    def h(self) -> float:
        """Wait time for ACK receipt (also used for the 2xx retransmission give-up)."""
        return 64 * self.t1

    def i(self, reliable: bool) -> float:
        """Wait time for ACK retransmits in the INVITE server Confirmed state."""
        return 0.0 if reliable else self.t4

    def j(self, reliable: bool) -> float:
        """Wait time for non-INVITE request retransmits in the server Completed state."""
        return 0.0 if reliable else 64 * self.t1

    def k(self, reliable: bool) -> float:
        """Wait time for response retransmits in the non-INVITE client Completed state."""
        return 0.0 if reliable else self.t4

    def next_interval(self, interval: float) -> float:
        """Retransmit back-off: double, capped at T2 (timers E and G, 2xx retransmission)."""
        return min(2 * interval, self.t2)


DEFAULT_TIMERS = Timers()


class TimerEntry:
    """A scheduled callback; ``cancel()`` is O(1) (the heap drops it lazily)."""

    __slots__ = ("when", "seq", "callback")

    def __init__(self, when: float, seq: int, callback: Callable[[float], None]) -> None:
        self.when = when
        self.seq = seq
        self.callback: Callable[[float], None] | None = callback

    def cancel(self) -> None:
        self.callback = None

    @property
    def active(self) -> bool:
        return self.callback is not None

    def __lt__(self, other: TimerEntry) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)


class TimerQueue:
    """Min-heap of deadlines with lazy deletion: schedule and cancel are O(log n) / O(1)."""

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[TimerEntry] = []
        self._seq = itertools.count()

    def schedule(self, when: float, callback: Callable[[float], None]) -> TimerEntry:
        entry = TimerEntry(when, next(self._seq), callback)
        heapq.heappush(self._heap, entry)
        return entry

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and heap[0].callback is None:
            heapq.heappop(heap)
        return heap[0].when if heap else None

    def run_due(self, now: float) -> int:
        """Run every callback whose deadline is <= now (including ones scheduled meanwhile)."""
        heap = self._heap
        count = 0
        while heap and heap[0].when <= now:
            entry = heapq.heappop(heap)
            callback = entry.callback
            if callback is None:
                continue
            entry.callback = None
            callback(entry.when)
            count += 1
        return count

    def __len__(self) -> int:
        return sum(1 for e in self._heap if e.callback is not None)
