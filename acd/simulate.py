"""Discrete-event simulation driving the ACD core in virtual time.

Used to check the ACD against queueing theory (``acd.erlang``) and for
what-if studies in ``bench/``.  Agents are simulated: an offer is answered
after ``answer_delay`` seconds and the call lasts ``handle_time()`` seconds.
Callers never abandon.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from acd.commands import Command, LogEvent, OfferCall
from acd.core import Acd
from acd.model import AgentConfig, AnswerGroup, Call, GroupMembership, QueueConfig, Strategy


@dataclass
class SimulationResult:
    """What happened: waits of answered calls, in arrival order of answer."""

    offered: int = 0
    answered: int = 0
    waits: list[float] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=dict)

    def share_answered_within(self, threshold: float) -> float:
        if not self.waits:
            return 0.0
        return sum(1 for w in self.waits if w <= threshold) / len(self.waits)


class Simulation:
    """A heap of timed actions plus the ACD; ``run`` processes them in time order."""

    def __init__(
        self,
        acd: Acd,
        *,
        handle_time: Callable[[], float],
        answer_delay: float = 0.0,
        observe: Callable[[Command], None] | None = None,
    ) -> None:
        self.acd = acd
        # Sees every command the ACD returns, in order (e.g. to feed statistics).
        self._observe = observe
        self.now = 0.0
        self.result = SimulationResult()
        self._handle_time = handle_time
        self._answer_delay = answer_delay
        self._heap: list[tuple[float, int, Callable[..., list[Command]], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._tick_at: float | None = None

    def at(self, t: float, fn: Callable[..., list[Command]], *args: Any) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), fn, args))

    def run(self, until: float | None = None) -> SimulationResult:
        while self._heap:
            t, _, fn, args = self._heap[0]
            if until is not None and t > until:
                break
            heapq.heappop(self._heap)
            self.now = t
            self._apply(fn(*args))
            deadline = self.acd.next_deadline()
            if deadline != self._tick_at:
                self._tick_at = deadline
                if deadline is not None:
                    self.at(max(deadline, self.now), self._tick, deadline)
        return self.result

    def _tick(self, deadline: float) -> list[Command]:
        if deadline != self._tick_at:
            return []  # superseded by a later re-arm
        self._tick_at = None
        return self.acd.tick(now=self.now)

    def _apply(self, commands: list[Command]) -> None:
        events = self.result.events
        answers: list[OfferCall] = []
        for c in commands:
            if self._observe is not None:
                self._observe(c)
            if isinstance(c, OfferCall):
                if self._answer_delay > 0:
                    self.at(self.now + self._answer_delay, self._answer, c.call.id, c.agent)
                else:
                    answers.append(c)  # answered at once, after this batch is applied
            elif isinstance(c, LogEvent):
                events[c.kind] = events.get(c.kind, 0) + 1
                if c.kind == "answered":
                    self.result.answered += 1
                    self.result.waits.append(c.data["wait"])
                    self.at(self.now + self._handle_time(), self._end, c.call_id)
                elif c.kind == "arrived":
                    self.result.offered += 1
        for offer in answers:
            self._apply(self._answer(offer.call.id, offer.agent))

    def _answer(self, call_id: str, agent_id: str) -> list[Command]:
        return self.acd.offer_answered(call_id, agent_id, now=self.now)

    def _end(self, call_id: str) -> list[Command]:
        return self.acd.call_ended(call_id, now=self.now)

    def _arrive(self, call: Call) -> list[Command]:
        return self.acd.call_arrived(call, now=self.now)

    def poisson_arrivals(
        self, queue: str, rate: float, count: int, rng: random.Random, start: float = 0.0
    ) -> None:
        """Schedule ``count`` arrivals with exponential gaps of mean ``1 / rate``."""
        t = start
        for i in range(count):
            t += rng.expovariate(rate)
            self.at(t, self._arrive, Call(id=f"c{i}", queue=queue, arrived_at=t))


def simulate_mmn(
    *,
    agents: int,
    aht: float,
    load: float,
    calls: int,
    seed: int = 1,
    strategy: str = "longest_idle",
    observe: Callable[[Command], None] | None = None,
) -> SimulationResult:
    """M/M/N in the ACD: one queue, ``agents`` agents answering at once, no wrap-up.

    Arrival rate is ``load / aht``; handle times are exponential with mean ``aht``.
    """
    rng = random.Random(seed)
    acd = Acd(
        [
            QueueConfig(
                id="q",
                answer_groups=("g",),
                strategy=cast(Strategy, strategy),  # QueueConfig converts the name
                ring_timeout=20.0,
            )
        ],
        [AnswerGroup("g")],
        [AgentConfig(id=f"a{i}", memberships=(GroupMembership("g"),)) for i in range(agents)],
    )
    sim = Simulation(acd, handle_time=lambda: rng.expovariate(1.0 / aht), observe=observe)
    for i in range(agents):
        sim._apply(acd.agent_login(f"a{i}", f"sip:a{i}@sim", now=0.0))
    sim.poisson_arrivals("q", load / aht, calls, rng)
    return sim.run()
