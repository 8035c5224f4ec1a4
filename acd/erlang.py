"""Erlang C (M/M/N queue) formulas, used to check the ACD in simulation.

- ``A``: offered load in Erlang (arrival rate * average handle time);
- ``N``: number of agents; the queue is stable only when A < N.

``erlang_c(A, N)`` is the probability that a call has to wait;
``service_level(A, N, t, aht)`` = P(wait <= t) = 1 - C(A, N) * exp(-(N - A) * t / AHT);
``average_speed_of_answer(A, N, aht)`` = C(A, N) * AHT / (N - A).
"""

from __future__ import annotations

import math


def _check(load: float, agents: int) -> None:
    if not isinstance(agents, int) or agents < 1:
        raise ValueError(f"agents: expected an integer >= 1, got {agents!r}")
    if not (isinstance(load, int | float) and math.isfinite(load) and load >= 0):
        raise ValueError(f"load: expected Erlang >= 0, got {load!r}")


def erlang_b(load: float, agents: int) -> float:
    """Blocking probability of M/M/N/N, by the stable recurrence B(A,n) = A B / (n + A B)."""
    _check(load, agents)
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(load: float, agents: int) -> float:
    """Probability of waiting in M/M/N; 1.0 when the queue is unstable (A >= N)."""
    _check(load, agents)
    if load >= agents:
        return 1.0
    b = erlang_b(load, agents)
    return agents * b / (agents - load * (1 - b))


def service_level(load: float, agents: int, threshold: float, aht: float) -> float:
    """P(wait <= threshold seconds) for M/M/N with mean handle time ``aht``."""
    if threshold < 0 or aht <= 0:
        raise ValueError("threshold must be >= 0 and aht > 0 seconds")
    c = erlang_c(load, agents)
    if load >= agents:
        return 0.0
    return 1.0 - c * math.exp(-(agents - load) * threshold / aht)


def average_speed_of_answer(load: float, agents: int, aht: float) -> float:
    """Mean wait over all calls in M/M/N; infinite when A >= N."""
    if load >= agents:
        return math.inf
    return erlang_c(load, agents) * aht / (agents - load)
