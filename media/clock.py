"""The one media clock that paces every outgoing stream of the process, sans-IO.

Streams are spread over ``phases`` sub-ticks of the 20 ms frame (e.g. 4 phases of 5 ms), so a
tick sends a quarter of the streams and send times stay close to each stream's own 20 ms grid
even with a thousand streams. The runner (media/engine.py) sleeps until ``next_deadline()``
and sends what ``tick(now)`` returns. When the loop was late, the missed frames are sent at
once, but at most ``max_catch_up`` frames per stream; older ones are skipped.
"""

from __future__ import annotations

import math
from typing import Protocol


class ClockedStream(Protocol):
    def next_packet(self) -> bytes | None: ...
    def skip_frames(self, n: int) -> None: ...


class MediaClock:
    def __init__(
        self,
        start: float,
        *,
        frame: float = 0.020,
        phases: int = 4,
        max_catch_up: int = 3,
    ) -> None:
        if phases < 1 or max_catch_up < 1:
            raise ValueError("media clock needs phases >= 1 and max_catch_up >= 1")
        self.start = start
        self.frame = frame
        self.phases = phases
        self.step = frame / phases
        self.max_catch_up = max_catch_up
        self._groups: list[dict[ClockedStream, None]] = [{} for _ in range(phases)]
        self._group_of: dict[ClockedStream, int] = {}
        self._next = 0  # index of the next sub-tick to run
        self.skipped_subticks = 0

    def __len__(self) -> int:
        return len(self._group_of)

    def add(self, stream: ClockedStream) -> None:
        if stream in self._group_of:
            return
        g = min(range(self.phases), key=lambda i: len(self._groups[i]))
        self._groups[g][stream] = None
        self._group_of[stream] = g

    def remove(self, stream: ClockedStream) -> None:
        g = self._group_of.pop(stream, None)
        if g is not None:
            self._groups[g].pop(stream, None)

    def deadline(self, subtick: int) -> float:
        return self.start + subtick * self.step

    def next_deadline(self) -> float:
        return self.deadline(self._next)

    def grid_time(self, stream: ClockedStream, frame_index: int) -> float:
        return self.start + frame_index * self.frame + self._group_of[stream] * self.step

    def tick_batches(self, now: float) -> list[tuple[float, list[tuple[ClockedStream, bytes]]]]:
        """Run every sub-tick due by ``now``; returns (deadline, packets) per sub-tick run."""
        due_until = math.floor((now - self.start) / self.step + 1e-9)  # last due sub-tick
        if due_until < self._next:
            return []
        limit = self.max_catch_up * self.phases
        first = self._next
        if due_until - first + 1 > limit:
            skip_to = due_until - limit + 1
            for i in range(first, skip_to):
                for s in tuple(self._groups[i % self.phases]):
                    s.skip_frames(1)
            self.skipped_subticks += skip_to - first
            first = skip_to
        out = []
        for i in range(first, due_until + 1):
            packets: list[tuple[ClockedStream, bytes]] = []
            append = packets.append
            for s in tuple(self._groups[i % self.phases]):
                pkt = s.next_packet()
                if pkt is not None:
                    append((s, pkt))
            out.append((self.deadline(i), packets))
        self._next = due_until + 1
        return out

    def tick(self, now: float) -> list[tuple[ClockedStream, bytes]]:
        """All packets due by ``now``, in send order."""
        return [p for _, packets in self.tick_batches(now) for p in packets]
