"""Agent selection strategies (S3): which eligible ready agent gets a call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from acd.model import Strategy


class Candidate(NamedTuple):
    """What a strategy may look at for one eligible, ready agent."""

    agent_id: str
    order: int  # position in the configured agent list (round robin)
    idle_since: float  # when the agent last became free
    calls: int  # calls answered since login
    level: int  # best (lowest) level in a group serving the queue


def _idle_key(c: Candidate) -> tuple[float, int]:
    return (c.idle_since, c.order)


def choose(
    strategy: Strategy,
    candidates: Sequence[Candidate],
    rr_last: int | None,
    n_agents: int,
) -> list[str]:
    """Agent ids to offer the call to: one agent, or every candidate for ring-all.

    ``rr_last`` is the configured order of the agent who last got an offer
    from this queue (round robin continues after it); ``n_agents`` the size
    of the agent list.  Ties are broken by longest idle, then configured order.
    """
    if not candidates:
        return []
    if strategy is Strategy.RING_ALL:
        return [c.agent_id for c in sorted(candidates, key=_idle_key)]
    if strategy is Strategy.LONGEST_IDLE:
        best = min(candidates, key=_idle_key)
    elif strategy is Strategy.FEWEST_CALLS:
        best = min(candidates, key=lambda c: (c.calls, *_idle_key(c)))
    elif strategy is Strategy.ORDERED:
        best = min(candidates, key=lambda c: (c.level, *_idle_key(c)))
    elif strategy is Strategy.ROUND_ROBIN:
        start = -1 if rr_last is None else rr_last
        best = min(candidates, key=lambda c: (c.order - start - 1) % max(1, n_agents))
    else:  # pragma: no cover - Strategy is closed
        raise ValueError(f"unknown strategy {strategy!r}")
    return [best.agent_id]
