"""Estimated wait time (beräknad kötid) for position announcements.

Formula (also in ``docs/acd.md``)::

    EWT(k) = k * AHT / N

- ``k``: the caller's 1-based position among the calls waiting in the queue;
- ``N``: staffed agents: logged in to a serving answer group and not paused
  (ready, ringing, busy or in wrap-up);
- ``AHT``: mean handle time (talk + wrap-up) of the last ``window`` calls
  answered from the queue, or the queue's ``default_aht`` before any.

Why: with all N agents busy, agents free up at rate N / AHT, and the caller
at position k is answered after k such departures, so k * AHT / N is the
expected wait when handle times are exponential (M/M/N).  The memoryless
property is also why the time the caller has already waited is not
subtracted.  N = 0 gives ``None`` (unknown): no estimate is announced.
Limitation: agents shared with other queues are counted fully in each.
"""

from __future__ import annotations

from collections import deque


def estimated_wait(position: int, staffed_agents: int, aht: float) -> float | None:
    """Expected wait in seconds for ``position``; ``None`` when nobody is staffed."""
    if position < 1:
        raise ValueError(f"position: expected an integer >= 1, got {position!r}")
    if staffed_agents <= 0:
        return None
    return position * aht / staffed_agents


def new_caller_wait(waiting: int, ready: int, staffed: int, aht: float) -> float | None:
    """What a caller arriving now would be told: answered at once while a ready agent is
    left over, else the EWT for the position after the last waiting call."""
    if ready > waiting:
        return 0.0
    return estimated_wait(waiting + 1, staffed, aht)


class AhtTracker:
    """Rolling mean handle time over the last ``window`` answered calls."""

    def __init__(self, default_aht: float, window: int = 50) -> None:
        self.default_aht = default_aht
        self._times: deque[float] = deque(maxlen=window)
        self._sum = 0.0

    def add(self, handle_time: float) -> None:
        if len(self._times) == self._times.maxlen:
            self._sum -= self._times[0]
        self._times.append(handle_time)
        self._sum += handle_time

    @property
    def aht(self) -> float:
        if not self._times:
            return self.default_aht
        return self._sum / len(self._times)
